import fs from "node:fs";
import path from "node:path";
import { type AttemptReport, runJestTarget, type TestTarget } from "../src";
import { failingTest, failsOnceTest, fixtureWorkspace, passingTest, tempDir } from "./helpers";

// Real jest in real child processes: the retry loop is only as good as its wiring to jest.
jest.setTimeout(60_000);

function target(dir: string): TestTarget {
  return { label: `//${dir}:test`, packageName: `@fixture/${path.basename(dir)}`, dir, script: "test" };
}

describe("runJestTarget", () => {
  const root = fixtureWorkspace([
    { dir: "services/flaky", name: "@fixture/flaky", files: { "test/upstream.test.js": failsOnceTest() } },
    { dir: "services/red", name: "@fixture/red", files: { "test/red.test.js": failingTest(), "test/green.test.js": passingTest() } },
    { dir: "common/green", name: "@fixture/green", files: { "test/green.test.js": passingTest() } },
    { dir: "common/empty", name: "@fixture/empty", files: { "src/index.js": "module.exports = {};\n" } },
  ]);

  it("reruns a target that fails and then passes: FLAKY after 2 attempts, each attempt's outcome kept", async () => {
    const artifacts = tempDir();
    const seen: AttemptReport[] = [];
    const report = await runJestTarget(target("services/flaky"), {
      root,
      artifacts,
      attempts: 4,
      onAttempt: (_t, attempt, allowed) => {
        expect(allowed).toBe(4);
        seen.push(attempt);
      },
    });
    expect(report.status).toBe("FLAKY");
    expect(report.attemptsAllowed).toBe(4);
    expect(report.attempts.map((a) => [a.attempt, a.status, a.tests])).toEqual([
      [1, "FAILED", { passed: 1, failed: 1 }],
      [2, "PASSED", { passed: 2, failed: 0 }],
    ]);
    expect(report.attempts[0].failedTests).toEqual(["slow upstream answers"]);
    expect(seen.map((a) => a.status)).toEqual(["FAILED", "PASSED"]);
    const dir = "testlogs/services/flaky/test";
    expect(report.attempts[0]).toMatchObject({ junit: `${dir}/test_attempts/attempt_1.xml`, log: `${dir}/test_attempts/attempt_1.log` });
    expect(report.attempts[1]).toMatchObject({ junit: `${dir}/test.xml`, log: `${dir}/test.log` });
    expect(fs.readFileSync(path.join(artifacts, dir, "test_attempts/attempt_1.xml"), "utf8")).toMatch(/failures="1"/);
    expect(fs.readFileSync(path.join(artifacts, dir, "test.xml"), "utf8")).toMatch(/failures="0"/);
    expect(fs.existsSync(path.join(artifacts, dir, "test.json"))).toBe(true);
  });

  it("stops at the allowed attempts when every one fails", async () => {
    const report = await runJestTarget(target("services/red"), { root, artifacts: tempDir(), attempts: 2 });
    expect(report.status).toBe("FAILED");
    expect(report.attempts.map((a) => a.status)).toEqual(["FAILED", "FAILED"]);
    expect(report.attempts[1].tests).toEqual({ passed: 1, failed: 1 });
    expect(report.attempts[1].failedTests).toEqual(["breaks"]);
  });

  it("runs a target not declared flaky once, and keeps no test_attempts folder for it", async () => {
    const artifacts = tempDir();
    const report = await runJestTarget(target("common/green"), { root, artifacts, attempts: 1 });
    expect(report).toMatchObject({ status: "PASSED", attempts: [{ attempt: 1, status: "PASSED", tests: { passed: 1, failed: 0 } }] });
    expect(fs.existsSync(path.join(artifacts, "testlogs/common/green/test/test_attempts"))).toBe(false);
  });

  it("says why an attempt left no results, e.g. a package without tests", async () => {
    const report = await runJestTarget(target("common/empty"), { root, artifacts: tempDir(), attempts: 1 });
    expect(report.status).toBe("FAILED");
    expect(report.attempts[0].error).toMatch(/^no jest results \(exit 1\): No tests found/);
  });

  it("shrinks simulated time for tests unless the caller chose a scale", async () => {
    const probe = fixtureWorkspace([
      {
        dir: "common/scale",
        name: "@fixture/scale",
        files: {
          "test/scale.test.js": `test("scale", () => { expect(process.env.SIMULATION_TIME_SCALE).toBe(process.env.EXPECTED); });\n`,
        },
      },
    ]);
    const run = (env: NodeJS.ProcessEnv) => runJestTarget(target("common/scale"), { root: probe, artifacts: tempDir(), attempts: 1, env });
    const { SIMULATION_TIME_SCALE: _drop, ...base } = process.env;
    expect((await run({ ...base, EXPECTED: "0.01" })).status).toBe("PASSED");
    expect((await run({ ...base, SIMULATION_TIME_SCALE: "0.5", EXPECTED: "0.5" })).status).toBe("PASSED");
  });
});
