import fs from "node:fs";
import path from "node:path";
import { type RunfilesAttempt, type RunfilesTargetReport, runRunfilesTests } from "@monorepo/workspace-tools";
import type { AttemptReport, TargetReport } from "./report";
import { junitCounts, junitFailedTests } from "./results";

/** The artifacts subfolder of the runfiles-layout run: report.json and testlogs/, as `workspace-tools runfiles-test` writes them. */
export const RUNFILES_DIR = "runfiles";

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
 * Every non-manual jest_test (`//...`, as `bazel test //...` selects) in the runfiles layout rules_jest
 * would give it, on the compiled outputs the build stage has just written: nothing is rebuilt.
 * Returns one report per target, marked with its layout.
 */
export async function runRunfilesStage(options: RunfilesStageOptions): Promise<TargetReport[]> {
  const outputDir = path.join(options.artifacts, RUNFILES_DIR);
  const report = await runRunfilesTests({
    root: options.root,
    outputDir,
    jobs: options.jobs,
    env: options.env,
    signal: options.signal,
    onAttempt: (label, attempt, allowed) => options.onAttempt?.(label, attemptReport(attempt, options.artifacts), allowed),
  });
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

function attemptReport(attempt: RunfilesAttempt, artifacts: string): AttemptReport {
  const inArtifacts = (file: string) => path.join(RUNFILES_DIR, file);
  const xmlFile = attempt.junit ? path.join(artifacts, inArtifacts(attempt.junit)) : undefined;
  const xml = xmlFile && fs.existsSync(xmlFile) ? fs.readFileSync(xmlFile, "utf8") : undefined;
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
