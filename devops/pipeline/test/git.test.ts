import fs from "node:fs";
import path from "node:path";
import { changedFiles, resolveBase } from "../src";
import { commitAll, git, makeRepo, writeFiles } from "./helpers";

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
