import fs from "node:fs";
import path from "node:path";
import { runNode } from "@monorepo/testing";
import { type RunfilesReport, type RunfilesTargetReport, runRunfilesTests } from "../src/runfiles";
import { runfilesWorkspace } from "./runfiles-fixture";

const CLI = path.resolve(__dirname, "..", "src", "cli.js");
/** Every run starts jest in real processes, several of them: tens of seconds on a busy 2-core machine. */
const RUN_TIMEOUT_MS = 240_000;

let root: string;
let outputDir: string;
let report: RunfilesReport;

const target = (label: string): RunfilesTargetReport => report.targets.find((t) => t.label === label)!;
const lastLog = (label: string, dir = outputDir) => fs.readFileSync(path.join(dir, target(label).attempts.at(-1)!.log), "utf8");

beforeAll(async () => {
  root = runfilesWorkspace();
  outputDir = path.join(root, "artifacts", "runfiles");
  report = await runRunfilesTests({ root, outputDir, env: { ...process.env, FLAKY_COUNTER: path.join(root, "flaky-counter") }, jobs: 2 });
}, RUN_TIMEOUT_MS);

describe("runfiles-test on //...", () => {
  it("runs every jest_test but the manual one, and reports each", () => {
    expect(report.targets.map((t) => [t.label, t.status])).toEqual([
      ["//common/bare-env:test", "FAILED"],
      ["//common/dirname:test", "FAILED"],
      ["//common/flaky:test", "FLAKY"],
      ["//common/good:test", "PASSED"],
      ["//common/undeclared:test", "FAILED"],
      ["//common/writes:test", "FAILED"],
    ]);
    expect(report).toMatchObject({ passed: 2, failed: 4 });
    expect(JSON.parse(fs.readFileSync(path.join(outputDir, "report.json"), "utf8"))).toEqual(report);
  });

  it("passes a test that uses only what it declares, in Bazel's environment, with JUnit XML where Bazel keeps it", () => {
    expect(target("//common/good:test").attempts).toMatchObject([{ attempt: 1, status: "PASSED", exitCode: 0, writes: [] }]);
    const xml = fs.readFileSync(path.join(outputDir, "testlogs/common/good/test/test.xml"), "utf8");
    expect(xml).toMatch(/<testsuites [^>]*tests="2" failures="0"/);
  });

  it("rejects comparing a path derived from __dirname with one the module resolver produced", () => {
    const log = lastLog("//common/dirname:test");
    expect(log).toMatch(
      /Expected: ".*\/bazel-out\/k8-fastbuild\/bin\/common\/dirname\/test_\/test\.runfiles\/_main\/common\/dirname\/data\.json"/,
    );
    expect(log).toMatch(/Received: ".*\/bazel-out\/k8-fastbuild\/bin\/common\/dirname\/data\.json"/);
  });

  it("rejects a child process started without the launcher's environment", () => {
    expect(lastLog("//common/bare-env:test")).toContain("JS_BINARY__NODE_BINARY: unbound variable");
  });

  it("rejects a write into the runfiles tree, and the checkout stays untouched", () => {
    const attempt = target("//common/writes:test").attempts[0]!;
    // Root ignores the read-only modes, so the write lands and the snapshot finds it; anyone else gets EACCES.
    const found = attempt.writes.some((w) =>
      w.startsWith("added bazel-out/k8-fastbuild/bin/common/writes/test_/test.runfiles/_main/common/writes/test/result.txt"),
    );
    expect(found || lastLog("//common/writes:test").includes("EACCES")).toBe(true);
    expect(attempt.status).toBe("FAILED");
    expect(fs.existsSync(path.join(root, "common/writes/test/result.txt"))).toBe(false);
  });

  it(
    "rejects an import its BUILD file does not declare, which the source tree provides",
    async () => {
      expect(lastLog("//common/undeclared:test")).toContain("Cannot find module '@fx/lib'");
      const jest = path.join(path.dirname(require.resolve("jest-cli/package.json")), "bin", "jest.js");
      const fromSource = await runNode(jest, ["--config", "../../jest.config.js", "--rootDir", "."], {
        cwd: path.join(root, "common/undeclared"),
      });
      expect(fromSource.code).toBe(0);
    },
    RUN_TIMEOUT_MS,
  );

  it("gives a flaky target the attempts .bazelrc sets and keeps every attempt's log", () => {
    const flaky = target("//common/flaky:test");
    expect(flaky.attemptsAllowed).toBe(3);
    expect(flaky.attempts.map((a) => a.status)).toEqual(["FAILED", "FAILED", "PASSED"]);
    const logs = path.join(outputDir, "testlogs/common/flaky/test");
    expect(fs.readdirSync(logs).sort()).toEqual(["test.log", "test.xml", "test_attempts"]);
    expect(fs.readdirSync(path.join(logs, "test_attempts")).sort()).toEqual([
      "attempt_1.log",
      "attempt_1.xml",
      "attempt_2.log",
      "attempt_2.xml",
    ]);
  });
});

describe("runfiles-test with a filter or a named target", () => {
  it(
    "--test_filter runs the named test file and nothing else",
    async () => {
      const artifacts = path.join(root, "filtered");
      const run = await runNode(CLI, [
        "runfiles-test",
        "//common/good:test",
        "--test_filter",
        "first\\.test",
        "--root",
        root,
        "--artifacts",
        artifacts,
      ]);
      expect(run.stdout).toMatch(/^runfiles-test: 1 target\(s\), 1 at a time\nPASSED {3}\/\/common\/good:test /m);
      expect(run.stdout).toContain("runfiles-test: 1 passed, 0 failed\n");
      expect(run.code).toBe(0);
      const log = fs.readFileSync(path.join(artifacts, "runfiles/testlogs/common/good/test/test.log"), "utf8");
      expect(log).toContain("PASS common/good/test/first.test.js");
      expect(log).not.toContain("second.test.js");
      expect(fs.readFileSync(path.join(artifacts, "runfiles/testlogs/common/good/test/test.xml"), "utf8")).toMatch(
        /<testsuites [^>]*tests="1"/,
      );
    },
    RUN_TIMEOUT_MS,
  );

  it(
    "--json prints one event a line for a program to follow: start, each attempt, each target, then the report",
    async () => {
      const artifacts = path.join(root, "json");
      const run = await runNode(CLI, ["runfiles-test", "//common/good:test", "--json", "--root", root, "--artifacts", artifacts]);
      expect(run.code).toBe(0);
      const events = run.stdout
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line));
      expect(events.map((e) => e.event)).toEqual(["start", "attempt", "target", "done"]);
      expect(events[0]).toEqual({ event: "start", labels: ["//common/good:test"], jobs: 1 });
      expect(events[1]).toMatchObject({
        event: "attempt",
        label: "//common/good:test",
        allowed: 1,
        attempt: { attempt: 1, status: "PASSED" },
      });
      expect(events[2].target).toMatchObject({ label: "//common/good:test", status: "PASSED" });
      expect(events[3].report).toEqual(JSON.parse(fs.readFileSync(path.join(artifacts, "runfiles", "report.json"), "utf8")));
    },
    RUN_TIMEOUT_MS,
  );

  it(
    "a pattern that is not Bazel's is a usage error, and one that names no jest_test an error; one line each, nothing run",
    async () => {
      const artifacts = path.join(root, "refused");
      const malformed = await runNode(CLI, ["runfiles-test", "services/user:test", "--root", root, "--artifacts", artifacts]);
      expect(malformed).toMatchObject({
        code: 2,
        stdout: "",
        stderr:
          'bazel-tools: services/user:test: a target pattern starts with // (//pkg:name, //pkg, //pkg/..., //...) (see "bazel-tools runfiles-test --help")\n',
      });
      const unknown = await runNode(CLI, ["runfiles-test", "//common/none:test", "--root", root, "--artifacts", artifacts]);
      expect(unknown).toMatchObject({ code: 1, stdout: "", stderr: "bazel-tools: //common/none:test: no jest_test with this label\n" });
      expect(fs.existsSync(artifacts)).toBe(false);
    },
    RUN_TIMEOUT_MS,
  );

  it("runs a manual target named by its label, and reports a file nobody declared or built as a failed build", async () => {
    const named = await runRunfilesTests({ root, outputDir: path.join(root, "named"), patterns: ["//common/good:manual_test"] });
    expect(named.targets).toEqual([
      expect.objectContaining({
        label: "//common/good:manual_test",
        status: "FAILED_TO_BUILD",
        attempts: [],
        note: expect.stringContaining("never-built.js: no such target or file"),
      }),
    ]);
  });
});
