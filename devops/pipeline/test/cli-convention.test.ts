import fs from "node:fs";
import path from "node:path";
import { runNode } from "@monorepo/testing";
import { CLI, makeRepo, tempDir, writeFiles } from "./helpers";

// The command-line convention as a user meets it, on the real CLI: nothing here needs a checkout's
// node_modules, since every case ends before anything is built.

const run = (args: string[], cwd = tempDir(), env: Record<string, string> = {}) => runNode(CLI, args, { cwd, env });
const usageError = (line: string) => ({ code: 2, stdout: "", stderr: `pipeline.sh: ${line}\n` });

describe("usage errors: exit 2, one line on stderr, nothing run", () => {
  it.each([
    [[], 'no command given: the commands are ci, cd, test, perf, build (see "pipeline.sh --help")'],
    [["deploy"], 'unknown command "deploy": the commands are ci, cd, test, perf, build (see "pipeline.sh --help")'],
    [["ci", "--all", "--base", "main"], 'mutually exclusive options --all and --base (see "pipeline.sh ci --help")'],
    [["ci", "--bsae", "main"], 'Unsupported option name ("--bsae") (see "pipeline.sh ci --help")'],
    [["ci", "--base"], 'Not enough arguments to option --base (see "pipeline.sh ci --help")'],
    [
      ["test", "--engine", "docker"],
      'Invalid value for --engine: expected one of "auto", "bazel", or "pnpm" (got "docker") (see "pipeline.sh test --help")',
    ],
    [["test", "--jobs", "0"], 'Invalid value for --jobs: expected to be at least 1 (got 0) (see "pipeline.sh test --help")'],
    [["perf", "--jobs", "many"], 'Invalid value for --jobs: expected a number (got "many") (see "pipeline.sh perf --help")'],
    [["cd", "now"], 'Extraneous positional argument ("now") (see "pipeline.sh cd --help")'],
  ])("%j", async (args, line) => {
    expect(await run(args)).toMatchObject(usageError(line));
  });
});

describe("a --base git does not know", () => {
  it("is a usage error, said before Bazel is probed", async () => {
    const root = makeRepo({
      "pnpm-workspace.yaml": "packages:\n  - common/*\n",
      "package.json": { name: "fixture", private: true },
      "MODULE.bazel": "",
    });
    const probed = path.join(root, "probed");
    const bazeliskHome = tempDir();
    writeFiles(root, { "node_modules/.bin/bazel": `#!/bin/sh\necho "$*" >> ${probed}\necho bazel 8.7.0\n` });
    writeFiles(bazeliskHome, { "downloads/bazelbuild/bazel-8.7.0-linux-x86_64/bin/bazel": "" });
    fs.chmodSync(path.join(root, "node_modules/.bin/bazel"), 0o755);
    const result = await run(["ci", "--base", "no-such-branch"], root, { BAZELISK_HOME: bazeliskHome });
    expect(result).toMatchObject(usageError('--base no-such-branch: not a commit in this repository (see "pipeline.sh ci --help")'));
    expect(fs.existsSync(probed)).toBe(false);
  });
});

describe("errors the user can act on: the message without a stack, exit 1", () => {
  it("a workspace the pipeline cannot read", async () => {
    const root = tempDir();
    writeFiles(root, { "pnpm-workspace.yaml": 'packages:\n  - "!services/*"\n', "package.json": { name: "fixture", private: true } });
    const result = await run(["test", "--engine", "pnpm"], root);
    expect(result).toMatchObject({ code: 1, stderr: 'pipeline.sh: unsupported negated workspace glob "!services/*"\n' });
  });
});

describe("--help", () => {
  const pipedColour = { FORCE_COLOR: "3", TERM: "xterm-256color" };

  it("lists every command with what it does, exit 0, no colour into a pipe", async () => {
    const help = await run(["--help"], undefined, pipedColour);
    expect(help).toMatchObject({ code: 0, stderr: "" });
    for (const command of ["ci", "cd", "test", "perf"])
      expect(help.stdout).toMatch(new RegExp(`^  pipeline.sh ${command} \\[--artifacts #0\\]`, "m"));
    expect(help.stdout).toContain("Build and test what the change affects");
    expect(help.stdout).not.toContain("\x1b[");
  });

  it.each([
    ["ci", "$ pipeline.sh ci --base origin/main~3"],
    ["cd", "$ VERSION=1.4.0 pipeline.sh cd"],
    ["test", "$ pipeline.sh test"],
    ["perf", "$ PERF_STOCK_COUNT=100000 pipeline.sh perf"],
  ])("%s --help and -h: options, details with the exit codes, examples", async (command, example) => {
    for (const flag of ["--help", "-h"]) {
      const help = await run([command, flag], undefined, pipedColour);
      expect(help).toMatchObject({ code: 0, stderr: "" });
      expect(help.stdout).toContain("--engine #0");
      // clipanion wraps the details at 80 columns.
      expect(help.stdout.replace(/\s+/g, " ")).toContain(
        "Exit codes: 0 done, every target green; 1 a target red or a step failed; 2 usage error",
      );
      expect(help.stdout).toContain(example);
      expect(help.stdout).not.toContain("\x1b[");
    }
  });
});
