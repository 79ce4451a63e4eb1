import { execFileSync } from "node:child_process";
import { OperationalError } from "@monorepo/cli";

/** git failed or does not know a revision: the user can act on the message. */
export class GitError extends OperationalError {}

export function git(root: string, args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new GitError(`git ${args.join(" ")} failed${stderr ? `: ${stderr}` : ""}`);
  }
}

function tryGit(root: string, args: string[]): string | undefined {
  try {
    return git(root, args).trim();
  } catch {
    return undefined;
  }
}

/** The commit a revision names, or undefined when it names none. */
export function commitOf(root: string, revision: string): string | undefined {
  return tryGit(root, ["rev-parse", "--verify", "--quiet", `${revision}^{commit}`]);
}

/** What the change is measured against: a commit, or nothing (then everything is affected). */
export type Base = { kind: "commit"; sha: string; description: string } | { kind: "none"; reason: string };

export interface BaseOptions {
  /** --base: any revision git understands. */
  base?: string;
  /** The branch changes are merged into. */
  mainBranch?: string;
}

/**
 * Chooses the base of the diff:
 * - `--base <rev>` when given;
 * - on main itself (or a detached checkout of a commit already in main): HEAD^, the change the last
 *   commit brought (a merge commit's first parent is the previous main, so a merged pull request
 *   counts as a whole). A CI system that knows the previous green commit should pass it with --base;
 * - on any other branch, or a detached checkout not in main (a pull request's merge commit): the
 *   merge-base with main, so the change is judged by everything it brings and nothing main did
 *   meanwhile. A branch with no commit of its own has no change;
 * - no main branch, or a first commit without parent: no base.
 */
export function resolveBase(root: string, options: BaseOptions = {}): Base {
  const mainBranch = options.mainBranch ?? "main";
  if (options.base !== undefined) {
    const sha = commitOf(root, options.base);
    if (!sha) throw new GitError(`--base ${options.base}: not a commit in this repository`);
    return { kind: "commit", sha, description: `${options.base} (given by --base)` };
  }
  const head = tryGit(root, ["rev-parse", "--verify", "--quiet", "HEAD"]);
  if (!head) return { kind: "none", reason: "the repository has no commit yet" };
  const mainRef = [mainBranch, `origin/${mainBranch}`].find((ref) => tryGit(root, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]));
  if (!mainRef) return { kind: "none", reason: `there is no ${mainBranch} or origin/${mainBranch} branch to compare with` };
  const mergeBase = tryGit(root, ["merge-base", "HEAD", mainRef]);
  if (!mergeBase) return { kind: "none", reason: `HEAD shares no history with ${mainRef}` };
  const branch = tryGit(root, ["symbolic-ref", "--quiet", "--short", "HEAD"]);
  const onMain = branch === mainBranch || (branch === undefined && mergeBase === head);
  if (!onMain) return { kind: "commit", sha: mergeBase, description: `merge-base with ${mainRef}` };
  const parent = tryGit(root, ["rev-parse", "--verify", "--quiet", "HEAD^"]);
  if (!parent) return { kind: "none", reason: `HEAD is on ${mainRef} and has no parent commit` };
  return { kind: "commit", sha: parent, description: `HEAD^ (on ${mainRef}: the last commit's change)` };
}

/** Files git does not track and does not ignore. */
export function untrackedFiles(root: string): string[] {
  return git(root, ["ls-files", "--others", "--exclude-standard", "-z"]).split("\0").filter(Boolean);
}

/** Files changed since `sha`: committed, staged, unstaged and untracked (not ignored), sorted. */
export function changedFiles(root: string, sha: string): string[] {
  const diffed = git(root, ["diff", "--name-only", "--no-renames", "-z", sha, "--"]).split("\0");
  return [...new Set([...diffed, ...untrackedFiles(root)].filter(Boolean))].sort();
}

/** Every file that is a source of the repository: tracked plus untracked-not-ignored (build outputs are ignored). */
export function sourceFiles(root: string): string[] {
  return git(root, ["ls-files", "--cached", "--others", "--exclude-standard", "-z"]).split("\0").filter(Boolean);
}

export function shortSha(sha: string): string {
  return sha.slice(0, 10);
}
