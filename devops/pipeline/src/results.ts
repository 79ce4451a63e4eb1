import path from "node:path";
import type { TestCounts } from "./report";

export interface JestSummary extends TestCounts {
  success: boolean;
  failedTests: string[];
}

interface JestAssertion {
  fullName?: string;
  title?: string;
  status?: string;
}

interface JestSuite {
  name?: string;
  status?: string;
  message?: string;
  testExecError?: { message?: string } | null;
  assertionResults?: JestAssertion[];
}

interface JestJson {
  success?: boolean;
  numPassedTests?: number;
  numFailedTests?: number;
  numRuntimeErrorTestSuites?: number;
  testResults?: JestSuite[];
}

/** The first line that says something: jest's formatted message opens with a "● Test suite failed to run" heading. */
function firstLine(text: string | undefined): string {
  return (
    (text ?? "")
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l && !l.startsWith("●")) ?? ""
  );
}

/**
 * Reads jest's `--json` output. A suite that could not run at all (a syntax error, a throw at load
 * time) has no failed test, so it counts as one failure, named by its file: otherwise a target could
 * be red with "0 failed".
 */
export function summarizeJest(json: unknown, rootDir?: string): JestSummary {
  if (!json || typeof json !== "object") throw new Error("jest results: expected a JSON object");
  const results = json as JestJson;
  if (typeof results.numPassedTests !== "number" || typeof results.numFailedTests !== "number") {
    throw new Error("jest results: numPassedTests/numFailedTests missing (not a jest --json file?)");
  }
  const failedTests: string[] = [];
  let brokenSuites = 0;
  for (const suite of results.testResults ?? []) {
    const failures = (suite.assertionResults ?? []).filter((a) => a.status === "failed");
    failedTests.push(...failures.map((a) => a.fullName ?? a.title ?? "(unnamed test)"));
    if (suite.status === "failed" && failures.length === 0) {
      brokenSuites++;
      const file = suite.name && rootDir ? path.relative(rootDir, suite.name) : (suite.name ?? "(unknown suite)");
      failedTests.push(`${file}: ${firstLine(suite.testExecError?.message ?? suite.message) || "suite failed to run"}`);
    }
  }
  return {
    success: results.success === true,
    passed: results.numPassedTests,
    failed: results.numFailedTests + brokenSuites,
    failedTests,
  };
}

function attribute(tag: string, name: string): number | undefined {
  const match = new RegExp(`\\s${name}="(\\d+)"`).exec(tag);
  return match ? Number(match[1]) : undefined;
}

/**
 * Test counts from a JUnit XML file (jest-junit's, as rules_jest writes test.xml): the sum over
 * <testsuite> elements (they carry "skipped"), or the root <testsuites> totals when there are none.
 */
export function junitCounts(xml: string): TestCounts | undefined {
  const suites = xml.match(/<testsuite\b[^>]*>/g) ?? [];
  const tags = suites.length > 0 ? suites : (xml.match(/<testsuites\b[^>]*>/g) ?? []).slice(0, 1);
  if (tags.length === 0) return undefined;
  let passed = 0;
  let failed = 0;
  for (const tag of tags) {
    const broken = (attribute(tag, "failures") ?? 0) + (attribute(tag, "errors") ?? 0);
    failed += broken;
    passed += Math.max(0, (attribute(tag, "tests") ?? 0) - broken - (attribute(tag, "skipped") ?? 0));
  }
  return { passed, failed };
}

/** Names of failing test cases in a JUnit file. */
export function junitFailedTests(xml: string): string[] {
  const names: string[] = [];
  for (const match of xml.matchAll(/<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const body = match[3] ?? "";
    if (/<(failure|error)\b/.test(body)) {
      const name = /\sname="([^"]*)"/.exec(match[1])?.[1];
      if (name) names.push(decodeXml(name));
    }
  }
  return names;
}

function decodeXml(text: string): string {
  return text
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");
}
