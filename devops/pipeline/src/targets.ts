import path from "node:path";
import type { WorkspacePackage } from "@monorepo/workspace";

/**
 * A test target, named as Bazel names it. Every package's default suite is `//<dir>:test` (its
 * package.json "test" script); the trading performance suite is `//services/trading:perf_test`
 * (script "test:perf"). The pnpm path runs the script, the Bazel path the jest_test of that label.
 */
export interface TestTarget {
  label: string;
  packageName: string;
  dir: string;
  script: string;
}

export const PERF_TARGET_LABEL = "//services/trading:perf_test";
const PERF_SCRIPT = "test:perf";

export function defaultTarget(pkg: WorkspacePackage): TestTarget {
  return { label: `//${pkg.dir}:test`, packageName: pkg.name, dir: pkg.dir, script: "test" };
}

export function perfTarget(pkg: WorkspacePackage): TestTarget {
  const label = `//${pkg.dir}:perf_test`;
  if (label !== PERF_TARGET_LABEL) throw new Error(`the perf suite lives in ${PERF_TARGET_LABEL}, not ${label}`);
  return { label, packageName: pkg.name, dir: pkg.dir, script: PERF_SCRIPT };
}

/** "//services/user:test" -> ["services/user", "test"]. */
export function splitLabel(label: string): [pkg: string, name: string] {
  const match = /^\/\/([^:]*):(.+)$/.exec(label);
  if (!match) throw new Error(`not a target label: ${label}`);
  return [match[1], match[2]];
}

/** Where a target's logs and JUnit files go, laid out like bazel-testlogs: <artifacts>/testlogs/<pkg>/<name>. */
export function testlogsDir(artifacts: string, label: string): string {
  const [pkg, name] = splitLabel(label);
  return path.join(artifacts, "testlogs", pkg, name);
}

/** A file-name-safe form of a package folder: "services/user" -> "services-user". */
export function slug(dir: string): string {
  return dir.replace(/[^\w.-]+/g, "-");
}
