import fs from "node:fs";
import path from "node:path";
import {
  buildReport,
  type RunfilesTargetReport,
  renderMarkdown,
  runfilesCli,
  runRunfilesStage,
  type TargetReport,
  targetReport,
  writeReport,
} from "../src";
import { FIXTURES, installBazelTools, tempDir } from "./helpers";

/** An artifacts folder holding the runfiles mode's files for //services/user:test, as runfiles-test leaves them. */
function artifactsWith(files: Record<string, string>): string {
  const artifacts = tempDir();
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(artifacts, "runfiles", file)), { recursive: true });
    fs.writeFileSync(path.join(artifacts, "runfiles", file), content);
  }
  return artifacts;
}

const pnpmPassed: TargetReport = {
  label: "//services/user:test",
  status: "PASSED",
  attemptsAllowed: 5,
  attempts: [{ attempt: 1, status: "PASSED", tests: { passed: 12, failed: 0 }, failedTests: [] }],
};

describe("runfiles-layout results in the pipeline's report", () => {
  it("reads each attempt's counts and failing tests from its JUnit file, with paths into the artifacts folder", () => {
    const artifacts = artifactsWith({
      "testlogs/services/user/test/test_attempts/attempt_1.xml": fs.readFileSync(path.join(FIXTURES, "junit-failed.xml"), "utf8"),
      "testlogs/services/user/test/test.xml": fs.readFileSync(path.join(FIXTURES, "junit-passed.xml"), "utf8"),
    });
    const flaky: RunfilesTargetReport = {
      label: "//services/user:test",
      status: "FLAKY",
      attemptsAllowed: 5,
      attempts: [
        {
          attempt: 1,
          status: "FAILED",
          exitCode: 1,
          durationMs: 900,
          writes: [],
          log: "testlogs/services/user/test/test_attempts/attempt_1.log",
          junit: "testlogs/services/user/test/test_attempts/attempt_1.xml",
        },
        {
          attempt: 2,
          status: "PASSED",
          exitCode: 0,
          durationMs: 800,
          writes: [],
          log: "testlogs/services/user/test/test.log",
          junit: "testlogs/services/user/test/test.xml",
        },
      ],
    };
    expect(targetReport(flaky, artifacts)).toEqual({
      label: "//services/user:test",
      layout: "runfiles",
      status: "FLAKY",
      attemptsAllowed: 5,
      attempts: [
        {
          attempt: 1,
          status: "FAILED",
          durationMs: 900,
          tests: { passed: 11, failed: 1 },
          failedTests: ["slow upstream answers after the simulated wait & retries"],
          junit: "runfiles/testlogs/services/user/test/test_attempts/attempt_1.xml",
          log: "runfiles/testlogs/services/user/test/test_attempts/attempt_1.log",
        },
        {
          attempt: 2,
          status: "PASSED",
          durationMs: 800,
          tests: { passed: 11, failed: 0 },
          failedTests: [],
          junit: "runfiles/testlogs/services/user/test/test.xml",
          log: "runfiles/testlogs/services/user/test/test.log",
        },
      ],
    });
  });

  it("names a write into the read-only trees as the failure of an attempt whose tests all passed", () => {
    const artifacts = artifactsWith({
      "testlogs/services/user/test/test.xml": fs.readFileSync(path.join(FIXTURES, "junit-passed.xml"), "utf8"),
    });
    const wrote: RunfilesTargetReport = {
      label: "//services/user:test",
      status: "FAILED",
      attemptsAllowed: 1,
      attempts: [
        {
          attempt: 1,
          status: "FAILED",
          exitCode: 0,
          durationMs: 700,
          writes: ["added services/user/dist/test/out.txt (in the execution root /tmp/x)"],
          log: "testlogs/services/user/test/test.log",
          junit: "testlogs/services/user/test/test.xml",
        },
      ],
    };
    const report = buildReport("pnpm", "test", [targetReport(wrote, artifacts), pnpmPassed]);
    expect(report.targets.map((t) => t.layout ?? "pnpm")).toEqual(["pnpm", "runfiles"]);
    expect(report.summary).toMatchObject({ targets: 2, passed: 1, failed: 1 });
    const text = renderMarkdown(report);
    expect(text).toContain("1 of them ran again in the runfiles layout");
    expect(text).toContain("| `//services/user:test` | PASSED |");
    expect(text).toContain("| `//services/user:test` (runfiles layout) | FAILED |");
    expect(text).toContain(
      "- `//services/user:test` (runfiles layout) FAILED: wrote into the read-only runfiles or output tree: added services/user/dist/test/out.txt (in the execution root /tmp/x) (log: `runfiles/testlogs/services/user/test/test.log`)",
    );
  });

  it("reads an attempt's counts from test.xml when the run has already moved its attempt file there", () => {
    const artifacts = artifactsWith({
      "testlogs/services/user/test/test.xml": fs.readFileSync(path.join(FIXTURES, "junit-passed.xml"), "utf8"),
    });
    const [attempt] = targetReport(
      {
        label: "//services/user:test",
        status: "PASSED",
        attemptsAllowed: 1,
        attempts: [
          {
            attempt: 1,
            status: "PASSED",
            exitCode: 0,
            durationMs: 800,
            writes: [],
            log: "testlogs/services/user/test/test_attempts/attempt_1.log",
            junit: "testlogs/services/user/test/test_attempts/attempt_1.xml",
          },
        ],
      },
      artifacts,
    ).attempts;
    expect(attempt!.tests).toEqual({ passed: 11, failed: 0 });
  });

  it("gives a runfiles target that never ran its JUnit file under runfiles/testlogs, apart from the pnpm path's", () => {
    const artifacts = tempDir();
    const unlaid: RunfilesTargetReport = {
      label: "//services/user:test",
      status: "FAILED_TO_BUILD",
      attemptsAllowed: 0,
      attempts: [],
      note: "imports a file no target declares",
    };
    writeReport(buildReport("pnpm", "test", [targetReport(unlaid, artifacts)]), artifacts, {});
    const xml = fs.readFileSync(path.join(artifacts, "runfiles/testlogs/services/user/test/test.xml"), "utf8");
    expect(xml).toContain('<testsuite name="//services/user:test (runfiles layout)"');
    expect(fs.existsSync(path.join(artifacts, "testlogs"))).toBe(false);
  });
});

describe("the runfiles-layout CLI the pipeline runs", () => {
  it("is the workspace's own bazel-tools bin, from its root node_modules; a workspace without it says what is missing", () => {
    const root = tempDir();
    expect(() => runfilesCli(root)).toThrow(
      `@monorepo/bazel-tools is not installed in ${root}/node_modules: the root package.json must list it`,
    );
    const installed = path.join(root, "node_modules", "@monorepo", "bazel-tools");
    fs.mkdirSync(installed, { recursive: true });
    fs.writeFileSync(path.join(installed, "package.json"), JSON.stringify({ name: "@monorepo/bazel-tools" }));
    expect(() => runfilesCli(root)).toThrow(/package.json has no "bazel-tools" bin/);
    fs.writeFileSync(
      path.join(installed, "package.json"),
      JSON.stringify({ name: "@monorepo/bazel-tools", bin: { "bazel-tools": "dist/src/cli.js" } }),
    );
    expect(runfilesCli(root)).toBe(path.join(installed, "dist", "src", "cli.js"));
  });
});

describe("the runfiles stage", () => {
  /** A workspace whose root node_modules links a bazel-tools bin that runs `script` (CommonJS) in place of the real mode. */
  function workspaceWithTools(script: string): string {
    const root = tempDir();
    installBazelTools(root, script);
    return root;
  }

  it("runs the workspace's runfiles-test --json, passes on each attempt as it ends and returns the report's targets", async () => {
    const attempt = { attempt: 1, status: "PASSED", exitCode: 0, durationMs: 5, writes: [], log: "testlogs/a/test/test.log" };
    const target = { label: "//a:test", status: "PASSED", attemptsAllowed: 1, attempts: [attempt] };
    const events = [
      { event: "start", labels: ["//a:test"], jobs: 3 },
      { event: "attempt", label: "//a:test", allowed: 1, attempt },
      { event: "target", target },
      { event: "done", report: { targets: [target], passed: 1, failed: 0 } },
    ];
    const argsFile = path.join(tempDir(), "args.json");
    const root = workspaceWithTools(
      `require("fs").writeFileSync(${JSON.stringify(argsFile)}, JSON.stringify(process.argv.slice(2)));\n` +
        `for (const e of ${JSON.stringify(events)}) console.log(JSON.stringify(e));\n`,
    );
    const seen: string[] = [];
    const reports = await runRunfilesStage({
      root,
      artifacts: path.join(root, "artifacts"),
      jobs: 3,
      env: process.env,
      onAttempt: (label, report, allowed) => seen.push(`${label} ${report.attempt}/${allowed} ${report.status}`),
    });
    const artifacts = path.join(root, "artifacts");
    expect(JSON.parse(fs.readFileSync(argsFile, "utf8"))).toEqual([
      "runfiles-test",
      "--json",
      "--root",
      root,
      "--artifacts",
      artifacts,
      "--jobs",
      "3",
    ]);
    expect(seen).toEqual(["//a:test 1/1 PASSED"]);
    expect(reports.map((r) => [r.label, r.layout, r.status])).toEqual([["//a:test", "runfiles", "PASSED"]]);
  });

  it("fails with the mode's own one-line error when it ends without a report", async () => {
    const root = workspaceWithTools('console.error("bazel-tools: cannot read BUILD files: buildozer failed");\nprocess.exit(1);\n');
    await expect(runRunfilesStage({ root, artifacts: path.join(root, "artifacts"), jobs: 1, env: process.env })).rejects.toThrow(
      /^bazel-tools: cannot read BUILD files: buildozer failed$/,
    );
  });
});
