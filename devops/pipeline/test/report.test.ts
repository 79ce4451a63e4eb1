import fs from "node:fs";
import path from "node:path";
import {
  buildReport,
  countsLine,
  junitCounts,
  junitFailedTests,
  renderMarkdown,
  summarizeJest,
  type TargetReport,
  unrunTargetJunit,
  writeReport,
} from "../src";
import { FIXTURES, tempDir } from "./helpers";

const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), "utf8");

describe("jest results", () => {
  it("counts a failed attempt and names its failing test", () => {
    const summary = summarizeJest(JSON.parse(fixture("jest-failed-attempt.json")), "/repo/services/user");
    expect(summary).toEqual({
      success: false,
      passed: 11,
      failed: 1,
      failedTests: ["slow upstream answers after the simulated wait"],
    });
  });

  it("counts a suite that could not run as a failure, named by its file and error", () => {
    const summary = summarizeJest(JSON.parse(fixture("jest-broken-suite.json")), "/repo/common/logger");
    expect(summary.failed).toBe(1);
    expect(summary.passed).toBe(4);
    expect(summary.failedTests).toEqual(["test/broken.test.js: Cannot find module '../src/missing' from 'test/broken.test.js'"]);
  });

  it("names the error of a suite that threw while loading, not jest's heading, when jest gives only the formatted message", () => {
    // Real jest 30 output for a test file that threw at load time (an invalid PERF_STOCK_COUNT): no testExecError.
    const summary = summarizeJest(JSON.parse(fixture("jest-suite-throws.json")), "/repo/services/trading");
    expect(summary).toMatchObject({ success: false, passed: 0, failed: 1 });
    expect(summary.failedTests).toEqual([
      'test/stocks.perf.js: PERF_STOCK_COUNT="50" is invalid: expected an integer from 100 to 100000000 (the perf suite needs at least 100 stocks: all 8 sectors and 5 owners, and room for its swaps)',
    ]);
  });

  it("refuses a file that is not jest output", () => {
    expect(() => summarizeJest({ tests: 3 })).toThrow(/not a jest --json file/);
    expect(() => summarizeJest(null)).toThrow(/expected a JSON object/);
  });
});

describe("JUnit files", () => {
  it("reads counts per suite, leaving skipped tests out, and names failing cases", () => {
    expect(junitCounts(fixture("junit-failed.xml"))).toEqual({ passed: 11, failed: 1 });
    expect(junitCounts(fixture("junit-passed.xml"))).toEqual({ passed: 11, failed: 0 });
    expect(junitFailedTests(fixture("junit-failed.xml"))).toEqual(["slow upstream answers after the simulated wait & retries"]);
    expect(junitFailedTests(fixture("junit-passed.xml"))).toEqual([]);
  });

  it("falls back to the root totals and gives up on a file without suites", () => {
    expect(junitCounts('<testsuites tests="3" failures="1" errors="1"></testsuites>')).toEqual({ passed: 1, failed: 2 });
    expect(junitCounts("<html></html>")).toBeUndefined();
  });
});

const flaky: TargetReport = {
  label: "//services/user:test",
  status: "FLAKY",
  attemptsAllowed: 4,
  attempts: [
    { attempt: 1, status: "FAILED", tests: { passed: 11, failed: 1 }, failedTests: ["slow upstream answers"], log: "a1.log" },
    { attempt: 2, status: "PASSED", tests: { passed: 12, failed: 0 }, failedTests: [], log: "test.log" },
  ],
};
const passed: TargetReport = {
  label: "//common/logger:test",
  status: "PASSED",
  attemptsAllowed: 1,
  attempts: [{ attempt: 1, status: "PASSED", tests: { passed: 10, failed: 0 }, failedTests: [] }],
};
const unbuilt: TargetReport = { label: "//services/trading:test", status: "FAILED_TO_BUILD", attempts: [], note: "not run: build failed" };

describe("flake report", () => {
  it("sums the deciding attempts' counts and counts a red target without failing tests as one failure", () => {
    const green = buildReport("pnpm", "test", [flaky, passed]);
    expect(green.summary).toEqual({ targets: 2, passed: 1, flaky: 1, failed: 0, notRun: 0, tests: { passed: 22, failed: 0 } });
    expect(countsLine(green)).toBe("22 passed, 0 failed");
    const red = buildReport("pnpm", "test", [flaky, passed, unbuilt]);
    expect(red.summary).toMatchObject({ failed: 1, tests: { passed: 22, failed: 1 } });
    expect(red.targets.map((t) => t.label)).toEqual(["//common/logger:test", "//services/trading:test", "//services/user:test"]);
  });

  it("counts targets an interrupt stopped or kept from starting as not run, neither failed nor in the test counts", () => {
    const stopped: TargetReport = {
      label: "//services/trading:test",
      status: "INCOMPLETE",
      attemptsAllowed: 1,
      attempts: [{ attempt: 1, status: "INCOMPLETE", failedTests: [], error: "interrupted" }],
    };
    const neverStarted: TargetReport = { label: "//services/user:test", status: "INCOMPLETE", attempts: [], note: "not run: interrupted" };
    const report = buildReport("pnpm", "test", [passed, stopped, neverStarted]);
    expect(report.summary).toEqual({ targets: 3, passed: 1, flaky: 0, failed: 0, notRun: 2, tests: { passed: 10, failed: 0 } });
    expect(countsLine(report)).toBe("10 passed, 0 failed");
    const text = renderMarkdown(report);
    expect(text).toContain("3 test targets: 1 passed, 0 flaky, 0 failed, 2 not run.");
    expect(text).toContain(
      "### Not run (interrupted)\n- `//services/trading:test` INCOMPLETE (stopped while it ran)\n- `//services/user:test` INCOMPLETE (not run: interrupted)\n",
    );
    expect(text).not.toContain("### Failed");
    const xml = unrunTargetJunit(neverStarted);
    expect(junitCounts(xml)).toEqual({ passed: 0, failed: 0 });
    expect(xml).toContain('<skipped message="not run: interrupted"/>');
  });

  it("renders a table, the flaky targets with what failed, and the red ones with their logs", () => {
    const text = renderMarkdown(buildReport("pnpm", "ci", [flaky, passed, unbuilt]));
    expect(text).toContain("3 test targets: 1 passed, 1 flaky, 1 failed.");
    expect(text).toContain("| `//services/user:test` | **FLAKY** | 2 of 4 (1: FAILED, 2: PASSED) | 12 passed, 0 failed |");
    expect(text).toContain("- `//services/user:test`: failed 1 of 2 attempts; failing: `slow upstream answers`");
    expect(text).toContain("- `//services/trading:test` FAILED_TO_BUILD (not run: build failed)");
  });

  it("writes JSON and markdown to the artifacts folder and appends to the GitHub step summary", () => {
    const artifacts = path.join(tempDir(), "artifacts");
    const summary = path.join(tempDir(), "summary.md");
    fs.writeFileSync(summary, "earlier step\n");
    const report = buildReport("bazel", "ci", [flaky], "unverified");
    const written = writeReport(report, artifacts, { GITHUB_STEP_SUMMARY: summary });
    expect(JSON.parse(fs.readFileSync(written.json, "utf8"))).toEqual(JSON.parse(JSON.stringify(report)));
    expect(fs.readFileSync(written.markdown, "utf8")).toContain("> unverified");
    expect(fs.readFileSync(summary, "utf8")).toMatch(/^earlier step\n## Flake report: `ci` \(bazel path\)/);
  });

  it("gives a target that never ran a JUnit file of its own, with one error saying why", () => {
    const artifacts = tempDir();
    const report = buildReport("pnpm", "ci", [passed, { ...unbuilt, note: 'not run: build <@monorepo/trading> "failed"' }]);
    const written = writeReport(report, artifacts, {});
    const target = JSON.parse(fs.readFileSync(written.json, "utf8")).targets.find(
      (t: TargetReport) => t.label === "//services/trading:test",
    );
    expect(target.junit).toBe("testlogs/services/trading/test/test.xml");
    const xml = fs.readFileSync(path.join(artifacts, target.junit), "utf8");
    expect(junitCounts(xml)).toEqual({ passed: 0, failed: 1 });
    expect(junitFailedTests(xml)).toEqual(["FAILED_TO_BUILD"]);
    expect(xml).toContain('message="not run: build &lt;@monorepo/trading&gt; &quot;failed&quot;"');
    expect(fs.existsSync(path.join(artifacts, "testlogs/common/logger"))).toBe(false);
  });
});
