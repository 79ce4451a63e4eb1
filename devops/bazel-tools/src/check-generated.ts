import type { Finding } from "./deps";
import { GENERATOR_COMMAND, generate, staleDiff, staleFiles } from "./generate";

/**
 * (c) generated: Gazelle's check mode. Everything the generator owns (BUILD files, tsconfig
 * references, .bazelignore, .bazelrc's flaky block) is generated afresh and compared with the
 * checkout; each file that differs is a finding with its unified diff, and so is each problem the
 * generator reports (an import Bazel cannot resolve, a declared test target that does not exist).
 */
export function checkGenerated(root: string): Finding[] {
  const { files, findings } = generate(root);
  return [
    ...findings.map((f) => ({ ...f, check: "generated" })),
    ...staleFiles(root, files).map((stale) => ({
      check: "generated",
      file: stale.path,
      message:
        stale.actual === undefined
          ? `missing; run \`${GENERATOR_COMMAND}\``
          : `differs from a fresh generation; run \`${GENERATOR_COMMAND}\`\n${staleDiff(stale)}`,
    })),
  ];
}
