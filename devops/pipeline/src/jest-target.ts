import fs from "node:fs";
import path from "node:path";
import { type RunResult, runPackageScript } from "./process";
import type { AttemptReport, TargetReport, TestStatus } from "./report";
import { summarizeJest } from "./results";
import { type TestTarget, testlogsDir } from "./targets";

/** Tests run with simulated waits shrunk 100x unless the caller chose a scale. */
export const DEFAULT_TEST_TIME_SCALE = "0.01";
/** A guard against a hung suite, far above any healthy run. */
const ATTEMPT_TIMEOUT_MS = 30 * 60 * 1000;

export interface JestTargetOptions {
  root: string;
  artifacts: string;
  /** Total attempts, the first one included (1 for a target not declared flaky). */
  attempts: number;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Called after each attempt, to print its outcome. */
  onAttempt?: (target: TestTarget, attempt: AttemptReport, allowed: number) => void;
}

/**
 * jest-junit is a root devDependency. With pnpm's isolated layout it resolves from a package folder
 * through the parent node_modules; when it does not (a package outside the root), jest is given the
 * root's copy by path.
 */
export function jestJunitReporter(root: string, packageDir: string): string {
  try {
    require.resolve("jest-junit", { paths: [packageDir] });
    return "jest-junit";
  } catch {
    return path.dirname(require.resolve("jest-junit/package.json", { paths: [root] }));
  }
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

/**
 * Runs one jest target up to `attempts` times, stopping at the first pass; each attempt's log,
 * JUnit XML and jest JSON are kept. The layout copies bazel-testlogs: earlier attempts in
 * test_attempts/attempt_N.*, the deciding (last) one as test.*.
 */
export async function runJestTarget(target: TestTarget, options: JestTargetOptions): Promise<TargetReport> {
  const packageDir = path.join(options.root, target.dir);
  const outDir = testlogsDir(options.artifacts, target.label);
  fs.rmSync(outDir, { recursive: true, force: true });
  const attemptsDir = path.join(outDir, "test_attempts");
  fs.mkdirSync(attemptsDir, { recursive: true });
  const reporter = jestJunitReporter(options.root, packageDir);
  const rel = (file: string) => path.relative(options.artifacts, file);
  const baseEnv = options.env ?? process.env;
  const attempts: AttemptReport[] = [];
  let script: string;
  try {
    script = readScript(packageDir, target.script);
  } catch (error) {
    return { label: target.label, status: "FAILED", attemptsAllowed: options.attempts, attempts, note: (error as Error).message };
  }

  for (let n = 1; n <= options.attempts; n++) {
    const stem = path.join(attemptsDir, `attempt_${n}`);
    const files = { log: `${stem}.log`, xml: `${stem}.xml`, json: `${stem}.json` };
    const env = {
      ...baseEnv,
      SIMULATION_TIME_SCALE: baseEnv.SIMULATION_TIME_SCALE ?? DEFAULT_TEST_TIME_SCALE,
      JEST_JUNIT_OUTPUT_FILE: files.xml,
      // jest's CI mode refuses to write missing snapshots instead of passing with new ones.
      CI: baseEnv.CI ?? "true",
      // Logs are files: no colour codes in them.
      FORCE_COLOR: "0",
    };
    const result = await runPackageScript(
      options.root,
      packageDir,
      script,
      ["--json", `--outputFile=${files.json}`, "--reporters=default", `--reporters=${reporter}`],
      { env, logFile: files.log, signal: options.signal, timeoutMs: options.timeoutMs ?? ATTEMPT_TIMEOUT_MS },
    );
    const json = readJson(files.json);
    let summary: ReturnType<typeof summarizeJest> | undefined;
    try {
      summary = json === undefined ? undefined : summarizeJest(json, packageDir);
    } catch {
      summary = undefined;
    }
    let status: TestStatus;
    if (result.aborted) status = "INCOMPLETE";
    else if (result.timedOut) status = "TIMEOUT";
    else if (result.exitCode === 0 && summary?.success) status = "PASSED";
    else status = "FAILED";
    const attempt: AttemptReport = {
      attempt: n,
      status,
      durationMs: result.durationMs,
      ...(summary ? { tests: { passed: summary.passed, failed: summary.failed } } : {}),
      failedTests: summary?.failedTests ?? [],
      ...(summary || status === "PASSED" ? {} : { error: noResultsReason(result, files.log) }),
      ...(fs.existsSync(files.xml) ? { junit: rel(files.xml) } : {}),
      log: rel(files.log),
    };
    attempts.push(attempt);
    options.onAttempt?.(target, attempt, options.attempts);
    if (status === "PASSED" || status === "INCOMPLETE") break;
  }

  promoteLastAttempt(attempts, options.artifacts, outDir);
  const last = attempts.at(-1)!;
  const status: TestStatus = last.status === "PASSED" && attempts.length > 1 ? "FLAKY" : last.status;
  return { label: target.label, status, attemptsAllowed: options.attempts, attempts };
}

/** Why an attempt left no jest results: a timeout, or the first line jest (or the shell) printed. */
function noResultsReason(result: RunResult, log: string): string {
  if (result.timedOut) return "timed out";
  if (result.aborted) return "interrupted";
  const text = fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "";
  const first = text.split("\n").find((line) => line.trim() !== "");
  return `no jest results (exit ${result.exitCode})${first ? `: ${first.trim()}` : ""}`;
}

function readScript(packageDir: string, script: string): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8")) as { scripts?: Record<string, string> };
  const command = manifest.scripts?.[script];
  if (!command) throw new Error(`${path.join(packageDir, "package.json")} has no "${script}" script`);
  return command;
}

/** Moves the deciding attempt's files to test.{log,xml,json}, as Bazel keeps the last attempt at the top. */
function promoteLastAttempt(attempts: AttemptReport[], artifacts: string, outDir: string): void {
  const last = attempts.at(-1)!;
  const move = (relative: string | undefined, ext: string): string | undefined => {
    if (!relative) return undefined;
    const target = path.join(outDir, `test.${ext}`);
    fs.renameSync(path.join(artifacts, relative), target);
    return path.relative(artifacts, target);
  };
  const stem = path.join(outDir, "test_attempts", `attempt_${last.attempt}`);
  if (fs.existsSync(`${stem}.json`)) fs.renameSync(`${stem}.json`, path.join(outDir, "test.json"));
  last.log = move(last.log, "log");
  last.junit = move(last.junit, "xml");
  if (attempts.length === 1) fs.rmSync(path.join(outDir, "test_attempts"), { recursive: true, force: true });
}
