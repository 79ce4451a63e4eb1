import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type AttemptReport, type TargetReport, TEST_STATUSES, type TestCounts, type TestStatus } from "./report";
import { junitCounts, junitFailedTests } from "./results";
import { testlogsDir } from "./targets";

/**
 * Reading Bazel's Build Event Protocol as written by --build_event_json_file: one JSON object per
 * line, proto3 JSON of build_event_stream.BuildEvent (lowerCamelCase field names, int64 as strings,
 * enums by name, default values omitted). The events used:
 *   id.testResult {label, run, shard, attempt} + testResult {status, cachedLocally, testAttemptDurationMillis
 *     | testAttemptDuration, testActionOutput [{name: "test.log" | "test.xml", uri}], executionInfo.cachedRemotely}
 *   id.testSummary {label} + testSummary {overallStatus, attemptCount, totalRunCount, ...}
 *   id.targetSummary {label} + targetSummary {overallTestStatus} (a test that failed to build may have no testSummary)
 * This parser follows the .proto definitions; it has NOT been checked against the output of a real
 * Bazel run, because Bazel could not run where it was written.
 */
export const BEP_CAVEAT =
  "Built from Bazel's build event JSON file; the parser follows build_event_stream.proto but has not been checked against a real Bazel run.";

interface BepFile {
  name?: string;
  uri?: string;
}

interface BepEvent {
  id?: {
    testResult?: { label?: string; run?: number; shard?: number; attempt?: number };
    testSummary?: { label?: string };
    targetSummary?: { label?: string };
  };
  testResult?: {
    status?: string;
    cachedLocally?: boolean;
    testAttemptDurationMillis?: string | number;
    testAttemptDuration?: string;
    testActionOutput?: BepFile[];
    executionInfo?: { cachedRemotely?: boolean };
  };
  testSummary?: { overallStatus?: string; attemptCount?: number; totalRunCount?: number };
  targetSummary?: { overallTestStatus?: string };
}

export interface BepAttempt {
  run: number;
  shard: number;
  attempt: number;
  status: TestStatus;
  durationMs?: number;
  cached: boolean;
  /** Output files by name ("test.log", "test.xml") with their URIs. */
  outputs: Record<string, string>;
}

export interface BepTarget {
  label: string;
  attempts: BepAttempt[];
  overallStatus?: TestStatus;
  attemptCount?: number;
}

export class BuildEventError extends Error {
  override name = "BuildEventError";
}

function status(value: string | undefined, where: string): TestStatus {
  if (value === undefined) return "NO_STATUS";
  // Bazel before 7 named the last value BLAZE_HALTED_BEFORE_TESTING.
  if (value === "BLAZE_HALTED_BEFORE_TESTING") return "TOOL_HALTED_BEFORE_TESTING";
  if (!(TEST_STATUSES as readonly string[]).includes(value)) throw new BuildEventError(`${where}: unknown test status "${value}"`);
  return value as TestStatus;
}

function durationMs(result: NonNullable<BepEvent["testResult"]>): number | undefined {
  if (result.testAttemptDuration !== undefined) {
    const match = /^(\d+(?:\.\d+)?)s$/.exec(result.testAttemptDuration);
    if (match) return Math.round(Number(match[1]) * 1000);
  }
  if (result.testAttemptDurationMillis !== undefined) return Number(result.testAttemptDurationMillis);
  return undefined;
}

/** Parses the newline-delimited events; a torn last line (Bazel killed mid-write) is ignored, any other bad line is an error. */
export function parseBuildEvents(text: string): BepTarget[] {
  const targets = new Map<string, BepTarget>();
  const target = (label: string) => {
    const known = targets.get(label);
    if (known) return known;
    const created: BepTarget = { label, attempts: [] };
    targets.set(label, created);
    return created;
  };
  const lines = text.split("\n");
  lines.forEach((line, index) => {
    if (line.trim() === "") return;
    const where = `build events line ${index + 1}`;
    let event: BepEvent;
    try {
      event = JSON.parse(line) as BepEvent;
    } catch {
      const isLast = lines.slice(index + 1).every((l) => l.trim() === "");
      if (isLast) return;
      throw new BuildEventError(`${where}: not JSON`);
    }
    const resultId = event.id?.testResult;
    if (resultId && event.testResult) {
      if (!resultId.label) throw new BuildEventError(`${where}: testResult without a label`);
      const outputs: Record<string, string> = {};
      for (const file of event.testResult.testActionOutput ?? []) if (file.name && file.uri) outputs[file.name] = file.uri;
      target(resultId.label).attempts.push({
        run: resultId.run ?? 0,
        shard: resultId.shard ?? 0,
        attempt: resultId.attempt ?? 0,
        status: status(event.testResult.status, where),
        durationMs: durationMs(event.testResult),
        cached: event.testResult.cachedLocally === true || event.testResult.executionInfo?.cachedRemotely === true,
        outputs,
      });
    }
    const summaryId = event.id?.testSummary;
    if (summaryId?.label && event.testSummary) {
      const t = target(summaryId.label);
      t.overallStatus = status(event.testSummary.overallStatus, where);
      t.attemptCount = event.testSummary.attemptCount;
    }
    const targetSummaryId = event.id?.targetSummary;
    const testStatus = event.targetSummary?.overallTestStatus;
    if (targetSummaryId?.label && testStatus && testStatus !== "NO_STATUS") {
      const t = target(targetSummaryId.label);
      t.overallStatus ??= status(testStatus, where);
    }
  });
  for (const t of targets.values()) t.attempts.sort((a, b) => a.run - b.run || a.shard - b.shard || a.attempt - b.attempt);
  return [...targets.values()].sort((a, b) => a.label.localeCompare(b.label));
}

/** The target status when Bazel sent no summary: a pass after a failure is FLAKY, as Bazel would say. */
function derivedStatus(attempts: BepAttempt[]): TestStatus {
  const last = attempts.at(-1);
  if (!last) return "NO_STATUS";
  if (last.status === "PASSED" && attempts.some((a) => a.status !== "PASSED")) return "FLAKY";
  return last.status;
}

function localPath(uri: string | undefined): string | undefined {
  if (!uri?.startsWith("file:")) return undefined;
  const file = fileURLToPath(uri);
  return fs.existsSync(file) ? file : undefined;
}

/**
 * Turns parsed events into report entries and copies each attempt's test.log / test.xml (when Bazel
 * left them on local disk) into the artifacts folder, laid out like bazel-testlogs.
 */
export function reportsFromBuildEvents(targets: BepTarget[], artifacts: string): TargetReport[] {
  return targets.map((t) => {
    const outDir = testlogsDir(artifacts, t.label);
    const groups = new Set(t.attempts.map((a) => `${a.run}/${a.shard}`));
    const lastOfGroup = new Map<string, number>();
    for (const a of t.attempts) lastOfGroup.set(`${a.run}/${a.shard}`, Math.max(lastOfGroup.get(`${a.run}/${a.shard}`) ?? 0, a.attempt));
    const attempts: AttemptReport[] = t.attempts.map((a) => {
      const key = `${a.run}/${a.shard}`;
      const prefix = groups.size > 1 ? `run_${a.run}_shard_${a.shard}_` : "";
      const stem =
        lastOfGroup.get(key) === a.attempt
          ? path.join(outDir, `${prefix}test`)
          : path.join(outDir, "test_attempts", `${prefix}attempt_${a.attempt}`);
      const copy = (name: string, ext: string) => {
        const source = localPath(a.outputs[name]);
        if (!source) return undefined;
        fs.mkdirSync(path.dirname(stem), { recursive: true });
        fs.copyFileSync(source, `${stem}.${ext}`);
        return `${stem}.${ext}`;
      };
      const xml = copy("test.xml", "xml");
      const log = copy("test.log", "log");
      const xmlText = xml ? fs.readFileSync(xml, "utf8") : undefined;
      const tests: TestCounts | undefined = xmlText ? junitCounts(xmlText) : undefined;
      return {
        attempt: a.attempt,
        run: a.run,
        shard: a.shard,
        status: a.status,
        ...(a.durationMs !== undefined ? { durationMs: a.durationMs } : {}),
        cached: a.cached,
        ...(tests ? { tests } : {}),
        failedTests: xmlText ? junitFailedTests(xmlText) : [],
        ...(xml ? { junit: path.relative(artifacts, xml) } : {}),
        ...(log ? { log: path.relative(artifacts, log) } : {}),
      };
    });
    const report: TargetReport = { label: t.label, status: t.overallStatus ?? derivedStatus(t.attempts), attempts };
    if (attempts.length === 0) report.note = "no test attempt reported (it did not build, or Bazel stopped first)";
    // With shards or runs, the target's tests are the sum over the deciding attempt of each.
    if (groups.size > 1) {
      report.tests = attempts
        .filter((a) => lastOfGroup.get(`${a.run}/${a.shard}`) === a.attempt)
        .reduce((sum, a) => ({ passed: sum.passed + (a.tests?.passed ?? 0), failed: sum.failed + (a.tests?.failed ?? 0) }), {
          passed: 0,
          failed: 0,
        });
    }
    return report;
  });
}
