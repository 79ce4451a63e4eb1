import fs from "node:fs";
import path from "node:path";
import { parseBuildEvents, reportsFromBuildEvents, BEP_CAVEAT } from "./bep";
import { runCommand } from "./process";
import type { TargetReport } from "./report";

/**
 * How long `bazel --version` may take before Bazel counts as unusable. A Bazel that bazelisk has
 * already downloaded answers in well under a second; `auto` does not wait for a download (where
 * downloads fail, bazelisk retries for ~20 s on every run). `--engine bazel` waits for it.
 */
export const BAZEL_PROBE_TIMEOUT_MS = 2000;

export interface Probe {
  usable: boolean;
  /** What was found, for the log: a version, or why Bazel cannot be used. */
  detail: string;
}

/** The bazelisk launcher from the root devDependencies. */
export function bazelLauncher(root: string): string {
  return path.join(root, "node_modules", ".bin", "bazel");
}

/**
 * Whether Bazel can actually start here: the workspace has a MODULE.bazel, bazelisk is installed,
 * and `bazel --version` (which makes bazelisk fetch Bazel but starts no server) answers in time.
 * Where bazelisk cannot download Bazel it retries for ~20 s, so the probe has its own short timeout.
 */
export async function probeBazel(root: string, timeoutMs = BAZEL_PROBE_TIMEOUT_MS, signal?: AbortSignal): Promise<Probe> {
  if (!fs.existsSync(path.join(root, "MODULE.bazel"))) return { usable: false, detail: "no MODULE.bazel in the workspace" };
  const launcher = bazelLauncher(root);
  if (!fs.existsSync(launcher)) return { usable: false, detail: `${path.relative(root, launcher)} is missing (run pnpm install)` };
  const result = await runCommand(launcher, ["--version"], { cwd: root, timeoutMs, signal });
  if (result.timedOut) return { usable: false, detail: `\`bazel --version\` gave no answer within ${timeoutMs / 1000}s` };
  const lines = result.output.trim().split("\n");
  if (result.exitCode !== 0) return { usable: false, detail: `\`bazel --version\` failed: ${lines.at(-1)?.slice(0, 200) ?? ""}` };
  return { usable: true, detail: lines.at(-1) ?? "bazel" };
}

export interface BazelTestOptions {
  root: string;
  artifacts: string;
  /** Target patterns, negative ones ("-//x:y") included. */
  patterns: string[];
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

export interface BazelTestResult {
  exitCode: number | null;
  targets: TargetReport[];
  log: string;
  caveat: string;
}

/**
 * `bazel test --config=ci` over the patterns. Flaky attempts come from .bazelrc (flaky_test_attempts),
 * caching from Bazel's own remote cache. The build event file is written into the artifacts folder
 * (the command line overrides whatever path .bazelrc sets) and read back for the report.
 */
export async function runBazelTests(options: BazelTestOptions): Promise<BazelTestResult> {
  const events = path.join(options.artifacts, "build-events.json");
  const log = path.join(options.artifacts, "logs", "bazel-test.log");
  fs.rmSync(events, { force: true });
  const result = await runCommand(
    bazelLauncher(options.root),
    ["test", "--config=ci", `--build_event_json_file=${events}`, "--", ...options.patterns],
    { cwd: options.root, env: options.env, logFile: log, signal: options.signal },
  );
  const text = fs.existsSync(events) ? fs.readFileSync(events, "utf8") : "";
  const targets = reportsFromBuildEvents(parseBuildEvents(text), options.artifacts);
  return { exitCode: result.exitCode, targets, log: path.relative(options.artifacts, log), caveat: BEP_CAVEAT };
}
