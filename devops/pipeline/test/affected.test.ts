import fs from "node:fs";
import path from "node:path";
import { loadWorkspace } from "@monorepo/workspace";
import { affectedPackages, changedFiles } from "../src";
import { commitAll, type Files, git, makeRepo, writeFiles } from "./helpers";

/** Shaped like the real graph: logger <- health <- service <- user, trading; the pipeline on simulation + tools. */
const WORKSPACE: Files = {
  // Like the real root, a project of its own that depends on a workspace package.
  "package.json": { name: "fixture-root", private: true, devDependencies: { "@monorepo/bazel-tools": "workspace:*" } },
  "pnpm-workspace.yaml": "packages:\n  - common/*\n  - services/*\n  - devops/*\n",
  "common/logger/package.json": { name: "@monorepo/logger" },
  "common/simulation/package.json": { name: "@monorepo/simulation" },
  "common/health/package.json": { name: "@monorepo/health", dependencies: { "@monorepo/logger": "workspace:*" } },
  "common/service/package.json": {
    name: "@monorepo/service",
    dependencies: { "@monorepo/health": "workspace:*", "@monorepo/logger": "workspace:*" },
  },
  "common/logger/src/index.ts": "export {};\n",
  "services/user/src/app.ts": "export {};\n",
  "services/user/package.json": {
    name: "@monorepo/user-service",
    dependencies: { "@monorepo/service": "workspace:*" },
    devDependencies: { "@monorepo/simulation": "workspace:*" },
  },
  "common/testkit/package.json": { name: "@monorepo/testkit" },
  "services/trading/package.json": {
    name: "@monorepo/trading-service",
    dependencies: { "@monorepo/service": "workspace:*" },
    devDependencies: { "@monorepo/testkit": "workspace:*" },
  },
  "devops/workspace/package.json": { name: "@monorepo/workspace" },
  "devops/bazel-tools/package.json": { name: "@monorepo/bazel-tools", dependencies: { "@monorepo/workspace": "workspace:*" } },
  "devops/pipeline/package.json": {
    name: "@monorepo/pipeline",
    dependencies: { "@monorepo/simulation": "workspace:*", "@monorepo/workspace": "workspace:*" },
    devDependencies: { "@monorepo/testkit": "workspace:*" },
  },
  "devops/maintenance/package.json": { name: "@monorepo/maintenance", dependencies: { "@monorepo/logger": "workspace:*" } },
};

// pnpm decides through git in a real repository: a change is a commit, an edit or a new file.
jest.setTimeout(60_000);

/** Runs the pipeline's affected-set query on a fresh repository holding WORKSPACE, after `change` altered it. */
async function affectedBy(change: (root: string) => void) {
  const root = makeRepo(WORKSPACE);
  const base = git(root, "rev-parse", "HEAD");
  change(root);
  return { root, affected: await affectedPackages(loadWorkspace(root), base, changedFiles(root, base)) };
}

const edit = (files: Files) => (root: string) => writeFiles(root, files);

describe("affectedPackages", () => {
  it("affects nothing when nothing changed", async () => {
    expect((await affectedBy(() => {})).affected).toEqual({ packages: [], ignoredFiles: [] });
  });

  it("takes a service change alone, committed and untracked files alike: nothing depends on a service", async () => {
    const { affected } = await affectedBy((root) => {
      writeFiles(root, { "services/user/src/app.ts": "export const changed = true;\n" });
      commitAll(root, "user change");
      writeFiles(root, { "services/user/test/app.test.ts": "export {};\n" });
    });
    expect(affected.packages).toEqual([
      {
        name: "@monorepo/user-service",
        dir: "services/user",
        why: { kind: "changed", files: ["services/user/src/app.ts", "services/user/test/app.test.ts"] },
      },
    ]);
  });

  it("adds every dependent of a shared library, dependencies first, saying what pulled each in", async () => {
    const { affected } = await affectedBy(edit({ "common/logger/src/index.ts": "export const edited = true;\n" }));
    expect(affected.packages.map((p) => p.name)).toEqual([
      "@monorepo/logger",
      "@monorepo/health",
      "@monorepo/service",
      "@monorepo/maintenance",
      "@monorepo/trading-service",
      "@monorepo/user-service",
    ]);
    expect(affected.packages.find((p) => p.name === "@monorepo/service")?.why).toEqual({
      kind: "dependent",
      on: ["@monorepo/health", "@monorepo/logger"],
    });
  });

  it("follows dev dependencies too: a new file in a test-only dependency retests its users, the pipeline's tests among them", async () => {
    const { affected } = await affectedBy(edit({ "common/testkit/src/index.ts": "export {};\n" }));
    expect(affected.everything).toBeUndefined();
    expect(affected.packages.map((p) => p.name)).toEqual(["@monorepo/testkit", "@monorepo/pipeline", "@monorepo/trading-service"]);
  });

  it("counts a file moved from one package to another in both, untracked at its new place, and leaves the index as it was", async () => {
    const { root, affected } = await affectedBy((root) => {
      fs.rmSync(path.join(root, "services/user/src/app.ts"));
      writeFiles(root, { "services/trading/src/app.ts": "export {};\n" });
    });
    expect(affected.packages).toEqual([
      { name: "@monorepo/trading-service", dir: "services/trading", why: { kind: "changed", files: ["services/trading/src/app.ts"] } },
      { name: "@monorepo/user-service", dir: "services/user", why: { kind: "changed", files: ["services/user/src/app.ts"] } },
    ]);
    expect(git(root, "status", "--porcelain", "--untracked-files=all")).toBe("D services/user/src/app.ts\n?? services/trading/src/app.ts");
  });

  it.each([
    "pnpm-lock.yaml",
    "package.json",
    "pnpm-workspace.yaml",
    "tsconfig.base.json",
    "jest.config.js",
    "jest.perf.config.js",
    "test-targets.json",
    ".gitignore",
    "pipeline.sh",
    ".ci/run",
  ])("treats root input %s as affecting everything", async (file) => {
    // pnpm-workspace.yaml stays readable: a comment is a change too.
    const content = file === "pnpm-workspace.yaml" ? `${WORKSPACE[file]}# packages above\n` : "changed\n";
    const { affected } = await affectedBy(edit({ "services/user/src/app.ts": "export const changed = true;\n", [file]: content }));
    expect(affected.everything).toMatch(file);
    expect(affected.packages).toHaveLength(Object.keys(WORKSPACE).filter((f) => f.endsWith("/package.json")).length);
  });

  it("treats the pipeline and the packages it is made of as affecting everything", async () => {
    const partOf = async (file: string) => (await affectedBy(edit({ [file]: "export {};\n" }))).affected.everything;
    expect(await partOf("devops/pipeline/src/cli.ts")).toMatch(/^devops\/pipeline\/src\/cli.ts is part of the pipeline itself/);
    expect(await partOf("devops/workspace/src/workspace.ts")).toMatch(/@monorepo\/workspace\)/);
    expect(await partOf("common/simulation/src/index.ts")).toMatch(/@monorepo\/simulation/);
  });

  it("retests only the Bazel tools when they change: the pipeline runs them as a process, and the root that depends on them is no package", async () => {
    const { affected } = await affectedBy(edit({ "devops/bazel-tools/src/check-attrs.ts": "export {};\n" }));
    expect(affected.everything).toBeUndefined();
    expect(affected.packages.map((p) => p.name)).toEqual(["@monorepo/bazel-tools"]);
  });

  it("ignores documentation, the benchmark and Bazel-only root files on the pnpm path", async () => {
    const inert = ["README.md", "bench/pipeline.mjs", "MODULE.bazel", ".bazelrc", "BUILD.bazel"];
    const { affected } = await affectedBy(edit(Object.fromEntries(inert.map((file) => [file, "changed\n"]))));
    expect(affected).toEqual({ packages: [], ignoredFiles: [...inert].sort() });
  });

  it("sets the inert files aside for pnpm too, when a package changed with them", async () => {
    const { affected } = await affectedBy(
      edit({ "README.md": "changed\n", "docs/[draft] notes.md": "new\n", "services/user/src/app.ts": "export const changed = true;\n" }),
    );
    expect(affected.everything).toBeUndefined();
    expect(affected.packages.map((p) => p.name)).toEqual(["@monorepo/user-service"]);
    expect(affected.ignoredFiles).toEqual(["README.md", "docs/[draft] notes.md"]);
  });

  it("errs towards doing the work for an unknown root file", async () => {
    const { affected } = await affectedBy(edit({ "scripts/release.sh": "echo release\n" }));
    expect(affected.everything).toMatch(/^scripts\/release.sh is outside every package/);
  });

  it("does not mistake a sibling folder with a common prefix for a package", async () => {
    const { affected } = await affectedBy(edit({ "services/user-extra/notes.txt": "new\n" }));
    expect(affected.everything).toMatch(/^services\/user-extra\/notes.txt is outside every package/);
  });
});
