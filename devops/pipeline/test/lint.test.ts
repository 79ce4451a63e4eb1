import fs from "node:fs";
import path from "node:path";
import { runLint } from "../src/lint";
import { fixtureWorkspace, lastLine, REPO_ROOT, runCli, tempDir, writeFiles } from "./helpers";

const CONFIG = { formatter: { indentStyle: "space", lineWidth: 100 }, json: { formatter: { enabled: false } } };

/** A folder with a Biome config, the checkout's node_modules (for biome itself) and the given files. */
function lintedFolder(files: Record<string, string>): { root: string; artifacts: string } {
  const root = tempDir("pipeline-lint-");
  writeFiles(root, { "biome.json": CONFIG, ...files });
  fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(root, "node_modules"));
  return { root, artifacts: path.join(root, "artifacts") };
}

const TIDY = "export const answer = 42;\n";
const UNTIDY = "export   const answer=42\n";

describe("runLint", () => {
  it("fails on a file the formatter would change, and names it in the log", async () => {
    const { root, artifacts } = lintedFolder({ "src/tidy.ts": TIDY, "src/untidy.ts": UNTIDY });
    const outcome = await runLint({ root, artifacts, files: "all" });
    expect(outcome).toMatchObject({ status: "FAILED", files: "all", log: "lint.log" });
    const log = fs.readFileSync(path.join(artifacts, "lint.log"), "utf8");
    expect(log).toContain("src/untidy.ts");
    expect(log).not.toContain("src/tidy.ts");
  });

  it("passes once the file is formatted", async () => {
    const { root, artifacts } = lintedFolder({ "src/tidy.ts": TIDY });
    expect(await runLint({ root, artifacts, files: "all" })).toEqual({ status: "ok", files: "all" });
  });

  it("checks only the files it is given, leaving out deleted ones", async () => {
    const { root, artifacts } = lintedFolder({ "src/tidy.ts": TIDY, "src/untidy.ts": UNTIDY });
    expect(await runLint({ root, artifacts, files: ["src/tidy.ts", "src/deleted.ts"] })).toEqual({ status: "ok", files: 1 });
    expect(await runLint({ root, artifacts, files: ["src/deleted.ts"] })).toEqual({
      status: "skipped",
      reason: "no changed file to check",
    });
  });

  it("checks nothing in a workspace without a Biome config", async () => {
    const root = tempDir("pipeline-lint-");
    writeFiles(root, { "src/untidy.ts": UNTIDY });
    expect(await runLint({ root, artifacts: path.join(root, "artifacts"), files: "all" })).toEqual({
      status: "skipped",
      reason: "no biome.json",
    });
  });
});

describe("the lint stage", () => {
  it("fails the run on an untidy file but still runs the tests, so one run reports both", async () => {
    const root = fixtureWorkspace(
      [{ dir: "common/logger", name: "@fixture/logger", files: { "test/a.test.js": 'test("adds", () => expect(1 + 1).toBe(2));\n' } }],
      { "biome.json": { ...CONFIG, files: { includes: ["**/*.ts"] } }, "common/logger/src/untidy.ts": UNTIDY },
    );
    const run = await runCli(["test", "--engine", "pnpm", "--no-runfiles"], root);
    expect(run.stdout).toMatch(/^lint +\d+\.\ds {2}FAILED +every file: biome ci exited 1/m);
    expect(run.stdout).toContain("//common/logger:test attempt 1/1: PASSED");
    expect(run.stdout).toContain(
      "FAILED: format and lint (biome ci exited 1: run `pnpm format` for the formatting, the log names the rest) (step: lint, log: artifacts/lint.log)",
    );
    expect(lastLine(run.stdout)).toBe("1 passed, 0 failed");
    expect(run.code).toBe(1);
  });
});
