import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type NodeRun, type RunNodeOptions, runNode } from "@monorepo/testing";
import { TSC_BUILD_SCRIPT } from "../src";

/** The package folder: this file runs from its dist/test/. */
export const PACKAGE_DIR = path.resolve(__dirname, "..", "..");
/** The real workspace root: fixtures borrow its node_modules (jest, jest-junit) through a symlink. */
export const REPO_ROOT = path.resolve(PACKAGE_DIR, "..", "..");
/** The compiled CLI, beside this compiled file's folder. */
export const CLI = path.resolve(__dirname, "..", "src", "cli.js");
/** Test data, which stays in test/ (tsc compiles only the TypeScript). */
export const FIXTURES = path.join(PACKAGE_DIR, "test", "fixtures");

export type Files = Record<string, string | object>;

export function writeFiles(root: string, files: Files): void {
  for (const [file, content] of Object.entries(files)) {
    const abs = path.join(root, file);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, typeof content === "string" ? content : `${JSON.stringify(content, null, 2)}\n`);
  }
}

const tempDirs: string[] = [];

/** A new empty directory, removed once the test file that asked for it is done. */
export function tempDir(prefix = "pipeline-test-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

// Registered when a test file imports these helpers, so it runs after that file's tests.
afterAll(() => {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

export function git(root: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** A git repository on branch main holding `files` in one commit. */
export function makeRepo(files: Files): string {
  const root = tempDir();
  writeFiles(root, files);
  git(root, "init", "-q", "-b", "main");
  git(root, "config", "user.email", "test@example.com");
  git(root, "config", "user.name", "test");
  git(root, "add", "-A");
  git(root, "commit", "-q", "-m", "initial");
  return root;
}

export function commitAll(root: string, message: string): void {
  git(root, "add", "-A");
  git(root, "commit", "-q", "-m", message);
}

const JEST_CONFIG = `module.exports = { testEnvironment: "node", testMatch: ["<rootDir>/test/**/*.test.js"] };\n`;
const TEST_SCRIPT = "jest --config ../../jest.config.js --rootDir .";

export function passingTest(name = "adds"): string {
  return `test(${JSON.stringify(name)}, () => { expect(1 + 1).toBe(2); });\n`;
}

export function failingTest(name = "breaks"): string {
  return `test(${JSON.stringify(name)}, () => { expect(1 + 1).toBe(3); });\n`;
}

/** A test that fails on its first run and passes afterwards, counting runs in a file beside the package. */
export function failsOnceTest(name = "slow upstream answers"): string {
  return `const fs = require("fs");
const path = require("path");
const counter = path.join(__dirname, "..", "runs.txt");
const runs = (fs.existsSync(counter) ? Number(fs.readFileSync(counter, "utf8")) : 0) + 1;
fs.writeFileSync(counter, String(runs));
test(${JSON.stringify(name)}, () => { expect(runs).toBeGreaterThan(1); });
test("stays green", () => { expect(true).toBe(true); });
`;
}

export interface FixturePackage {
  dir: string;
  name: string;
  dependencies?: Record<string, string>;
  scripts?: Record<string, string>;
  /** Other package.json fields, e.g. "bin". */
  manifest?: Record<string, unknown>;
  files?: Files;
}

/** The shared tsconfig of fixtures whose packages build with `tsc --build`: no @types, so each compile reads a few thousand lines. */
export const TSC_BASE: Files = {
  "tsconfig.base.json": {
    compilerOptions: { target: "ES2022", lib: ["ES2022"], types: [], module: "commonjs", strict: true, declaration: true, sourceMap: true },
  },
};

/** jest's one global a fixture's TypeScript tests use, declared in place of @types/jest (put it in test/). */
export const JEST_GLOBALS = "declare function test(name: string, fn: () => void | Promise<void>): void;\n";

/** A TypeScript test that passes, using only JEST_GLOBALS. */
export function passingTsTest(name = "adds"): string {
  return `test(${JSON.stringify(name)}, () => {\n  if (1 + 1 !== 2) throw new Error("arithmetic");\n});\n`;
}

/**
 * A fixture package built as the repository's are: `tsc --build`, outputs in dist/, a composite
 * project referencing the workspace packages it depends on (`deps`: name -> folder).
 */
export function tscPackage(dir: string, name: string, files: Files, deps: Record<string, string> = {}): FixturePackage {
  const references = Object.values(deps).map((depDir) => ({ path: path.posix.relative(dir, depDir) }));
  const tsconfig = { extends: "../../tsconfig.base.json", compilerOptions: { outDir: "dist", composite: true }, include: ["src", "test"] };
  return {
    dir,
    name,
    dependencies: Object.fromEntries(Object.keys(deps).map((d) => [d, "workspace:*"])),
    scripts: { build: TSC_BUILD_SCRIPT },
    manifest: { main: "dist/src/index.js", types: "dist/src/index.d.ts" },
    files: { "tsconfig.json": references.length > 0 ? { ...tsconfig, references } : tsconfig, ...files },
  };
}

/** The repository's own jest config (the compiled tests in dist/test/), for fixtures whose packages build with tsc. */
export function repositoryJestConfig(): string {
  return fs.readFileSync(path.join(REPO_ROOT, "jest.config.js"), "utf8");
}

/**
 * A small pnpm-style workspace in a git repo: root manifests, the shared jest config, a flaky
 * policy, and packages whose test script is the real one (jest through the borrowed node_modules).
 */
export function fixtureWorkspace(packages: FixturePackage[], extra: Files = {}): string {
  const files: Files = {
    "pnpm-workspace.yaml": "packages:\n  - common/*\n  - services/*\n  - devops/*\n",
    "package.json": { name: "fixture", private: true },
    "jest.config.js": JEST_CONFIG,
    "test-targets.json": {},
    ".gitignore": "node_modules\nartifacts/\n.pipeline/\nruns.txt\ndist/\n*.tsbuildinfo\n",
    ...extra,
  };
  for (const p of packages) {
    files[`${p.dir}/package.json`] = {
      name: p.name,
      version: "1.0.0",
      ...p.manifest,
      dependencies: p.dependencies ?? {},
      scripts: { build: "true", test: TEST_SCRIPT, ...p.scripts },
    };
    Object.assign(files, Object.fromEntries(Object.entries(p.files ?? {}).map(([f, c]) => [`${p.dir}/${f}`, c])));
  }
  const root = makeRepo(files);
  linkNodeModules(root);
  return root;
}

/** What a fixture's bazel-tools answers to `runfiles-test --json`: a run of no targets (fixtures have no BUILD files). */
const EMPTY_RUNFILES_RUN = `console.log(JSON.stringify({ event: "done", report: { targets: [] } }));\n`;

/**
 * The repository's node_modules, entry by entry, but for @monorepo/bazel-tools: the fixture gets a
 * stand-in that speaks the runfiles-test --json protocol. The real one is not a dependency of the
 * pipeline and may still be unbuilt, or half-written, while these tests run beside the build.
 */
function linkNodeModules(root: string): void {
  const source = path.join(REPO_ROOT, "node_modules");
  const target = path.join(root, "node_modules");
  const scope = path.join(source, "@monorepo");
  fs.mkdirSync(path.join(target, "@monorepo"), { recursive: true });
  for (const entry of fs.readdirSync(source).filter((name) => name !== "@monorepo")) {
    fs.symlinkSync(path.join(source, entry), path.join(target, entry));
  }
  for (const entry of (fs.existsSync(scope) ? fs.readdirSync(scope) : []).filter((name) => name !== "bazel-tools")) {
    fs.symlinkSync(path.join(scope, entry), path.join(target, "@monorepo", entry));
  }
  installBazelTools(root, EMPTY_RUNFILES_RUN);
}

/** A bazel-tools package in the workspace's root node_modules whose bin runs `script` (CommonJS) in place of the real CLI. */
export function installBazelTools(root: string, script: string): void {
  const installed = path.join(root, "node_modules", "@monorepo", "bazel-tools");
  fs.mkdirSync(installed, { recursive: true });
  fs.writeFileSync(
    path.join(installed, "package.json"),
    JSON.stringify({ name: "@monorepo/bazel-tools", bin: { "bazel-tools": "cli.js" } }),
  );
  fs.writeFileSync(path.join(installed, "cli.js"), script);
}

/**
 * Runs the built CLI as a user would, in `cwd`, to the end (exit code and whole output); no GitHub
 * step summary unless `env` sets one. `whileRunning` gets the child, e.g. to interrupt it.
 */
export function runCli(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
  whileRunning?: RunNodeOptions["whileRunning"],
): Promise<NodeRun> {
  return runNode(CLI, args, { cwd, env: { GITHUB_STEP_SUMMARY: "", ...env }, whileRunning });
}

export function lastLine(text: string): string {
  return text.trimEnd().split("\n").at(-1) ?? "";
}

/** Alive and not a zombie (an orphan's zombie lingers until init reaps it, and this machine's init may be slow). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
