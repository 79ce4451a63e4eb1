import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import type { AttemptReport, TargetReport } from "./report";
import { junitCounts, junitFailedTests } from "./results";

/** The artifacts subfolder of the runfiles-layout run: report.json and testlogs/, as `bazel-tools runfiles-test` writes them. */
export const RUNFILES_DIR = "runfiles";

/** The package whose CLI runs the runfiles-layout mode, found in the workspace root's node_modules. */
export const BAZEL_TOOLS_PACKAGE = "@monorepo/bazel-tools";

/** One attempt as `bazel-tools runfiles-test --json` reports it (paths relative to its output folder). */
export interface RunfilesAttempt {
  attempt: number;
  status: "PASSED" | "FAILED" | "TIMEOUT" | "INCOMPLETE";
  exitCode: number | null;
  durationMs: number;
  /** Entries of the read-only output and runfiles trees the attempt added, changed or removed. */
  writes: string[];
  log: string;
  junit?: string;
}

/** One target as `bazel-tools runfiles-test --json` reports it. */
export interface RunfilesTargetReport {
  label: string;
  status: RunfilesAttempt["status"] | "FLAKY" | "FAILED_TO_BUILD";
  attemptsAllowed: number;
  attempts: RunfilesAttempt[];
  /** Why a target never ran (its runfiles could not be laid out). */
  note?: string;
}

type RunfilesEvent =
  | { event: "start"; labels: string[]; jobs: number }
  | { event: "attempt"; label: string; allowed: number; attempt: RunfilesAttempt }
  | { event: "target"; target: RunfilesTargetReport }
  | { event: "done"; report: { targets: RunfilesTargetReport[] } };

export interface RunfilesStageOptions {
  root: string;
  /** Absolute path of the artifacts folder; results go to its runfiles/ subfolder. */
  artifacts: string;
  jobs: number;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onAttempt?: (label: string, attempt: AttemptReport, allowed: number) => void;
}

/**
 * The workspace's own runfiles-layout CLI, as its root node_modules links it (the way the pipeline
 * runs the workspace's jest): the pipeline runs it as a process rather than importing it, so a
 * change to the Bazel tools does not make the pipeline's own code, or its tests, depend on them.
 */
export function runfilesCli(root: string): string {
  // pnpm links every dependency of the root package.json here.
  const installed = path.join(root, "node_modules", BAZEL_TOOLS_PACKAGE);
  const manifest = path.join(installed, "package.json");
  if (!fs.existsSync(manifest))
    throw new Error(`${BAZEL_TOOLS_PACKAGE} is not installed in ${root}/node_modules: the root package.json must list it`);
  const bin = (JSON.parse(fs.readFileSync(manifest, "utf8")) as { bin?: Record<string, string> }).bin?.["bazel-tools"];
  if (!bin) throw new Error(`${manifest} has no "bazel-tools" bin`);
  return path.join(installed, bin);
}

/**
 * Every non-manual jest_test (`//...`, as `bazel test //...` selects) in the runfiles layout rules_jest
 * would give it, on the compiled outputs the build stage has just written: nothing is rebuilt.
 * Returns one report per target, marked with its layout. An interrupt stops the run, which still
 * reports what ran.
 */
export async function runRunfilesStage(options: RunfilesStageOptions): Promise<TargetReport[]> {
  const cli = runfilesCli(options.root);
  const args = [cli, "runfiles-test", "--json", "--root", options.root, "--artifacts", options.artifacts, "--jobs", String(options.jobs)];
  // Its own process group: a Ctrl-C reaches the pipeline alone, which passes on one SIGTERM so that
  // the run stops its tests and still reports (a second signal would end it at once).
  const child = spawn(process.execPath, args, { cwd: options.root, env: options.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const onAbort = () => child.kill("SIGTERM");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  // Settles only once the process is gone, whether it exited or could not start.
  const exited = new Promise<{ code: number | null; error?: Error }>((resolve) => {
    child.on("error", (error) => resolve({ code: null, error }));
    child.on("close", (code) => resolve({ code }));
  });
  let report: { targets: RunfilesTargetReport[] } | undefined;
  try {
    for await (const line of readline.createInterface({ input: child.stdout, crlfDelay: Infinity })) {
      if (!line.startsWith("{")) continue;
      const event = JSON.parse(line) as RunfilesEvent;
      if (event.event === "attempt") options.onAttempt?.(event.label, attemptReport(event.attempt, options.artifacts), event.allowed);
      else if (event.event === "done") report = event.report;
    }
    const { code, error } = await exited;
    if (error) throw new Error(`cannot start ${cli}: ${error.message}`);
    if (!report) throw new Error(stderr.trim().split("\n").at(-1) || `${cli} exited ${code} without a report`);
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    // Stops a run whose output could not be read, so that no test outlives the stage.
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  }
  return report.targets.map((target) => targetReport(target, options.artifacts));
}

/** A runfiles-mode target in the pipeline's report shape: paths relative to the artifacts folder, counts from its JUnit file. */
export function targetReport(target: RunfilesTargetReport, artifacts: string): TargetReport {
  return {
    label: target.label,
    layout: "runfiles",
    status: target.status,
    attemptsAllowed: target.attemptsAllowed,
    attempts: target.attempts.map((attempt) => attemptReport(attempt, artifacts)),
    ...(target.note ? { note: target.note } : {}),
  };
}

/**
 * An attempt's JUnit XML. An attempt event names test_attempts/attempt_N.xml, which the run moves
 * to test.xml right after the deciding attempt (as bazel-testlogs has it), often before this
 * process reads the event: then it is there.
 */
function readJunit(attempt: RunfilesAttempt, artifacts: string): string | undefined {
  if (!attempt.junit) return undefined;
  const named = path.join(artifacts, RUNFILES_DIR, attempt.junit);
  const promoted = path.join(path.dirname(path.dirname(named)), "test.xml");
  const candidates = path.basename(path.dirname(named)) === "test_attempts" ? [named, promoted] : [named];
  for (const file of candidates) {
    try {
      return fs.readFileSync(file, "utf8");
    } catch {
      // Moved between the event and this read, or never written.
    }
  }
  return undefined;
}

function attemptReport(attempt: RunfilesAttempt, artifacts: string): AttemptReport {
  const inArtifacts = (file: string) => path.join(RUNFILES_DIR, file);
  const xml = readJunit(attempt, artifacts);
  const tests = xml ? junitCounts(xml) : undefined;
  const writes = attempt.writes.length > 0 ? `wrote into the read-only runfiles or output tree: ${attempt.writes.join("; ")}` : undefined;
  const failedRun = attempt.status !== "PASSED" && attempt.writes.length === 0 && (tests?.failed ?? 0) === 0;
  const error = writes ?? (failedRun ? (attempt.status === "TIMEOUT" ? "timed out" : `exit ${attempt.exitCode}`) : undefined);
  return {
    attempt: attempt.attempt,
    status: attempt.status,
    durationMs: attempt.durationMs,
    ...(tests ? { tests } : {}),
    // jest-junit names a test "<describe> <title>": a test outside any describe starts with a space.
    failedTests: xml ? junitFailedTests(xml).map((name) => name.trim()) : [],
    ...(error ? { error } : {}),
    ...(attempt.junit ? { junit: inArtifacts(attempt.junit) } : {}),
    log: inArtifacts(attempt.log),
  };
}
