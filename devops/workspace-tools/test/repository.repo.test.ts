import path from "node:path";
import { formatFindings, runChecks } from "../src/checks";
import { loadFlakyPolicy } from "../src/flaky";
import { describeStale, generate, staleFiles } from "../src/generate";

/**
 * The real checkout, not a fixture: what CI proves about the Bazel setup without running Bazel.
 * Bazel runs these only on request (jest_test repo_test is manual: a sandbox holds no checkout);
 * `bazel run //devops/workspace-tools -- check` is the Bazel-side equivalent.
 */
const ROOT = process.env.BUILD_WORKSPACE_DIRECTORY ?? path.resolve(__dirname, "../../..");

describe("this repository", () => {
  it("has every generated Bazel file up to date", () => {
    const { files, findings } = generate(ROOT);
    expect(formatFindings(findings)).toBe("");
    expect(staleFiles(ROOT, files).map(describeStale).join("\n")).toBe("");
  });

  it("passes every check with zero findings", () => {
    expect(formatFindings(runChecks(ROOT))).toBe("");
  });

  it("keeps its flaky policy within the 1-in-200 false-red budget", () => {
    const policy = loadFlakyPolicy(ROOT);
    const user = policy.targets.find((t) => t.label === "//services/user:test");
    expect(user).toBeDefined();
    // The slow-upstream test fails with probability 0.25 per run (SPEC); all attempts must fail for a red.
    expect(0.25 ** user!.attempts).toBeLessThan(1 / 200);
  });
});
