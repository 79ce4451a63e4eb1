import fs from "node:fs";
import path from "node:path";
import { BuildEventError, buildReport, countsLine, parseBuildEvents, reportsFromBuildEvents } from "../src";
import { FIXTURES, tempDir } from "./helpers";

/** The fixture's file URIs point into a folder standing in for Bazel's output tree. */
function bazelOutputs(): { dir: string; events: string } {
  const dir = tempDir();
  const junitFailed = fs.readFileSync(path.join(FIXTURES, "junit-failed.xml"));
  const junitPassed = fs.readFileSync(path.join(FIXTURES, "junit-passed.xml"));
  const files: Record<string, Buffer | string> = {
    "bazel/user/attempt_1.log": "FAIL test/slow-upstream.test.js\n",
    "bazel/user/attempt_1.xml": junitFailed,
    "bazel/user/test.log": "PASS\n",
    "bazel/user/test.xml": junitPassed,
    "bazel/logger/test.xml":
      '<testsuites tests="10" failures="0" errors="0"><testsuite tests="10" failures="0" errors="0" skipped="0"></testsuite></testsuites>',
  };
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
  const events = fs.readFileSync(path.join(FIXTURES, "build-events.json"), "utf8").replaceAll("@ARTIFACTS@", dir);
  return { dir, events };
}

describe("build event parsing (fixtures written from build_event_stream.proto, not from a real Bazel run)", () => {
  it("collects one attempt per testResult event and the overall status from testSummary", () => {
    const targets = parseBuildEvents(bazelOutputs().events);
    expect(targets.map((t) => [t.label, t.overallStatus, t.attempts.map((a) => `${a.attempt}:${a.status}`)])).toEqual([
      ["//common/logger:test", "PASSED", ["1:PASSED"]],
      ["//devops/maintenance:test", "FAILED_TO_BUILD", []],
      ["//services/trading:test", "FAILED", ["1:FAILED"]],
      ["//services/user:test", "FLAKY", ["1:FAILED", "2:PASSED"]],
    ]);
    const user = targets.find((t) => t.label === "//services/user:test")!;
    expect(user.attemptCount).toBe(2);
    expect(user.attempts.map((a) => a.durationMs)).toEqual([5321, 5120]);
    expect(targets.find((t) => t.label === "//common/logger:test")!.attempts[0].cached).toBe(true);
    expect(targets.find((t) => t.label === "//services/trading:test")!.attempts[0].cached).toBe(true);
  });

  it("reports the flaky target with both attempts and copies their JUnit files like bazel-testlogs", () => {
    const { events } = bazelOutputs();
    const artifacts = tempDir();
    const reports = reportsFromBuildEvents(parseBuildEvents(events), artifacts);
    const user = reports.find((r) => r.label === "//services/user:test")!;
    expect(user).toEqual({
      label: "//services/user:test",
      status: "FLAKY",
      attempts: [
        {
          attempt: 1,
          run: 1,
          shard: 1,
          status: "FAILED",
          durationMs: 5321,
          cached: false,
          tests: { passed: 11, failed: 1 },
          failedTests: ["slow upstream answers after the simulated wait & retries"],
          junit: "testlogs/services/user/test/test_attempts/attempt_1.xml",
          log: "testlogs/services/user/test/test_attempts/attempt_1.log",
        },
        {
          attempt: 2,
          run: 1,
          shard: 1,
          status: "PASSED",
          durationMs: 5120,
          cached: false,
          tests: { passed: 11, failed: 0 },
          failedTests: [],
          junit: "testlogs/services/user/test/test.xml",
          log: "testlogs/services/user/test/test.log",
        },
      ],
    });
    expect(fs.readFileSync(path.join(artifacts, "testlogs/services/user/test/test_attempts/attempt_1.log"), "utf8")).toContain("FAIL");
    // A remote URI cannot be copied: the attempt is still reported, without files.
    const trading = reports.find((r) => r.label === "//services/trading:test")!;
    expect(trading.attempts[0].junit).toBeUndefined();
    const maintenance = reports.find((r) => r.label === "//devops/maintenance:test")!;
    expect(maintenance).toMatchObject({ status: "FAILED_TO_BUILD", attempts: [], note: expect.stringMatching(/no test attempt/) });
    const report = buildReport("bazel", "ci", reports);
    expect(report.summary).toMatchObject({ targets: 4, passed: 1, flaky: 1, failed: 2 });
    expect(countsLine(report)).toBe("21 passed, 2 failed");
  });

  it("derives FLAKY when no testSummary arrived, and sums shards", () => {
    const line = (attempt: number, shard: number, status: string) =>
      JSON.stringify({ id: { testResult: { label: "//a:test", run: 1, shard, attempt } }, testResult: { status } });
    const targets = parseBuildEvents([line(1, 1, "FAILED"), line(2, 1, "PASSED"), line(1, 2, "PASSED")].join("\n"));
    expect(targets[0].attempts.map((a) => `${a.shard}/${a.attempt}`)).toEqual(["1/1", "1/2", "2/1"]);
    const [report] = reportsFromBuildEvents(targets, tempDir());
    expect(report.status).toBe("FLAKY");
    expect(report.tests).toEqual({ passed: 0, failed: 0 });
  });

  it("tolerates a torn last line but not a bad line in the middle, nor an unknown status", () => {
    const good = JSON.stringify({ id: { testSummary: { label: "//a:test" } }, testSummary: { overallStatus: "PASSED" } });
    expect(parseBuildEvents(`${good}\n{"id":{"testRes`)).toHaveLength(1);
    expect(() => parseBuildEvents(`{"id":\n${good}\n`)).toThrow(/line 1: not JSON/);
    const odd = JSON.stringify({ id: { testSummary: { label: "//a:test" } }, testSummary: { overallStatus: "GREEN" } });
    expect(() => parseBuildEvents(odd)).toThrow(BuildEventError);
  });

  it("maps the pre-Bazel-7 enum name and a missing status (proto3 default) to NO_STATUS", () => {
    const halted = JSON.stringify({
      id: { testSummary: { label: "//a:test" } },
      testSummary: { overallStatus: "BLAZE_HALTED_BEFORE_TESTING" },
    });
    const bare = JSON.stringify({ id: { testResult: { label: "//b:test", attempt: 1 } }, testResult: {} });
    const targets = parseBuildEvents(`${halted}\n${bare}\n`);
    expect(targets[0].overallStatus).toBe("TOOL_HALTED_BEFORE_TESTING");
    expect(targets[1].attempts[0].status).toBe("NO_STATUS");
  });
});
