import fs from "node:fs";
import path from "node:path";
import { loadWorkspace } from "@monorepo/workspace";
import { affectedPackages, changedFiles, resolveBase } from "../src";
import { commitAll, git, makeRepo, tempDir, writeFiles } from "./helpers";

/** Shaped like the real graph: logger <- health <- service <- user, trading; the pipeline on simulation + tools. */
const WORKSPACE = {
  "pnpm-workspace.yaml": "packages:\n  - common/*\n  - services/*\n  - devops/*\n",
  "common/logger/package.json": { name: "@monorepo/logger" },
  "common/simulation/package.json": { name: "@monorepo/simulation" },
  "common/health/package.json": { name: "@monorepo/health", dependencies: { "@monorepo/logger": "workspace:*" } },
  "common/service/package.json": {
    name: "@monorepo/service",
    dependencies: { "@monorepo/health": "workspace:*", "@monorepo/logger": "workspace:*" },
  },
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

describe("affectedPackages", () => {
  const root = tempDir();
  writeFiles(root, WORKSPACE);
  const ws = loadWorkspace(root);

  it("affects nothing when nothing changed", () => {
    expect(affectedPackages(ws, [])).toEqual({ packages: [], ignoredFiles: [] });
  });

  it("takes a service change alone: nothing depends on a service", () => {
    const affected = affectedPackages(ws, ["services/user/src/app.ts", "services/user/test/app.test.ts"]);
    expect(affected.packages).toEqual([
      {
        name: "@monorepo/user-service",
        dir: "services/user",
        why: { kind: "changed", files: ["services/user/src/app.ts", "services/user/test/app.test.ts"] },
      },
    ]);
  });

  it("adds every dependent of a shared library, dependencies first, saying what pulled each in", () => {
    const affected = affectedPackages(ws, ["common/logger/src/index.ts"]);
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

  it("follows dev dependencies too: a test-only dependency change retests its users, the pipeline's tests among them", () => {
    const affected = affectedPackages(ws, ["common/testkit/src/index.ts"]);
    expect(affected.everything).toBeUndefined();
    expect(affected.packages.map((p) => p.name)).toEqual(["@monorepo/testkit", "@monorepo/pipeline", "@monorepo/trading-service"]);
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
  ])("treats root input %s as affecting everything", (file) => {
    const affected = affectedPackages(ws, ["services/user/src/app.ts", file]);
    expect(affected.everything).toMatch(file);
    expect(affected.packages).toHaveLength(ws.packages.length);
  });

  it("treats the pipeline and the packages it is made of as affecting everything", () => {
    expect(affectedPackages(ws, ["devops/pipeline/src/cli.ts"]).everything).toMatch(/part of the pipeline itself/);
    expect(affectedPackages(ws, ["devops/workspace/src/workspace.ts"]).everything).toMatch(/@monorepo\/workspace\)/);
    expect(affectedPackages(ws, ["common/simulation/src/index.ts"]).everything).toMatch(/@monorepo\/simulation/);
  });

  it("retests only the Bazel tools when they change: the pipeline runs them as a process, not as a dependency", () => {
    const affected = affectedPackages(ws, ["devops/bazel-tools/src/check-attrs.ts"]);
    expect(affected.everything).toBeUndefined();
    expect(affected.packages.map((p) => p.name)).toEqual(["@monorepo/bazel-tools"]);
  });

  it("ignores documentation, the benchmark and Bazel-only root files on the pnpm path", () => {
    const affected = affectedPackages(ws, ["README.md", "bench/pipeline.mjs", "MODULE.bazel", ".bazelrc", "BUILD.bazel"]);
    expect(affected).toEqual({
      packages: [],
      ignoredFiles: ["README.md", "bench/pipeline.mjs", "MODULE.bazel", ".bazelrc", "BUILD.bazel"],
    });
  });

  it("errs towards doing the work for an unknown root file", () => {
    expect(affectedPackages(ws, ["scripts/release.sh"]).everything).toMatch(/scripts\/release.sh is outside every package/);
  });

  it("does not mistake a sibling folder with a common prefix for a package", () => {
    expect(affectedPackages(ws, ["services/user-extra/notes.txt"]).everything).toMatch(/outside every package/);
  });
});

describe("resolveBase and changedFiles", () => {
  const setup = () => {
    const root = makeRepo({ "a.txt": "1\n", "services/user/app.ts": "1\n" });
    writeFiles(root, { "b.txt": "1\n" });
    commitAll(root, "second");
    return root;
  };

  it("uses HEAD^ on main, so a push is judged by its last commit", () => {
    const root = setup();
    const base = resolveBase(root);
    expect(base).toEqual({ kind: "commit", sha: git(root, "rev-parse", "HEAD^"), description: expect.stringMatching(/^HEAD\^/) });
    expect(changedFiles(root, (base as { sha: string }).sha)).toEqual(["b.txt"]);
  });

  it("uses the merge-base on a branch, ignoring what main did meanwhile", () => {
    const root = setup();
    const forkPoint = git(root, "rev-parse", "HEAD");
    git(root, "checkout", "-q", "-b", "feature");
    writeFiles(root, { "services/user/app.ts": "2\n" });
    commitAll(root, "feature work");
    git(root, "checkout", "-q", "main");
    writeFiles(root, { "c.txt": "main moved on\n" });
    commitAll(root, "main work");
    git(root, "checkout", "-q", "feature");
    const base = resolveBase(root);
    expect(base).toMatchObject({ kind: "commit", sha: forkPoint, description: "merge-base with main" });
    expect(changedFiles(root, forkPoint)).toEqual(["services/user/app.ts"]);
  });

  it("finds no change on a branch without commits of its own, and HEAD^ on a detached checkout of main", () => {
    const root = setup();
    const head = git(root, "rev-parse", "HEAD");
    git(root, "checkout", "-q", "-b", "feature");
    expect(resolveBase(root)).toMatchObject({ kind: "commit", sha: head, description: "merge-base with main" });
    expect(changedFiles(root, head)).toEqual([]);
    git(root, "checkout", "-q", "--detach", "main");
    expect(resolveBase(root)).toMatchObject({ kind: "commit", sha: git(root, "rev-parse", "HEAD^") });
  });

  it("counts staged, unstaged and untracked changes, and deletions, but not ignored files", () => {
    const root = setup();
    writeFiles(root, { ".gitignore": "out/\n" });
    commitAll(root, "ignore out");
    const head = git(root, "rev-parse", "HEAD");
    writeFiles(root, { "a.txt": "changed\n", "new.txt": "untracked\n", "out/x.js": "ignored\n", "staged.txt": "s\n" });
    git(root, "add", "staged.txt");
    fs.rmSync(path.join(root, "b.txt"));
    expect(changedFiles(root, head)).toEqual(["a.txt", "b.txt", "new.txt", "staged.txt"]);
  });

  it("takes --base as given and rejects a revision that does not exist", () => {
    const root = setup();
    expect(resolveBase(root, { base: "HEAD~1" })).toMatchObject({ kind: "commit", description: "HEAD~1 (given by --base)" });
    expect(() => resolveBase(root, { base: "no-such-branch" })).toThrow(/--base no-such-branch: not a commit/);
  });

  it("has no base on a first commit or without a main branch", () => {
    const first = makeRepo({ "a.txt": "1\n" });
    expect(resolveBase(first)).toEqual({ kind: "none", reason: "HEAD is on main and has no parent commit" });
    git(first, "branch", "-m", "trunk");
    expect(resolveBase(first)).toEqual({ kind: "none", reason: "there is no main or origin/main branch to compare with" });
  });
});
