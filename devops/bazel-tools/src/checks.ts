import { readBuildFiles } from "./build-files";
import { checkAttrs } from "./check-attrs";
import { checkBazelrc } from "./check-bazelrc";
import { checkFormat } from "./check-format";
import { checkLockfile } from "./check-lockfile";
import { checkModule } from "./check-module";
import { checkSync } from "./check-sync";
import { checkTsconfig } from "./check-tsconfig";
import type { Finding } from "./deps";

/** The checks that stand in for a Bazel run on machines without Bazel, by name. */
export const CHECKS = ["format", "attrs", "sync", "tsconfig", "lockfile", "module", "bazelrc"] as const;
export type CheckName = (typeof CHECKS)[number];

export function runChecks(root: string, only: readonly CheckName[] = CHECKS): Finding[] {
  const builds = only.some((c) => c === "attrs" || c === "sync" || c === "tsconfig") ? readBuildFiles(root) : [];
  const run: Record<CheckName, () => Finding[]> = {
    format: () => checkFormat(root),
    attrs: () => checkAttrs(root, builds),
    sync: () => checkSync(root, builds),
    tsconfig: () => checkTsconfig(root, builds),
    lockfile: () => checkLockfile(root),
    module: () => checkModule(root),
    bazelrc: () => checkBazelrc(root),
  };
  return only.flatMap((name) => run[name]());
}

export function formatFindings(findings: Finding[]): string {
  return findings.map((f) => `${f.file}: [${f.check}] ${f.message}`).join("\n");
}
