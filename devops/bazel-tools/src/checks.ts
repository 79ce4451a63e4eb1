import { readBuildFiles } from "./build-files";
import { checkAttrs } from "./check-attrs";
import { checkBazelrc } from "./check-bazelrc";
import { checkFormat } from "./check-format";
import { checkGenerated } from "./check-generated";
import { checkJest } from "./check-jest";
import { checkLockfile } from "./check-lockfile";
import { checkModule } from "./check-module";
import { checkTsconfig } from "./check-tsconfig";
import type { Finding } from "./deps";

/**
 * The checks that stand in for a Bazel run on machines without Bazel, by name: the generated files
 * against a fresh generation, then what the generator does not decide.
 */
export const CHECKS = ["generated", "format", "attrs", "tsconfig", "jest", "lockfile", "module", "bazelrc"] as const;
export type CheckName = (typeof CHECKS)[number];

export function runChecks(root: string, only: readonly CheckName[] = CHECKS): Finding[] {
  const builds = only.some((c) => c === "attrs" || c === "tsconfig") ? readBuildFiles(root) : [];
  const run: Record<CheckName, () => Finding[]> = {
    generated: () => checkGenerated(root),
    format: () => checkFormat(root),
    attrs: () => checkAttrs(root, builds),
    tsconfig: () => checkTsconfig(root, builds),
    jest: () => checkJest(root),
    lockfile: () => checkLockfile(root),
    module: () => checkModule(root),
    bazelrc: () => checkBazelrc(root),
  };
  return only.flatMap((name) => run[name]());
}

export function formatFindings(findings: Finding[]): string {
  return findings.map((f) => `${f.file}: [${f.check}] ${f.message}`).join("\n");
}
