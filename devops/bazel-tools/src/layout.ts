import fs from "node:fs";
import path from "node:path";
import type { WorkspacePackage } from "@monorepo/workspace";

/**
 * What the "one package, one room" layout says about a package's files:
 *   src/**.ts            the library (ts_project "tsc"); src/main.ts or src/cli.ts is the executable
 *   test/**.test.ts      jest tests (jest_test "test")
 *   test/**.repo.test.ts tests that read the whole checkout (jest_test "repo_test", manual)
 *   test/**.perf.ts      performance suite (jest_test "perf_test", manual, root jest.perf.config.js)
 *   test/** other .ts    helpers shared by the tests (compiled with the "test" group)
 *   test files named in test-targets.json with "files": a jest_test of their own
 *   other files in test/ test data; other files at the package root: runtime data (e.g. user.json)
 * tsc writes its outputs to dist/ (the tsconfig's outDir), never next to the sources: every file
 * beside them is a source or data, and dist/ is no part of the package's inputs. A .tsbuildinfo
 * (tsc's incremental state, wherever a build put it) is never runtime data.
 */
export interface TestGroup {
  /** jest_test target name. */
  target: string;
  /** ts_project compiling the group's files: "<target>_ts". */
  project: string;
  files: string[];
}

/** Test files a declaration moves out of their conventional group into a jest_test of their own. */
export interface TestSplit {
  target: string;
  /** Package-relative paths, e.g. "test/server.test.ts". */
  files: string[];
}

export interface PackageLayout {
  pkg: WorkspacePackage;
  /** Package-relative paths, sorted. */
  srcFiles: string[];
  /** Test helpers (test/ .ts files that are not tests themselves). */
  helperFiles: string[];
  testGroups: TestGroup[];
  /** Non-TypeScript files under test/. */
  testDataFiles: string[];
  /** Files at the package root the code reads at run time. */
  dataFiles: string[];
  /** "src/main.ts" or "src/cli.ts" when the package is an executable. */
  entryPoint?: string;
}

/** Helpers are compiled with the "test" group's files, so every group can depend on them. */
export const HELPERS_PROJECT = "test_ts";

const MANIFESTS = new Set(["package.json", "tsconfig.json", "BUILD.bazel", "BUILD"]);
const SKIPPED_DIRS = new Set(["node_modules", "coverage", "dist"]);

function isTypeScript(file: string): boolean {
  return (file.endsWith(".ts") || file.endsWith(".tsx")) && !file.endsWith(".d.ts");
}

/** Files under `dir` (package-relative, forward slashes), skipping hidden entries and dependency folders. */
export function listFiles(packageRoot: string, dir: string): string[] {
  const abs = path.join(packageRoot, dir);
  if (!fs.existsSync(abs)) return [];
  const files: string[] = [];
  for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
    if (entry.name.startsWith(".") || SKIPPED_DIRS.has(entry.name)) continue;
    const rel = dir === "" ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) files.push(...listFiles(packageRoot, rel));
    else if (entry.isFile()) files.push(rel);
  }
  return files.sort();
}

/** The conventional jest_test of a test file; undefined for helpers. */
function conventionalGroup(file: string): string | undefined {
  if (file.endsWith(".repo.test.ts")) return "repo_test";
  if (file.endsWith(".test.ts")) return "test";
  if (file.endsWith(".perf.ts")) return "perf_test";
  return undefined;
}

export function scanPackage(root: string, pkg: WorkspacePackage, splits: TestSplit[] = []): PackageLayout {
  const packageRoot = path.join(root, pkg.dir);
  const srcFiles = listFiles(packageRoot, "src").filter(isTypeScript);
  const testFiles = listFiles(packageRoot, "test");
  const grouped = new Map<string, string[]>();
  const helperFiles: string[] = [];
  const testDataFiles: string[] = [];
  for (const file of testFiles) {
    if (!isTypeScript(file)) {
      testDataFiles.push(file);
      continue;
    }
    const group = splits.find((split) => split.files.includes(file))?.target ?? conventionalGroup(file);
    if (group) grouped.set(group, [...(grouped.get(group) ?? []), file]);
    else helperFiles.push(file);
  }
  // "test" first: it is the package's main suite; the others follow by name.
  const order = (target: string) => (target === "test" ? "" : target);
  const testGroups = [...grouped.keys()]
    .sort((a, b) => order(a).localeCompare(order(b)))
    .map((target) => ({ target, project: `${target}_ts`, files: grouped.get(target)! }));
  const dataFiles = fs
    .readdirSync(packageRoot, { withFileTypes: true })
    .filter(
      (e) => e.isFile() && !e.name.startsWith(".") && !MANIFESTS.has(e.name) && !e.name.endsWith(".md") && !e.name.endsWith(".tsbuildinfo"),
    )
    .map((e) => e.name)
    .sort();
  const entryPoint = ["src/main.ts", "src/cli.ts"].find((file) => srcFiles.includes(file));
  return { pkg, srcFiles, helperFiles, testGroups, testDataFiles, dataFiles, entryPoint };
}

/** The ts_project that compiles a package-relative TypeScript file, if any. */
export function projectOfFile(layout: PackageLayout, file: string): string | undefined {
  if (layout.srcFiles.includes(file)) return "tsc";
  if (layout.helperFiles.includes(file)) return HELPERS_PROJECT;
  return layout.testGroups.find((g) => g.files.includes(file))?.project;
}

/**
 * Package-relative file a relative import resolves to, the way tsc resolves it
 * (x, x.ts, x/index.ts; "x.js" -> x.ts), among the files `isSource` accepts.
 */
export function resolveRelativeImport(fromFile: string, specifier: string, isSource: (file: string) => boolean): string | undefined {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(fromFile), specifier));
  const stem = base.replace(/\.(c|m)?js$/, "");
  const candidates = [base, `${stem}.ts`, `${stem}.tsx`, `${stem}/index.ts`, `${stem}/index.tsx`];
  return candidates.find(isSource);
}

/** Name of the js_binary for an executable package: the folder name, so `bazel run //services/user` works. */
export function binaryName(layout: PackageLayout): string {
  return path.posix.basename(layout.pkg.dir);
}
