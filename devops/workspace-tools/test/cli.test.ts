import fs from "node:fs";
import path from "node:path";
import { runNode, type RunNodeOptions } from "@monorepo/testing";
import { findRoot } from "../src/cli";
import { bazelWorkspace, replaceIn } from "./fixtures";

const CLI = path.resolve(__dirname, "..", "src", "cli.js");
/** Each test starts node processes that load TypeScript and run buildifier/buildozer: seconds on a busy 2-core machine. */
const PROCESS_TIMEOUT_MS = 60_000;

const run = (args: string[], options?: RunNodeOptions) => runNode(CLI, args, options);

describe("workspace-tools CLI", () => {
  it("check mode lists stale files and fails; generate writes them; then check passes", async () => {
    const root = bazelWorkspace();
    const stale = await run(["generate", "--check", "--root", root]);
    expect(stale.code).toBe(1);
    expect(stale.stdout).toContain("services/user/BUILD.bazel: missing");
    expect(stale.stdout).toContain("+ test --flaky_test_attempts=//services/user:test$@4");
    expect(fs.existsSync(path.join(root, "services/user/BUILD.bazel"))).toBe(false);

    const written = await run(["generate"], { cwd: path.join(root, "services/user/src") });
    expect(written).toMatchObject({ code: 0 });
    expect(written.stdout).toContain("wrote services/user/BUILD.bazel");

    const checked = await run(["check", "--root", root]);
    expect(checked).toMatchObject({ code: 0, stdout: "0 finding(s)\n" });
  }, PROCESS_TIMEOUT_MS);

  it("prints every finding with its file and check, and exits 1", async () => {
    const root = bazelWorkspace();
    await run(["generate", "--root", root]);
    replaceIn(root, "MODULE.bazel", 'version = "0.26.0"', 'version = "0.25.3"');
    const result = await run(["check", "--root", root, "--only", "module"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("MODULE.bazel: [module] bazel_dep aspect_rules_jest is 0.25.3; the researched consistent set pins 0.26.0\n1 finding(s)\n");
  }, PROCESS_TIMEOUT_MS);

  it("explains a wrong --root or an unknown check", async () => {
    const notRoot = await run(["check", "--root", __dirname]);
    expect(notRoot.code).toBe(1);
    expect(notRoot.stdout).toContain("has no pnpm-workspace.yaml; --root must be the repository root");
    const unknown = await run(["check", "--only", "speed"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toMatch(/Invalid value for --only/);
  }, PROCESS_TIMEOUT_MS);
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
