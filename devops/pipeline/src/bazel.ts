import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BEP_CAVEAT, parseBuildEvents, reportsFromBuildEvents } from "./bep";
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
 * Where bazelisk keeps what it downloads: BAZELISK_HOME, else "bazelisk" in the user cache folder
 * (Go's os.UserCacheDir, which bazelisk uses).
 */
export function bazeliskHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BAZELISK_HOME) return env.BAZELISK_HOME;
  const home = env.HOME ?? os.homedir();
  if (process.platform === "darwin") return path.join(home, "Library", "Caches", "bazelisk");
  if (process.platform === "win32") return path.join(env.LOCALAPPDATA ?? path.join(home, "AppData", "Local"), "bazelisk");
  return path.join(env.XDG_CACHE_HOME || path.join(home, ".cache"), "bazelisk");
}

/**
 * Whether bazelisk holds a downloaded Bazel: a bin/bazel under its downloads folder, wherever that
 * bazelisk version files it (by fork and version, or by checksum).
 */
export function hasDownloadedBazel(home: string): boolean {
  const search = (dir: string, depth: number): boolean => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return false;
    }
    if (path.basename(dir) === "bin" && entries.some((e) => !e.isDirectory() && /^bazel(\.exe)?$/.test(e.name))) return true;
    return depth > 0 && entries.some((e) => e.isDirectory() && search(path.join(dir, e.name), depth - 1));
  };
  return search(path.join(home, "downloads"), 4);
}

/**
 * Whether Bazel can actually start here: the workspace has a MODULE.bazel, bazelisk is installed and
 * has downloaded a Bazel, and `bazel --version` (which starts no server) answers in time. Without a
 * download bazelisk would try one, retrying for ~20 s where downloads fail, so `auto` does not run it
 * then; and the probe has its own short timeout.
 */
export async function probeBazel(
  root: string,
  timeoutMs = BAZEL_PROBE_TIMEOUT_MS,
  signal?: AbortSignal,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Probe> {
  if (!fs.existsSync(path.join(root, "MODULE.bazel"))) return { usable: false, detail: "no MODULE.bazel in the workspace" };
  const launcher = bazelLauncher(root);
  if (!fs.existsSync(launcher)) return { usable: false, detail: `${path.relative(root, launcher)} is missing (run pnpm install)` };
  const home = bazeliskHome(env);
  if (!hasDownloadedBazel(home))
    return { usable: false, detail: `bazelisk has downloaded no Bazel into ${home} (--engine bazel lets it download)` };
  const result = await runCommand(launcher, ["--version"], { cwd: root, timeoutMs, signal, env });
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
