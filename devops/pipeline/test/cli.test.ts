import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { waitFor } from "@monorepo/testing";
import {
  CLI,
  commitAll,
  failingTest,
  failsOnceTest,
  fixtureWorkspace,
  git,
  isRunning,
  JEST_GLOBALS,
  lastLine,
  passingTest,
  passingTsTest,
  repositoryJestConfig,
  runCli,
  TSC_BASE,
  tempDir,
  tscPackage,
  writeFiles,
} from "./helpers";

// Each case runs the real CLI (and real jest) in a fixture repository, as a person would.
jest.setTimeout(90_000);

const FLAKY_POLICY = { "//services/flaky:test": { attempts: 3, why: "fails on its first run by design" } };

describe("outside a workspace", () => {
  it("is a usage error: exit 2, one line", async () => {
    const dir = tempDir();
    const run = await runCli(["test", "--engine", "pnpm"], dir);
    expect(run).toMatchObject({
      code: 2,
      stdout: "",
      stderr: `pipeline.sh: no pnpm-workspace.yaml in ${dir} or above: run the pipeline inside the repository (see "pipeline.sh test --help")\n`,
    });
  });
});

describe("test", () => {
  it("runs every target, retries the flaky one, reports it, and ends with the counts line: exit 0", async () => {
    const root = fixtureWorkspace(
      [
        { dir: "common/logger", name: "@fixture/logger", files: { "test/a.test.js": passingTest() } },
        {
          dir: "services/flaky",
          name: "@fixture/flaky",
          dependencies: { "@fixture/logger": "workspace:*" },
          files: { "test/u.test.js": failsOnceTest() },
        },
      ],
      { "test-targets.json": FLAKY_POLICY },
    );
    const summary = path.join(tempDir(), "step-summary.md");
    const run = await runCli(["test", "--engine", "pnpm"], root, { GITHUB_STEP_SUMMARY: summary });
    expect(run.stderr).toBe("");
    // With the output beside the code, a red run shows which stage failed.
    expect({ code: run.code, stdout: run.stdout }).toMatchObject({ code: 0 });
    expect(lastLine(run.stdout)).toBe("3 passed, 0 failed");
    expect(run.stdout).toContain("//services/flaky:test attempt 1/3: FAILED");
    expect(run.stdout).toContain("//services/flaky:test attempt 2/3: PASSED");
    expect(run.stdout).toMatch(/^build +\d+\.\ds {2}ok +2 built$/m);
    expect(run.stdout).toMatch(/^test +\d+\.\ds {2}ok +2 targets: 2 green \(1 flaky\), 0 red$/m);
    // Off a terminal: a plain progress note as each target finishes, and no escape code at all.
    expect(run.stdout).toMatch(/attempt 1\/1: PASSED in \d+\.\ds \(1 passed, 0 failed\); [12] of 2 targets done$/m);
    expect(run.stdout).not.toContain("\x1b");
    // Something flaky: the whole table is on stdout, not only in the files.
    expect(run.stdout).toContain("| `//services/flaky:test` | **FLAKY** | 2 of 3");
    // The runfiles layout runs after them; this fixture has no BUILD files, so no jest_test to run.
    expect(run.stdout).toMatch(/^runfiles +\d+\.\ds {2}ok +0 targets: 0 green, 0 red \(results: artifacts\/runfiles\)$/m);
    const report = JSON.parse(fs.readFileSync(path.join(root, "artifacts", "flake-report.json"), "utf8"));
    expect(
      report.targets.map((t: { label: string; status: string; attempts: unknown[] }) => [t.label, t.status, t.attempts.length]),
    ).toEqual([
      ["//common/logger:test", "PASSED", 1],
      ["//services/flaky:test", "FLAKY", 2],
    ]);
    expect(fs.readFileSync(summary, "utf8")).toContain("| `//services/flaky:test` | **FLAKY** | 2 of 3");
    expect(fs.existsSync(path.join(root, "artifacts/testlogs/services/flaky/test/test_attempts/attempt_1.xml"))).toBe(true);
  });

  it("starts a target as soon as the builds it needs are done, while another build still runs", async () => {
    // services/slow's build waits (30 s at most) for common/fast's test to have run: it passes only
    // if that test started before the last build was done.
    const marksRun = `require("fs").writeFileSync(require("path").join(__dirname, "..", "..", "..", "tested.txt"), "yes");\n${passingTest()}`;
    const waitForMark = "for i in $(seq 300); do [ -f ../../tested.txt ] && exit 0; sleep 0.1; done; exit 1";
    const root = fixtureWorkspace([
      { dir: "common/fast", name: "@fixture/fast", files: { "test/f.test.js": marksRun } },
      { dir: "services/slow", name: "@fixture/slow", scripts: { build: waitForMark }, files: { "test/s.test.js": passingTest() } },
    ]);
    const run = await runCli(["test", "--engine", "pnpm", "--jobs", "2", "--no-runfiles"], root);
    expect(run.stdout).toContain("skipped: the runfiles-layout run (--no-runfiles)");
    expect(run.stdout).not.toMatch(/^runfiles /m);
    // The order of the two lines is a race (the build ends as soon as the test file is loaded).
    expect(run.stdout).toMatch(/^ {4}build @fixture\/slow: ok in \d+\.\ds$/m);
    expect(run.stdout).toContain("//common/fast:test attempt 1/1: PASSED");
    expect(run.code).toBe(0);
  });

  it("exits 1 on a red target or a failed build, naming the package, the step and the log", async () => {
    const root = fixtureWorkspace([
      { dir: "common/logger", name: "@fixture/logger", files: { "test/a.test.js": passingTest() } },
      { dir: "services/red", name: "@fixture/red", files: { "test/r.test.js": failingTest(), "test/g.test.js": passingTest() } },
      {
        dir: "services/broken",
        name: "@fixture/broken",
        scripts: { build: "echo 'src/app.ts(3,1): error TS2304' >&2; exit 2" },
        files: { "test/a.test.js": passingTest() },
      },
    ]);
    const run = await runCli(["test", "--engine", "pnpm", "--artifacts", "out"], root);
    expect(run.code).toBe(1);
    expect(lastLine(run.stdout)).toBe("2 passed, 2 failed");
    expect(run.stdout).toContain("src/app.ts(3,1): error TS2304");
    expect(run.stdout).toMatch(/^runfiles +0\.0s {2}skipped +a build failed: the runfiles layout needs every compiled output$/m);
    expect(run.stdout).toContain("FAILED: @fixture/broken (step: build, log: out/logs/services-broken.build.log)");
    expect(run.stdout).toContain(
      "FAILED: //services/red:test of @fixture/red FAILED (step: test, log: out/testlogs/services/red/test/test.log)",
    );
    expect(fs.existsSync(path.join(root, "out", "flake-report.json"))).toBe(true);
    expect(run.stdout).toContain("| `//services/broken:test` | FAILED_TO_BUILD | 0 | not run: build @fixture/broken failed |");
    // Every target has its JUnit file, the one that did not build too.
    for (const target of ["common/logger", "services/red", "services/broken"]) {
      expect(fs.existsSync(path.join(root, "out/testlogs", target, "test/test.xml"))).toBe(true);
    }
    expect(run.stdout).toMatch(/^test FAILED in \d+\.\ds$/m);
  });

  it("never runs the compiled copy of a deleted test: tsc's outputs without a source are removed first", async () => {
    const root = fixtureWorkspace(
      [
        tscPackage("common/calc", "@fixture/calc", {
          "src/index.ts": "export const two = 2;\n",
          "test/globals.d.ts": JEST_GLOBALS,
          "test/keep.test.ts": passingTsTest(),
          "test/gone.test.ts": passingTsTest("deleted later"),
        }),
      ],
      { ...TSC_BASE, "jest.config.js": repositoryJestConfig() },
    );
    const first = await runCli(["test", "--engine", "pnpm"], root);
    expect(first.code).toBe(0);
    expect(lastLine(first.stdout)).toBe("2 passed, 0 failed");
    expect(fs.existsSync(path.join(root, "common/calc/dist/test/gone.test.js"))).toBe(true);

    fs.rmSync(path.join(root, "common/calc/test/gone.test.ts"));
    const second = await runCli(["test", "--engine", "pnpm"], root);
    expect(second.stdout).toContain("@fixture/calc: removed 3 compiled files that no source produces any more");
    expect(second.stdout).toMatch(/^build +\d+\.\ds {2}ok +1 built$/m);
    expect(lastLine(second.stdout)).toBe("1 passed, 0 failed");
    expect(fs.existsSync(path.join(root, "common/calc/dist/test/gone.test.js"))).toBe(false);
  });

  it("build (what pnpm build runs) removes the outputs of a deleted source too, so no later jest run finds them", async () => {
    const root = fixtureWorkspace(
      [
        tscPackage("common/calc", "@fixture/calc", {
          "src/index.ts": "export const two = 2;\n",
          "src/gone.ts": "export const three = 3;\n",
          "test/globals.d.ts": JEST_GLOBALS,
          "test/gone.test.ts": passingTsTest("deleted later"),
        }),
      ],
      TSC_BASE,
    );
    const first = await runCli(["build"], root);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^build +\d+\.\ds {2}ok +1 built$/m);
    expect(fs.existsSync(path.join(root, "common/calc/dist/test/gone.test.js"))).toBe(true);

    fs.rmSync(path.join(root, "common/calc/test/gone.test.ts"));
    fs.rmSync(path.join(root, "common/calc/src/gone.ts"));
    const second = await runCli(["build"], root);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("@fixture/calc: removed 6 compiled files that no source produces any more");
    expect(fs.readdirSync(path.join(root, "common/calc/dist/src")).sort()).toEqual(["index.d.ts", "index.js", "index.js.map"]);
    expect(fs.existsSync(path.join(root, "common/calc/dist/test/gone.test.js"))).toBe(false);
  });
});

describe("on a terminal", () => {
  it("runs in a real terminal (a pty from script(1)) and is removed before the report", () => {
    const root = fixtureWorkspace([
      { dir: "common/a", name: "@fixture/a", files: { "test/a.test.js": passingTest() } },
      { dir: "common/b", name: "@fixture/b", files: { "test/b.test.js": passingTest() } },
    ]);
    const typescript = path.join(root, "typescript.txt");
    // A pty as wide as a usual terminal (script's own has no size).
    const command = `stty cols 120; ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} test --engine pnpm --jobs 1`;
    // script(1), util-linux: -q quiet, -e its exit code is the command's, -c the command; the last argument: where the pty's output goes.
    const result = spawnSync("script", ["-qec", command, typescript], {
      cwd: root,
      env: { ...process.env, GITHUB_STEP_SUMMARY: "" },
      encoding: "utf8",
    });
    // Without script's own first and last lines ("Script started/done on ..."), with the pty's CR LF as LF.
    const screen = fs
      .readFileSync(typescript, "utf8")
      .replace(/\r\n/g, "\n")
      .replace(/^Script (started|done) on .*\n/gm, "");
    expect(result.status).toBe(0);
    expect(screen).toMatch(/\r\x1b\[2K0\/2 targets done, \d+s \| running: \/\/common\/\w:test/);
    expect(screen).toMatch(
      /\r\x1b\[2K {4}\/\/common\/\w:test attempt 1\/1: PASSED in \d+\.\ds \(1 passed, 0 failed\); 1 of 2 targets done\n/,
    );
    // The live line is erased for good before the test stage line: nothing after it is redrawn, and the
    // last line is the counts line, alone.
    const end = screen.slice(screen.indexOf("\r\x1b[2Ktest "));
    expect(end).toMatch(/^\r\x1b\[2Ktest +\d+\.\ds {2}ok +2 targets: 2 green, 0 red\n(?:.*\n)*?report /);
    expect(end.slice("\r\x1b[2K".length)).not.toContain("\x1b");
    expect(screen.trimEnd().split("\n").at(-1)).toBe("2 passed, 0 failed");
  });
});

describe("interrupting", () => {
  it("stops the running jest on SIGINT, reports what ran and what did not, and exits 130", async () => {
    const pidFile = path.join(tempDir(), "jest.pid");
    const slow = `require("fs").writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));
test("waits for an upstream that never answers", () => new Promise((resolve) => setTimeout(resolve, 60000)), 70000);
`;
    // One target at a time, in folder order (JavaScript tests weigh nothing in the ranking): a passes,
    // b is interrupted, c never starts.
    const root = fixtureWorkspace([
      { dir: "services/a", name: "@fixture/a", files: { "test/a.test.js": passingTest() } },
      { dir: "services/b", name: "@fixture/b", files: { "test/b.test.js": slow } },
      { dir: "services/c", name: "@fixture/c", files: { "test/c.test.js": passingTest() } },
    ]);
    // Interrupted once jest is running (it wrote its pid); if it never does, the pid read below fails.
    const run = await runCli(["test", "--engine", "pnpm", "--jobs", "1"], root, {}, (child) => {
      void waitFor(() => fs.existsSync(pidFile), 60_000)
        .catch(() => undefined)
        .then(() => child.kill("SIGINT"));
    });
    expect(run.code).toBe(130);
    expect(run.stderr).toBe("pipeline.sh: SIGINT received, stopping; SIGINT again exits at once\n");
    expect(run.stdout).toContain("//services/a:test attempt 1/1: PASSED");
    expect(run.stdout).toContain("//services/b:test attempt 1/1: INCOMPLETE");
    expect(run.stdout).toMatch(/^test +\d+\.\ds {2}stopped 3 targets: 1 green, 0 red, 2 not run$/m);
    expect(run.stdout).toContain("3 test targets: 1 passed, 0 flaky, 0 failed, 2 not run.");
    expect(run.stdout).toContain(
      "### Not run (interrupted)\n- `//services/b:test` INCOMPLETE (stopped while it ran)\n- `//services/c:test` INCOMPLETE (not run: interrupted)\n",
    );
    expect(run.stdout).not.toContain("FAILED");
    expect(run.stdout).toMatch(/\ntest interrupted in \d+\.\ds: 1 of 3 targets ran, 2 not run\n1 passed, 0 failed\n$/);
    const report = JSON.parse(fs.readFileSync(path.join(root, "artifacts", "flake-report.json"), "utf8"));
    expect(report.summary).toMatchObject({ targets: 3, passed: 1, failed: 0, notRun: 2 });
    const jestPid = Number(fs.readFileSync(pidFile, "utf8"));
    expect(isRunning(jestPid)).toBe(false);
  });

  it("stops the running jest when its output is closed (`| head`), and exits 130 without a crash", async () => {
    const dir = tempDir();
    const pidFile = path.join(dir, "jest.pid");
    const closed = path.join(dir, "closed");
    const slow = `require("fs").writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));
test("waits for an upstream that never answers", () => new Promise((resolve) => setTimeout(resolve, 60000)), 70000);
`;
    // Passes once the reader has gone, so that the pipeline then writes its line into a closed pipe.
    const quick = `test("after the reader left", async () => {
  const fs = require("fs");
  for (let i = 0; i < 600 && !fs.existsSync(${JSON.stringify(closed)}); i++) await new Promise((r) => setTimeout(r, 50));
});
`;
    const root = fixtureWorkspace([
      { dir: "services/slow", name: "@fixture/slow", files: { "test/slow.test.js": slow } },
      { dir: "services/quick", name: "@fixture/quick", files: { "test/quick.test.js": quick } },
    ]);
    const child = spawn(process.execPath, [CLI, "test", "--engine", "pnpm", "--jobs", "2"], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    await waitFor(() => fs.existsSync(pidFile), 60_000);
    child.stdout.destroy();
    fs.writeFileSync(closed, "");
    expect(await exited).toBe(130);
    expect(stderr).toBe("pipeline.sh: standard output closed (EPIPE), stopping\n");
    expect(isRunning(Number(fs.readFileSync(pidFile, "utf8")))).toBe(false);
  });
});

describe("ci", () => {
  it("builds and tests only what a branch changed, says what it skipped, and picks pnpm where Bazel cannot run", async () => {
    const tests = (file: string) => ({ "src/index.ts": "export {};\n", "test/globals.d.ts": JEST_GLOBALS, [file]: passingTsTest() });
    const logger = { "@fixture/logger": "common/logger" };
    const root = fixtureWorkspace(
      [
        tscPackage("common/logger", "@fixture/logger", tests("test/a.test.ts")),
        tscPackage("services/user", "@fixture/user", tests("test/u.test.ts"), logger),
        tscPackage("services/trading", "@fixture/trading", tests("test/t.test.ts"), logger),
      ],
      { ...TSC_BASE, "jest.config.js": repositoryJestConfig() },
    );
    git(root, "checkout", "-q", "-b", "feature");
    writeFiles(root, { "services/user/test/u2.test.ts": passingTsTest("new route") });
    commitAll(root, "user change");
    const run = await runCli(["ci"], root);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^engine .* pnpm \(Bazel unusable: no MODULE.bazel in the workspace\)$/m);
    expect(run.stdout).toMatch(/^affected .* 1 of 3 packages \(1 changed, 0 dependent\); 1 changed file since \w+, merge-base with main$/m);
    expect(run.stdout).toContain("skipped, not affected by the change: @fixture/logger, @fixture/trading");
    expect(run.stdout).toContain("skipped: //services/trading:perf_test");
    // The unaffected dependency is still built (the user package needs it), but only its dependent is tested.
    expect(run.stdout).toMatch(/^build +\d+\.\ds {2}ok +2 built$/m);
    expect(run.stdout).not.toContain("//common/logger:test attempt");
    // Green: one summary line and where the table is, not the table.
    expect(run.stdout).toContain("\n1 test target: 1 passed, 0 flaky, 0 failed (table: artifacts/flake-report.md)\n");
    expect(run.stdout).not.toContain("| target |");
    expect(fs.readFileSync(path.join(root, "artifacts", "flake-report.md"), "utf8")).toContain("| `//services/user:test` | PASSED |");
    expect(run.stdout).toMatch(/^ci passed in \d+\.\ds: tested 1 of 3 packages \(2 not affected\)\n2 passed, 0 failed\n$/m);

    // Run again with nothing new: tsc finds both outputs current and compiles nothing.
    const again = await runCli(["ci", "--engine", "pnpm"], root);
    expect(again.stdout).toMatch(/^build +\d+\.\ds {2}ok +0 built, 2 up to date/m);
    expect(lastLine(again.stdout)).toBe("2 passed, 0 failed");
  });

  it("says there is nothing to do on a branch without changes of its own", async () => {
    const root = fixtureWorkspace([{ dir: "common/logger", name: "@fixture/logger", files: { "test/a.test.js": passingTest() } }]);
    git(root, "checkout", "-q", "-b", "feature");
    const run = await runCli(["ci", "--engine", "pnpm"], root);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^affected .* no package: no file changed since \w+, merge-base with main$/m);
    expect(run.stdout).toContain("skipped: the only package, as the change affects none of them");
    expect(run.stdout).toMatch(/^ci passed in \d+\.\ds: nothing to build or test\n0 passed, 0 failed\n$/m);
  });

  it("takes --all as everything, whatever the diff", async () => {
    const root = fixtureWorkspace([{ dir: "devops/tools", name: "@fixture/tools", scripts: { test: "false" } }]);
    const run = await runCli(["ci", "--all", "--engine", "pnpm"], root);
    expect(run.stdout).toMatch(/^affected .* the only package: --all, whatever changed$/m);
    expect(run.stdout).toContain("//devops/tools:test attempt 1/1: FAILED");
    expect(run.code).toBe(1);
  });
});

const SERVICE = `const http = require("http");
http.createServer((req, res) => {
  res.statusCode = req.url === "/readiness" ? 200 : 404;
  res.end("{}");
}).listen(Number(process.env.PORT), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
`;
const MAINTENANCE = `const fs = require("fs");
const json = process.argv[process.argv.indexOf("--json") + 1];
const code = Number(process.env.FIXTURE_MAINTENANCE_EXIT || 0);
fs.writeFileSync(json, JSON.stringify({ ok: code === 0 }));
console.log(code === 0 ? "maintenance done" : "db: Deadlock detected");
process.exit(code);
`;

const DEPLOY_FACTS = { acme: { deploy: { pushSeconds: 10, deploySeconds: 10 } } };

describe("cd", () => {
  const setup = () =>
    fixtureWorkspace([
      { dir: "common/logger", name: "@monorepo/logger", files: { "dist/src/index.js": "exports.v = 1;\n" } },
      {
        dir: "services/user",
        name: "@monorepo/user-service",
        dependencies: { "@monorepo/logger": "workspace:*" },
        scripts: { start: "node dist/src/main.js" },
        manifest: DEPLOY_FACTS,
        files: { "dist/src/main.js": SERVICE },
      },
      {
        dir: "services/trading",
        name: "@monorepo/trading-service",
        scripts: { start: "node dist/src/main.js" },
        manifest: DEPLOY_FACTS,
        files: { "dist/src/main.js": SERVICE },
      },
      {
        dir: "devops/maintenance",
        name: "@monorepo/maintenance",
        manifest: { bin: { maintenance: "dist/src/cli.js" } },
        files: { "dist/src/cli.js": MAINTENANCE },
      },
    ]);
  const env = { SIMULATION_TIME_SCALE: "0.001", VERSION: "1.2.3" };

  it("stops with exit 1 and deploys nothing when maintenance fails", async () => {
    const root = setup();
    const run = await runCli(["cd", "--engine", "pnpm"], root, { ...env, FIXTURE_MAINTENANCE_EXIT: "1" });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^maintenance +\d+\.\ds {2}FAILED {2}a subsystem failed; stopping before any publish or deploy$/m);
    expect(run.stdout).toContain(
      "FAILED: @monorepo/maintenance (a subsystem failed) (step: maintenance, log: artifacts/logs/maintenance.log)",
    );
    expect(run.stdout).not.toMatch(/: (published|ready on|deployed) /);
    expect(fs.existsSync(path.join(root, ".pipeline", "deployed.json"))).toBe(false);
  });

  it("deploys every service first, then only those whose build output changed", async () => {
    const root = setup();
    const first = await runCli(["cd"], root, env);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("@monorepo/user-service: ready on 127.0.0.1:");
    expect(first.stdout).toContain("@monorepo/trading-service: deployed @monorepo/trading-service:1.2.3");
    expect(first.stdout).toMatch(/: deployed @monorepo\/\w+-service:1\.2\.3 in \d+\.\ds; 2 of 2 services done$/m);
    expect(lastLine(first.stdout)).toMatch(/^cd passed in .*: deployed @monorepo\/trading-service@1.2.3, @monorepo\/user-service@1.2.3$/);
    const state = JSON.parse(fs.readFileSync(path.join(root, ".pipeline", "deployed.json"), "utf8"));
    expect(Object.keys(state).sort()).toEqual(["@monorepo/trading-service", "@monorepo/user-service"]);
    expect(fs.readFileSync(path.join(root, "artifacts", "maintenance.json"), "utf8")).toBe('{"ok":true}');

    const unchanged = await runCli(["cd"], root, { ...env, VERSION: "1.2.4" });
    expect(unchanged.code).toBe(0);
    expect(unchanged.stdout).toMatch(/^select .* 0 of 2 services to deploy/m);
    expect(unchanged.stdout).toMatch(/^deploy +0\.0s {2}skipped no service's build output changed since its last deploy$/m);
    expect(lastLine(unchanged.stdout)).toMatch(
      /deployed nothing; unchanged, not deployed: @monorepo\/trading-service, @monorepo\/user-service$/,
    );

    // A change in a runtime dependency's output redeploys the service that ships it, and only that one.
    writeFiles(root, { "common/logger/dist/src/index.js": "exports.v = 2;\n" });
    const changed = await runCli(["cd"], root, { ...env, VERSION: "1.2.5" });
    expect(changed.stdout).toContain("@monorepo/user-service: deploy, build output changed since 1.2.3");
    expect(changed.stdout).toContain("@monorepo/trading-service: skip, build output unchanged since 1.2.3");
    expect(lastLine(changed.stdout)).toMatch(
      /deployed @monorepo\/user-service@1.2.5; unchanged, not deployed: @monorepo\/trading-service$/,
    );
  });

  it("refuses to publish a version again with other content, and publishes the same content only once", async () => {
    const root = setup();
    expect((await runCli(["cd"], root, env)).code).toBe(0);
    const registryIndex = path.join(root, ".pipeline", "registry.json");
    const published = fs.readFileSync(registryIndex, "utf8");

    writeFiles(root, { "common/logger/dist/src/index.js": "exports.v = 2;\n" });
    const reused = await runCli(["cd"], root, env);
    expect(reused.code).toBe(1);
    expect(reused.stdout).toMatch(/^release +\d+\.\ds {2}FAILED {2}version 1\.2\.3 is already published with other content$/m);
    expect(reused.stdout).toMatch(
      /^FAILED: @monorepo\/user-service@1\.2\.3 was already published with other content \(build output \w{12}, this build \w{12}\); a published version never changes: set another VERSION \(step: release\)$/m,
    );
    expect(reused.stdout).not.toMatch(/: (published|ready on|deployed) /);
    expect(lastLine(reused.stdout)).toMatch(/^cd FAILED in .*: nothing published or deployed$/);
    expect(fs.readFileSync(registryIndex, "utf8")).toBe(published);

    // The deploy record lost (another checkout, a cleaned machine): the registry still knows 1.2.3.
    writeFiles(root, { "common/logger/dist/src/index.js": "exports.v = 1;\n" });
    fs.rmSync(path.join(root, ".pipeline", "deployed.json"));
    const same = await runCli(["cd"], root, env);
    expect(same.code).toBe(0);
    expect(same.stdout).toMatch(
      /^release +\d+\.\ds {2}ok +version 1\.2\.3: 0 to publish, 2 services already published with this content$/m,
    );
    expect(same.stdout).toContain(
      "@monorepo/user-service: @monorepo/user-service:1.2.3 already published with this content, not published again",
    );
    expect(same.stdout).toContain("@monorepo/user-service: deployed @monorepo/user-service:1.2.3");
    expect(fs.readFileSync(registryIndex, "utf8")).toBe(published);
  });

  it("deploys a new service from the facts in its package.json, and names the file when they are missing", async () => {
    const quotes = (manifest: Record<string, unknown>) => ({
      dir: "services/quotes",
      name: "@fixture/quotes",
      scripts: { start: "node dist/src/main.js" },
      manifest,
      files: { "dist/src/main.js": SERVICE.replace('"/readiness"', '"/ready"') },
    });
    const maintenance = {
      dir: "devops/maintenance",
      name: "@monorepo/maintenance",
      manifest: { bin: { maintenance: "dist/src/cli.js" } },
      files: { "dist/src/cli.js": MAINTENANCE },
    };
    const root = fixtureWorkspace([
      quotes({ acme: { deploy: { pushSeconds: 5, deploySeconds: 5, readinessPath: "/ready" } } }),
      maintenance,
    ]);
    const run = await runCli(["cd"], root, env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/@fixture\/quotes: ready on 127\.0\.0\.1:\d+ \(GET \/ready 200\)/);
    expect(lastLine(run.stdout)).toMatch(/deployed @fixture\/quotes@1\.2\.3$/);

    const bare = fixtureWorkspace([quotes({}), maintenance]);
    const refused = await runCli(["cd"], bare, env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(
      'FAILED: services/quotes/package.json: "acme": {"deploy": {"pushSeconds": <seconds>}} is missing or not a number >= 0 (step: deploy facts)',
    );
    expect(fs.existsSync(path.join(bare, ".pipeline", "registry.json"))).toBe(false);
  });

  it("labels the release with the commit when VERSION is not set, marked -dirty with local changes", async () => {
    const root = setup();
    const sha = git(root, "rev-parse", "--short=10", "HEAD");
    const clean = await runCli(["cd"], root, { SIMULATION_TIME_SCALE: "0.001" });
    expect(clean.stdout).toContain(`as version ${sha}\n`);
    writeFiles(root, { "services/user/user.json": "{}\n" });
    const dirty = await runCli(["cd"], root, { SIMULATION_TIME_SCALE: "0.001" });
    expect(
      lastLine(dirty.stdout).endsWith(`: deployed @monorepo/user-service@${sha}-dirty; unchanged, not deployed: @monorepo/trading-service`),
    ).toBe(true);
  });

  it("does not record a deploy whose readiness gate failed", async () => {
    const root = setup();
    writeFiles(root, { "services/trading/dist/src/main.js": "console.error('stocks.json: unexpected end of JSON'); process.exit(1);\n" });
    const run = await runCli(["cd"], root, env);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      "FAILED: @monorepo/trading-service: @monorepo/trading-service exited with code 1 before it was ready (step: readiness, log: artifacts/logs/services-trading.readiness.log)",
    );
    const state = JSON.parse(fs.readFileSync(path.join(root, ".pipeline", "deployed.json"), "utf8"));
    expect(Object.keys(state)).toEqual(["@monorepo/user-service"]);
  });
});
