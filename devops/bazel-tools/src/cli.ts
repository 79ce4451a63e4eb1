#!/usr/bin/env node
import { BaseCommand, type CliSpec, listOption, runMain } from "@monorepo/cli";
import { Command, Option } from "clipanion";
import { CHECKS, formatFindings, runChecks } from "./checks";
import { describeStale, generate, staleFiles, writeFiles } from "./generate";
import { findRoot, rootOption } from "./root";
import { RunfilesTestCommand } from "./runfiles/command";

export { findRoot } from "./root";

class GenerateCommand extends BaseCommand {
  static paths = [["generate"]];
  static usage = Command.Usage({
    description: "Write the BUILD.bazel files, the tsconfig references, .bazelignore and .bazelrc's flaky-test block from the workspace",
    details: `
      Like Gazelle: every package's BUILD.bazel is derived from its package.json, the imports of each .ts file under
      src/ and test/, its test files and its data files; the root BUILD.bazel from the shared configs. Each package's
      tsconfig.json gets \`references\` to the workspace packages it depends on, and the root tsconfig.json (what
      \`tsc --build\` and \`pnpm build\` build) references every package. .bazelignore gets a line per workspace
      package and .bazelrc the --flaky_test_attempts lines from test-targets.json. Output is buildifier-formatted.

      With --check nothing is written (Gazelle's -mode=diff): each file that differs from what would be generated is
      shown as a unified diff from the file on disk to the generated one, and the exit code is 1.

      Exit codes: 0 written (or up to date); 1 stale files, generator findings, or a workspace it cannot read; 2 usage
      error.
    `,
    examples: [
      ["Regenerate after adding a file or an import", "$0 generate"],
      ["Fail if any generated file is stale (CI)", "$0 generate --check"],
    ],
  });

  root = rootOption();
  check = Option.Boolean("--check", false, { description: "Only report stale files (exit 1 if any)" });

  async execute(): Promise<number> {
    const root = findRoot(this.root);
    const { files, findings } = generate(root);
    if (findings.length > 0) this.context.stderr.write(`${formatFindings(findings)}\n`);
    if (this.check) {
      const stale = staleFiles(root, files);
      for (const file of stale) this.context.stdout.write(`${describeStale(file)}\n`);
      this.context.stdout.write(
        stale.length === 0 ? `${files.length} generated files are up to date\n` : `${stale.length} stale; run \`pnpm bazel:generate\`\n`,
      );
      return stale.length === 0 && findings.length === 0 ? 0 : 1;
    }
    const written = writeFiles(root, files);
    for (const file of written) this.context.stdout.write(`wrote ${file}\n`);
    this.context.stdout.write(`${written.length} of ${files.length} generated files changed\n`);
    return findings.length === 0 ? 0 : 1;
  }
}

class CheckCommand extends BaseCommand {
  static paths = [["check"]];
  static usage = Command.Usage({
    description:
      "Check the Bazel setup without Bazel: generated files against a fresh generation, then formatting, rule parameters, tsconfig options, jest, lockfile, pins, .bazelrc",
    details: `
      Like Gazelle's check mode, "generated" regenerates everything \`generate\` writes and compares it with the
      checkout; the other checks cover only what the generator does not decide. Each stands in for something only
      a real Bazel run would otherwise report:

      - generated: BUILD files, tsconfig references, .bazelignore and .bazelrc's flaky block equal a fresh
        generation (a unified diff for each that does not), and the generator's own findings
      - format: buildifier -mode=check -lint=warn on every Starlark file
      - attrs: every rule call passes only parameters its pinned rule accepts (api.json), none its macro sets
      - tsconfig: CommonJS output, no preserveSymlinks or tsBuildInfoFile, declarations for libraries, deps for
        compilerOptions.types, a package.json "main" that is compiled output
      - jest: the root package.json lists jest-cli and jest-junit; the jest configs load and set no "projects"
      - lockfile: pnpm-lock.yaml is version 9.0, has a lifecycle allow-list that allows no install script and matches every package.json
      - module: MODULE.bazel pins the researched versions; .bazelversion; node_modules ignored
      - bazelrc: the .bazelrc settings the setup depends on; flaky attempts only in the generated block

      Prints one finding per line (a stale file with its diff below). Exit codes: 0 no finding; 1 findings, or a workspace it cannot read; 2 usage error.
    `,
    examples: [
      ["Run every check", "$0 check"],
      ["Only the lockfile and pins", "$0 check --only lockfile,module"],
      ["Under Bazel, on the checkout it was started in", "bazel run //devops/bazel-tools -- check"],
    ],
  });

  root = rootOption();
  only = listOption("--only", CHECKS, { description: "Run only these checks" });

  async execute(): Promise<number> {
    const root = findRoot(this.root);
    const findings = runChecks(root, this.only ?? CHECKS);
    if (findings.length > 0) this.context.stdout.write(`${formatFindings(findings)}\n`);
    this.context.stdout.write(`${findings.length} finding(s)\n`);
    return findings.length === 0 ? 0 : 1;
  }
}

export const BAZEL_TOOLS: CliSpec = {
  binaryName: "bazel-tools",
  binaryLabel: "bazel-tools: the BUILD generator, the Bazel checks and the runfiles-layout test mode",
  binaryVersion: "1.0.0",
  commands: [GenerateCommand, CheckCommand, RunfilesTestCommand],
};

if (require.main === module) runMain(BAZEL_TOOLS);
