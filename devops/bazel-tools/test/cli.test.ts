import fs from "node:fs";
import path from "node:path";
import { type RunNodeOptions, runNode } from "@monorepo/testing";
import { findRoot } from "../src/cli";
import { bazelWorkspace, replaceIn } from "./fixtures";

const CLI = path.resolve(__dirname, "..", "src", "cli.js");
/** Each test starts node processes that load TypeScript and run buildifier/buildozer: seconds on a busy 2-core machine. */
const PROCESS_TIMEOUT_MS = 60_000;

const run = (args: string[], options?: RunNodeOptions) => runNode(CLI, args, options);

describe("bazel-tools CLI", () => {
  it(
    "generate --check and check show stale files as diffs and fail; generate writes them; then check passes",
    async () => {
      const root = bazelWorkspace();
      const stale = await run(["generate", "--check", "--root", root]);
      expect(stale.code).toBe(1);
      expect(stale.stdout).toContain("services/user/BUILD.bazel: missing");
      expect(stale.stdout).toContain("\n+test --flaky_test_attempts=//services/user:test$@4\n");
      expect(fs.existsSync(path.join(root, "services/user/BUILD.bazel"))).toBe(false);
      const unchecked = await run(["check", "--root", root, "--only", "generated"]);
      expect(unchecked.code).toBe(1);
      expect(unchecked.stdout).toContain("services/user/BUILD.bazel: [generated] missing; run `pnpm bazel:generate`\n");
      expect(unchecked.stdout).toMatch(
        /^\.bazelrc: \[generated\] differs from a fresh generation; run `pnpm bazel:generate`\n--- \.bazelrc \(on disk\)\n/m,
      );

      const written = await run(["generate"], { cwd: path.join(root, "services/user/src") });
      expect(written).toMatchObject({ code: 0 });
      expect(written.stdout).toContain("wrote services/user/BUILD.bazel");

      const checked = await run(["check", "--root", root]);
      expect(checked).toMatchObject({ code: 0, stdout: "0 finding(s)\n" });
    },
    PROCESS_TIMEOUT_MS,
  );

  it(
    "prints every finding with its file and check, and exits 1",
    async () => {
      const root = bazelWorkspace();
      await run(["generate", "--root", root]);
      replaceIn(root, "MODULE.bazel", 'version = "0.26.0"', 'version = "0.25.3"');
      const result = await run(["check", "--root", root, "--only", "module"]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe(
        "MODULE.bazel: [module] bazel_dep aspect_rules_jest is 0.25.3; the researched consistent set pins 0.26.0\n1 finding(s)\n",
      );
    },
    PROCESS_TIMEOUT_MS,
  );

  it(
    "runs the checks given as one comma-separated --only",
    async () => {
      const root = bazelWorkspace();
      await run(["generate", "--root", root]);
      replaceIn(root, "MODULE.bazel", 'version = "0.26.0"', 'version = "0.25.3"');
      const result = await run(["check", "--root", root, "--only", "lockfile,module"]);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/^MODULE.bazel: \[module\] bazel_dep aspect_rules_jest is 0.25.3;.*\n1 finding\(s\)\n$/);
    },
    PROCESS_TIMEOUT_MS,
  );
});

describe("the CLI convention", () => {
  const usageError = (line: string) => ({ code: 2, stdout: "", stderr: `bazel-tools: ${line}\n` });

  it.each([
    [[], 'no command given: the commands are generate, check, runfiles-test (see "bazel-tools --help")'],
    [["build"], 'unknown command "build": the commands are generate, check, runfiles-test (see "bazel-tools --help")'],
    [
      ["runfiles-test", "--jobs", "0"],
      'Invalid value for --jobs: expected to be at least 1 (got 0) (see "bazel-tools runfiles-test --help")',
    ],
    [["check", "--fix"], 'Unsupported option name ("--fix") (see "bazel-tools check --help")'],
    [
      ["check", "--only", "speed"],
      'Invalid value for --only[0]: expected one of "generated", "format", "attrs", "tsconfig", "jest", "lockfile", "module", or "bazelrc" (got "speed") (see "bazel-tools check --help")',
    ],
    [
      ["check", "--only", "lockfile", "--only", "module"],
      'Invalid value for --only: given 2 times; list the values once, comma-separated: --only lockfile,module (see "bazel-tools check --help")',
    ],
  ])("%j is a usage error: exit 2, one line on stderr", async (args, line) => {
    expect(await run(args)).toMatchObject(usageError(line));
  });

  it("a --root that is not a workspace is a usage error", async () => {
    const result = await run(["check", "--root", __dirname]);
    expect(result).toMatchObject(
      usageError(`${__dirname} has no pnpm-workspace.yaml; --root must be the repository root (see "bazel-tools check --help")`),
    );
  });

  it("a workspace it cannot read: the reason in one line, no stack, exit 1", async () => {
    const root = bazelWorkspace();
    fs.writeFileSync(path.join(root, "pnpm-workspace.yaml"), 'packages:\n  - "!services/*"\n');
    expect(await run(["generate", "--check", "--root", root])).toMatchObject({
      code: 1,
      stdout: "",
      stderr: 'bazel-tools: unsupported negated workspace glob "!services/*"\n',
    });
  });

  it(
    "--help lists the commands; each command's --help and -h explain it with examples; no colour into a pipe",
    async () => {
      const env = { FORCE_COLOR: "3", TERM: "xterm-256color" };
      const top = await run(["--help"], { env });
      expect(top).toMatchObject({ code: 0, stderr: "" });
      expect(top.stdout).toContain("bazel-tools check [--root #0] [--only #0]");
      expect(top.stdout).toContain("bazel-tools generate [--root #0] [--check]");
      expect(top.stdout).toContain("bazel-tools runfiles-test [--root #0]");
      for (const [command, example] of [
        ["check", "$ bazel-tools check --only lockfile,module"],
        ["generate", "$ bazel-tools generate --check"],
        ["runfiles-test", "$ bazel-tools runfiles-test //common/testing:test"],
      ]) {
        for (const flag of ["--help", "-h"]) {
          const help = await run([command, flag], { env });
          expect(help).toMatchObject({ code: 0, stderr: "" });
          expect(help.stdout).toContain("Details");
          expect(help.stdout).toContain(example);
          expect(help.stdout).not.toContain("\x1b[");
        }
      }
    },
    PROCESS_TIMEOUT_MS,
  );
});

describe("findRoot", () => {
  it("prefers --root, then the checkout `bazel run` started in, then the nearest workspace above", () => {
    const root = bazelWorkspace();
    const nested = path.join(root, "services/user/src");
    expect(findRoot(root, {}, "/")).toBe(root);
    expect(findRoot(undefined, { BUILD_WORKSPACE_DIRECTORY: "/checkout" }, nested)).toBe("/checkout");
    expect(findRoot(undefined, {}, nested)).toBe(root);
    expect(() => findRoot(undefined, {}, "/")).toThrow(/no pnpm-workspace.yaml/);
  });
});
