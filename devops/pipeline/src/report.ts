import fs from "node:fs";
import path from "node:path";
import { writeFileAtomicSync, writeJsonFileAtomicSync } from "@monorepo/files";
import { plural } from "./output";
import { testlogsDir } from "./targets";

/** Bazel's TestStatus names (build_event_stream.proto), used on both paths so the reports read the same. */
export type TestStatus =
  | "NO_STATUS"
  | "PASSED"
  | "FLAKY"
  | "TIMEOUT"
  | "FAILED"
  | "INCOMPLETE"
  | "REMOTE_FAILURE"
  | "FAILED_TO_BUILD"
  | "TOOL_HALTED_BEFORE_TESTING";

export const TEST_STATUSES: readonly TestStatus[] = [
  "NO_STATUS",
  "PASSED",
  "FLAKY",
  "TIMEOUT",
  "FAILED",
  "INCOMPLETE",
  "REMOTE_FAILURE",
  "FAILED_TO_BUILD",
  "TOOL_HALTED_BEFORE_TESTING",
];

export function isGreen(status: TestStatus): boolean {
  return status === "PASSED" || status === "FLAKY";
}

/** Bazel's statuses of a target that did not run to a verdict (the run was interrupted first or during it): neither green nor failed. */
export function isNotRun(status: TestStatus): boolean {
  return status === "INCOMPLETE" || status === "NO_STATUS";
}

/** Red: the target ran (or could not build) and did not pass. */
export function isRed(status: TestStatus): boolean {
  return !isGreen(status) && !isNotRun(status);
}

export interface TestCounts {
  passed: number;
  failed: number;
}

export interface AttemptReport {
  attempt: number;
  /** Bazel's run and shard numbers; absent on the pnpm path (one run, one shard). */
  run?: number;
  shard?: number;
  status: TestStatus;
  durationMs?: number;
  /** Bazel served this attempt from its local or remote cache. */
  cached?: boolean;
  tests?: TestCounts;
  /** Names of the failing tests (or suites that could not run). */
  failedTests: string[];
  /** What went wrong when no test result explains it (e.g. jest wrote no results). */
  error?: string;
  /** Paths relative to the artifacts folder. */
  junit?: string;
  log?: string;
}

export interface TargetReport {
  label: string;
  /** "runfiles": the target ran in the runfiles-layout mode (as rules_jest would lay it out), after its pnpm-path run. */
  layout?: "runfiles";
  status: TestStatus;
  /** Attempts the policy allowed (pnpm path); Bazel decides this itself. */
  attemptsAllowed?: number;
  attempts: AttemptReport[];
  /** Why the target has no attempts, e.g. the build it needs failed. */
  note?: string;
  /** For a target without attempts: a JUnit file (relative to the artifacts folder) holding that one error. */
  junit?: string;
  /** Set when several shards or runs decide together (Bazel); otherwise the last attempt's counts are the target's. */
  tests?: TestCounts;
}

export interface FlakeReport {
  engine: "pnpm" | "bazel";
  command: string;
  generatedAt: string;
  /** Set on the Bazel path: how much of the report to trust. */
  caveat?: string;
  summary: ReportSummary;
  targets: TargetReport[];
}

export interface ReportSummary {
  targets: number;
  passed: number;
  flaky: number;
  failed: number;
  /** Targets without a verdict: interrupted before or while they ran. */
  notRun: number;
  tests: TestCounts;
}

/** The counts of the attempt that decided the target: its last one. */
export function finalCounts(target: TargetReport): TestCounts {
  const counts = target.tests ?? target.attempts.at(-1)?.tests ?? { passed: 0, failed: 0 };
  // A red target with no failing test to show (it did not build, crashed, timed out) still counts
  // as one failure, so "0 failed" always means green. A target that did not run has no verdict to count.
  if (isRed(target.status) && counts.failed === 0) return { passed: counts.passed, failed: 1 };
  return counts;
}

export function summarize(targets: TargetReport[]): ReportSummary {
  const tests = targets.map(finalCounts).reduce((a, c) => ({ passed: a.passed + c.passed, failed: a.failed + c.failed }), {
    passed: 0,
    failed: 0,
  });
  return {
    targets: targets.length,
    passed: targets.filter((t) => t.status === "PASSED").length,
    flaky: targets.filter((t) => t.status === "FLAKY").length,
    failed: targets.filter((t) => isRed(t.status)).length,
    notRun: targets.filter((t) => isNotRun(t.status)).length,
    tests,
  };
}

/** A target's name in reports: its label, marked when it ran in the runfiles layout. */
export function targetName(target: Pick<TargetReport, "label" | "layout">): string {
  return target.layout === "runfiles" ? `${target.label} (runfiles layout)` : target.label;
}

export function buildReport(engine: FlakeReport["engine"], command: string, targets: TargetReport[], caveat?: string): FlakeReport {
  // A target's runfiles-layout result right after its pnpm-path one, so the two read side by side.
  const sorted = [...targets].sort((a, b) => a.label.localeCompare(b.label) || (a.layout ?? "").localeCompare(b.layout ?? ""));
  return {
    engine,
    command,
    generatedAt: new Date().toISOString(),
    ...(caveat ? { caveat } : {}),
    summary: summarize(sorted),
    targets: sorted,
  };
}

/** The closing line of every test run, for people and for scripts: `N passed, N failed`. */
export function countsLine(report: FlakeReport): string {
  return `${report.summary.tests.passed} passed, ${report.summary.tests.failed} failed`;
}

function attemptCell(target: TargetReport): string {
  if (target.attempts.length === 0) return "0";
  const used = target.attempts.length;
  const per = target.attempts.map((a) => `${a.attempt}: ${a.status}${a.cached ? " (cached)" : ""}`).join(", ");
  return `${used}${target.attemptsAllowed ? ` of ${target.attemptsAllowed}` : ""} (${per})`;
}

function testsCell(target: TargetReport): string {
  const counts = target.tests ?? target.attempts.at(-1)?.tests;
  return counts ? `${counts.passed} passed, ${counts.failed} failed` : "-";
}

/** The target's label as code, followed by its layout mark. */
function nameCell(target: TargetReport): string {
  return `\`${target.label}\`${target.layout === "runfiles" ? " (runfiles layout)" : ""}`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export function renderMarkdown(report: FlakeReport): string {
  const { summary } = report;
  const lines = [`## Flake report: \`${report.command}\` (${report.engine} path)`, "", `${headline(summary)}.`];
  const runfiles = report.targets.filter((t) => t.layout === "runfiles").length;
  if (runfiles > 0) {
    lines.push(
      "",
      `${runfiles} of them ran again in the runfiles layout \`bazel test\` gives a jest_test (marked "runfiles layout"; logs under \`runfiles/testlogs/\`): a target red only there fails under Bazel.`,
    );
  }
  if (report.caveat) lines.push("", `> ${report.caveat}`);
  if (report.targets.length > 0) {
    lines.push("", "| target | status | attempts | tests (deciding attempt) |", "|---|---|---|---|");
    for (const t of report.targets) {
      const status = t.status === "FLAKY" ? "**FLAKY**" : t.status;
      lines.push(`| ${nameCell(t)} | ${status} | ${escapeCell(attemptCell(t))} | ${escapeCell(t.note ?? testsCell(t))} |`);
    }
  }
  const flaky = report.targets.filter((t) => t.status === "FLAKY");
  if (flaky.length > 0) {
    lines.push("", "### Flaky: passed only after failing");
    for (const t of flaky) {
      const failures = t.attempts.filter((a) => !isGreen(a.status));
      const names = [...new Set(failures.flatMap((a) => a.failedTests))];
      lines.push(
        `- ${nameCell(t)}: failed ${failures.length} of ${t.attempts.length} attempts` +
          (names.length ? `; failing: ${names.map((n) => `\`${escapeCell(n)}\``).join(", ")}` : ""),
      );
    }
  }
  const red = report.targets.filter((t) => isRed(t.status));
  if (red.length > 0) {
    lines.push("", "### Failed");
    for (const t of red) {
      const last = t.attempts.at(-1);
      const where = last?.log ? ` (log: \`${last.log}\`)` : "";
      const names = last?.failedTests.length
        ? `: ${last.failedTests.map((n) => `\`${escapeCell(n)}\``).join(", ")}`
        : last?.error
          ? `: ${escapeCell(last.error)}`
          : "";
      lines.push(`- ${nameCell(t)} ${t.status}${t.note ? ` (${t.note})` : ""}${names}${where}`);
    }
  }
  const notRun = report.targets.filter((t) => isNotRun(t.status));
  if (notRun.length > 0) {
    lines.push("", "### Not run (interrupted)");
    for (const t of notRun)
      lines.push(`- \`${t.label}\` ${t.status}${t.note ? ` (${t.note})` : t.attempts.length ? " (stopped while it ran)" : ""}`);
  }
  return `${lines.join("\n")}\n`;
}

/** "13 test targets: 12 passed, 1 flaky, 0 failed", with the targets not run when there are any. */
export function headline(summary: ReportSummary): string {
  const notRun = summary.notRun ? `, ${summary.notRun} not run` : "";
  return `${plural(summary.targets, "test target")}: ${summary.passed} passed, ${summary.flaky} flaky, ${summary.failed} failed${notRun}`;
}

export interface WrittenReport {
  json: string;
  markdown: string;
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * JUnit XML for a target without attempts: one test case named by the status, with the reason. A
 * target whose build failed is in error, so a JUnit consumer shows it red instead of not at all; one
 * the run was interrupted before is skipped, as it has no verdict.
 */
export function unrunTargetJunit(target: TargetReport): string {
  const label = xmlEscape(targetName(target));
  const why = xmlEscape(target.note ?? `${target.status}: the target did not run`);
  const skipped = isNotRun(target.status);
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="${label}" tests="1" failures="0" errors="${skipped ? 0 : 1}">`,
    `  <testsuite name="${label}" tests="1" failures="0" errors="${skipped ? 0 : 1}" skipped="${skipped ? 1 : 0}">`,
    `    <testcase classname="${label}" name="${target.status}">`,
    skipped ? `      <skipped message="${why}"/>` : `      <error message="${why}">${why}</error>`,
    `    </testcase>`,
    `  </testsuite>`,
    `</testsuites>`,
    ``,
  ].join("\n");
}

/**
 * Writes flake-report.json and flake-report.md into the artifacts folder, and appends to the GitHub
 * step summary if set. A target without attempts first gets its JUnit file in testlogs/ (recorded
 * in the report as `junit`), so that every target has one.
 */
export function writeReport(report: FlakeReport, artifacts: string, env: NodeJS.ProcessEnv = process.env): WrittenReport {
  fs.mkdirSync(artifacts, { recursive: true });
  for (const target of report.targets.filter((t) => t.attempts.length === 0)) {
    const testlogs = target.layout === "runfiles" ? path.join(artifacts, target.layout) : artifacts;
    const file = path.join(testlogsDir(testlogs, target.label), "test.xml");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomicSync(file, unrunTargetJunit(target));
    target.junit = path.relative(artifacts, file);
  }
  const json = path.join(artifacts, "flake-report.json");
  const markdown = path.join(artifacts, "flake-report.md");
  const text = renderMarkdown(report);
  writeJsonFileAtomicSync(json, report);
  writeFileAtomicSync(markdown, text);
  if (env.GITHUB_STEP_SUMMARY) fs.appendFileSync(env.GITHUB_STEP_SUMMARY, `${text}\n`);
  return { json, markdown };
}
