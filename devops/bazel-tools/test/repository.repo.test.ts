import fs from "node:fs";
import path from "node:path";
import { loadTestTargets } from "@monorepo/workspace";
import { type CheckName, formatFindings, runChecks } from "../src/checks";
import { describeStale, generate, staleFiles } from "../src/generate";
import { replaceIn, tempDir } from "./fixtures";

/**
 * The real checkout, not a fixture: what CI proves about the Bazel setup without running Bazel.
 * Bazel runs these only on request (jest_test repo_test is manual: a sandbox holds no checkout);
 * `bazel run //devops/bazel-tools -- check` is the Bazel-side equivalent.
 */
// Four levels up from dist/test/, where this file runs.
const ROOT = process.env.BUILD_WORKSPACE_DIRECTORY ?? path.resolve(__dirname, "../../../..");
/** Whole-repository runs spawn buildifier and buildozer over every package: seconds on a busy 2-core machine. */
const REPO_TIMEOUT_MS = 60_000;

describe("this repository", () => {
  it(
    "has every generated Bazel file up to date",
    () => {
      const { files, findings } = generate(ROOT);
      expect(formatFindings(findings)).toBe("");
      expect(staleFiles(ROOT, files).map(describeStale).join("\n")).toBe("");
    },
    REPO_TIMEOUT_MS,
  );

  it(
    "passes every check with zero findings",
    () => {
      expect(formatFindings(runChecks(ROOT))).toBe("");
    },
    REPO_TIMEOUT_MS,
  );

  it("keeps its flaky policy within the 1-in-200 false-red budget", () => {
    const attempts = loadTestTargets(ROOT).attemptsFor("//services/user:test");
    expect(attempts).toBeGreaterThan(1);
    // The slow-upstream test fails with probability 0.25 per run by design; all attempts must fail for a red.
    expect(0.25 ** attempts).toBeLessThan(1 / 200);
  });
});

/** A throwaway copy of the checkout: everything but dependencies, git data and Bazel's output links (bazel-* at the root). */
function copyOfRepository(): string {
  const copy = tempDir("repository-copy-");
  fs.cpSync(ROOT, copy, {
    recursive: true,
    filter: (source) => !/((^|[/\\])(node_modules|\.git)|^bazel-[^/\\]*)$/.test(path.relative(ROOT, source)),
  });
  return copy;
}

describe("a copy of this repository with one thing broken", () => {
  it.each<[CheckName, string, string | RegExp, string, RegExp]>([
    ["format", "services/user/BUILD.bazel", 'name = "pkg",', 'name="pkg",', /not formatted/],
    ["attrs", "services/user/BUILD.bazel", "    flaky = True,\n", "    flaky = True,\n    testonly = True,\n", /must not set "testonly"/],
    [
      "generated",
      "services/user/BUILD.bazel",
      '        ":node_modules/express",\n',
      "",
      /services\/user\/BUILD.bazel: \[generated\] differs from a fresh generation[\s\S]*\n\+ {8}":node_modules\/express",/,
    ],
    ["tsconfig", "tsconfig.base.json", '"module": "commonjs"', '"module": "esnext"', /compilerOptions.module is esnext/],
    ["jest", "jest.config.js", 'testEnvironment: "node",', 'testEnvironment: "node", projects: ["services/*"],', /sets "projects"/],
    [
      "lockfile",
      "services/user/package.json",
      /"express": "[^"]+"/,
      '"express": "4.0.0"',
      /express is 4.0.0 in services\/user\/package.json/,
    ],
    [
      "module",
      "MODULE.bazel",
      'name = "aspect_rules_ts", version = "3.10.1"',
      'name = "aspect_rules_ts", version = "3.9.0"',
      /aspect_rules_ts is 3.9.0/,
    ],
    ["bazelrc", ".bazelrc", "common --incompatible_strict_action_env\n", "", /incompatible_strict_action_env/],
  ])(
    "the %s check catches a break in %s",
    (check, file, from, to, expected) => {
      const copy = copyOfRepository();
      expect(runChecks(copy, [check])).toEqual([]);
      replaceIn(copy, file, from, to);
      expect(formatFindings(runChecks(copy, [check]))).toMatch(expected);
    },
    REPO_TIMEOUT_MS,
  );
});
