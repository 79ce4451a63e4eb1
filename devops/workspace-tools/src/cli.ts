#!/usr/bin/env node
import fs from "node:fs";
import path from "node:path";
import { Builtins, Cli, Command, Option, UsageError } from "clipanion";
import * as t from "typanion";
import { CHECKS, formatFindings, runChecks, type CheckName } from "./checks";
import { describeStale, generate, staleFiles, writeFiles } from "./generate";

/**
 * The workspace to work on: --root, else the checkout `bazel run` was started in
 * (BUILD_WORKSPACE_DIRECTORY), else the nearest folder above the current one with pnpm-workspace.yaml.
 */
export function findRoot(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  if (explicit) {
    const root = path.resolve(cwd, explicit);
    if (!fs.existsSync(path.join(root, "pnpm-workspace.yaml"))) throw new UsageError(`${root} has no pnpm-workspace.yaml; --root must be the repository root`);
    return root;
  }
  if (env.BUILD_WORKSPACE_DIRECTORY) return env.BUILD_WORKSPACE_DIRECTORY;
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "pnpm-workspace.yaml"))) return dir;
    if (path.dirname(dir) === dir) throw new UsageError(`no pnpm-workspace.yaml in ${cwd} or above; run inside the repository or pass --root`);
  }
}

const rootOption = () =>
  Option.String("--root", { description: "Repository root (default: BUILD_WORKSPACE_DIRECTORY under `bazel run`, else the nearest folder with pnpm-workspace.yaml)" });

class GenerateCommand extends Command {
  static paths = [["generate"]];
  static usage = Command.Usage({
    description: "Write the BUILD.bazel files, the tsconfig references, .bazelignore and .bazelrc's flaky-test block from the workspace",
    details: `
      Like Gazelle: every package's BUILD.bazel is derived from its package.json, the imports of each .ts file under
      src/ and test/, its test files and its data files; the root BUILD.bazel from the shared configs. Each package's
      tsconfig.json gets \`references\` to the workspace packages it depends on, and the root tsconfig.json (what
      \`pnpm build\`, i.e. \`tsc --build\`, builds) references every package. .bazelignore gets a line per workspace
      package and .bazelrc the --flaky_test_attempts lines from flaky-tests.json. Output is buildifier-formatted.

      With --check nothing is written: files that differ from what would be generated are listed with the lines that
      change, and the exit code is 1.
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
      this.context.stdout.write(stale.length === 0 ? `${files.length} generated files are up to date\n` : `${stale.length} stale; run \`pnpm bazel:generate\`\n`);
      return stale.length === 0 && findings.length === 0 ? 0 : 1;
    }
    const written = writeFiles(root, files);
    for (const file of written) this.context.stdout.write(`wrote ${file}\n`);
    this.context.stdout.write(`${written.length} of ${files.length} generated files changed\n`);
    return findings.length === 0 ? 0 : 1;
  }
}

const isCheckList = t.isArray(t.isEnum(CHECKS));

class CheckCommand extends Command {
  static paths = [["check"]];
  static usage = Command.Usage({
    description: "Check the Bazel setup without Bazel: formatting, rule parameters, BUILD/workspace sync, tsconfig parity, lockfile, flaky policy, pins, .bazelrc",
    details: `
      Each check stands in for something only a real Bazel run would otherwise report:
        format    buildifier -mode=check -lint=warn on every Starlark file
        attrs     every rule call passes only parameters its pinned rule accepts (api.json), none its macro sets
        sync      BUILD files match package.json, imports and test files (and are not stale)
        tsconfig  ts_project attributes agree with tsconfig.json the way rules_ts's validator compares them
        lockfile  pnpm-lock.yaml is version 9.0, has a lifecycle allow-list and matches every package.json
        flaky     .bazelrc attempts and flaky = True agree with flaky-tests.json
        module    MODULE.bazel pins the researched versions; .bazelversion; node_modules ignored
        bazelrc   the .bazelrc settings the setup depends on

      Prints one line per finding and exits 1 if there is any.
    `,
    examples: [
      ["Run every check", "$0 check"],
      ["Only the lockfile and pins", "$0 check --only lockfile --only module"],
      ["Under Bazel, on the checkout it was started in", "bazel run //devops/workspace-tools -- check"],
    ],
  });

  root = rootOption();
  only = Option.Array("--only", { validator: isCheckList, description: `Run only these checks (${CHECKS.join(", ")})` });

  async execute(): Promise<number> {
    const root = findRoot(this.root);
    const findings = runChecks(root, (this.only as CheckName[] | undefined) ?? CHECKS);
    if (findings.length > 0) this.context.stdout.write(`${formatFindings(findings)}\n`);
    this.context.stdout.write(`${findings.length} finding(s)\n`);
    return findings.length === 0 ? 0 : 1;
  }
}

export function createCli(): Cli {
  const cli = new Cli({ binaryLabel: "workspace-tools", binaryName: "workspace-tools", binaryVersion: "1.0.0" });
  cli.register(GenerateCommand);
  cli.register(CheckCommand);
  cli.register(Builtins.HelpCommand);
  return cli;
}

if (require.main === module) {
  void createCli().runExit(process.argv.slice(2));
}
