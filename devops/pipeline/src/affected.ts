import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { OperationalError } from "@monorepo/cli";
import { topologicalOrder, type Workspace } from "@monorepo/workspace";
import { git, untrackedFiles } from "./git";
import { withDependencies } from "./graph";
import { pnpmCommand } from "./pnpm";

const execFileAsync = promisify(execFile);

export const PIPELINE_PACKAGE = "@monorepo/pipeline";

/**
 * Root files every package's build or test reads (or that decide how they run): a change to one
 * can change any result, so it affects everything.
 */
const GLOBAL_INPUTS: RegExp[] = [
  /^pnpm-lock\.yaml$/,
  /^pnpm-workspace\.yaml$/,
  /^package\.json$/,
  /^\.npmrc$/,
  /^tsconfig[^/]*\.json$/,
  /^jest[^/]*\.config\.[cm]?js$/,
  /^test-targets\.json$/,
  /^\.gitignore$/,
  /^pipeline\.sh$/,
  /^\.ci\//,
];

/**
 * Root files the pnpm path never reads: documentation, the benchmark, and Bazel's own files
 * (on the Bazel path, Bazel decides for itself what they affect).
 */
const INERT_ROOT_FILES: RegExp[] = [
  /^[^/]+\.md$/,
  /^docs\//,
  /^bench\//,
  /^LICENSE$/,
  /^(MODULE\.bazel(\.lock)?|REPO\.bazel|BUILD\.bazel|WORKSPACE(\.bazel)?|\.bazelrc|\.bazelversion|\.bazelignore)$/,
];

export interface AffectedPackage {
  name: string;
  dir: string;
  /** "changed" with its changed files, "dependent" with the affected deps that pulled it in, or "everything". */
  why: { kind: "changed"; files: string[] } | { kind: "dependent"; on: string[] } | { kind: "everything" };
}

export interface Affected {
  /** Set when everything is affected, saying why. */
  everything?: string;
  /** In dependency order. */
  packages: AffectedPackage[];
  /** Changed files that affect no package, for the log. */
  ignoredFiles: string[];
}

export function everything(workspace: Workspace, reason: string): Affected {
  return {
    everything: reason,
    packages: topologicalOrder(workspace).map((p) => ({ name: p.name, dir: p.dir, why: { kind: "everything" } })),
    ignoredFiles: [],
  };
}

/** pnpm could not say which packages a change affects: its message says why. */
export class PnpmFilterError extends OperationalError {}

/** One project pnpm selected, as `pnpm list --json` describes it. */
interface PnpmProject {
  name?: string;
  path: string;
}

export interface AffectedOptions {
  /** The environment pnpm runs in (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Aborting stops pnpm. */
  signal?: AbortSignal;
}

/** A pattern for --changed-files-ignore-pattern (a micromatch glob) that matches exactly this path. */
const exactPattern = (file: string) => file.replace(/[\\*?[\]{}()!+@]/g, "\\$&");

/**
 * Runs `fn` with the environment for pnpm's change filter, whose `git diff <base>` must list what
 * changedFiles lists: renames as a deletion and an addition (diff.renames off, through git's
 * GIT_CONFIG_* variables), so that a file moved out of a package changes that package too; and the
 * untracked files, through GIT_INDEX_FILE, a throwaway copy of the index in which they are added
 * with --intent-to-add (the real index stays as it was).
 */
async function withChangeFilterEnv<T>(root: string, env: NodeJS.ProcessEnv, fn: (env: NodeJS.ProcessEnv) => Promise<T>): Promise<T> {
  const configs = Number(env.GIT_CONFIG_COUNT ?? 0);
  const noRenames = {
    ...env,
    GIT_CONFIG_COUNT: String(configs + 1),
    [`GIT_CONFIG_KEY_${configs}`]: "diff.renames",
    [`GIT_CONFIG_VALUE_${configs}`]: "false",
  };
  const untracked = untrackedFiles(root);
  if (untracked.length === 0) return fn(noRenames);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pipeline-index-"));
  try {
    const index = path.join(dir, "index");
    const realIndex = git(root, ["rev-parse", "--path-format=absolute", "--git-path", "index"]).trim();
    if (fs.existsSync(realIndex)) fs.copyFileSync(realIndex, index);
    const intended = { ...noRenames, GIT_INDEX_FILE: index };
    await execFileAsync("git", ["add", "--intent-to-add", "--", ...untracked], { cwd: root, env: intended, maxBuffer: 16 << 20 });
    return await fn(intended);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The projects pnpm selects with `--filter <filter>`, the changed files in `ignored` set aside. */
async function pnpmSelect(
  root: string,
  filter: string,
  ignored: string[],
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<PnpmProject[]> {
  const [command, ...prefix] = pnpmCommand(root, env);
  const ignore = ignored.flatMap((file) => ["--changed-files-ignore-pattern", exactPattern(file)]);
  const args = [...prefix, "--filter", filter, ...ignore, "list", "--depth", "-1", "--json"];
  try {
    const { stdout } = await execFileAsync(command!, args, { cwd: root, env, signal, maxBuffer: 16 << 20 });
    return stdout.trim() === "" ? [] : (JSON.parse(stdout) as PnpmProject[]);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new PnpmFilterError(
      `${[command, ...prefix].join(" ")} --filter "${filter}" list failed${stderr ? `: ${stderr}` : `: ${(error as Error).message}`}`,
    );
  }
}

/**
 * Which packages the change since `base` affects, given its changed files (repository-relative,
 * untracked ones included). pnpm decides which packages hold a changed file and which depend on
 * them: its change filter `...[<base>]` (one pnpm run), seeing the changes changedFiles sees, the
 * inert ones set aside. What is left here is policy: root files that are inputs of every package, and the
 * pipeline itself, affect everything; a file pnpm places in no package but the root does too,
 * because skipping work on a guess is worse than doing it. pnpm runs only when a file is left for it.
 */
export async function affectedPackages(
  workspace: Workspace,
  base: string,
  files: string[],
  options: AffectedOptions = {},
): Promise<Affected> {
  const globalInput = files.find((file) => GLOBAL_INPUTS.some((re) => re.test(file)));
  if (globalInput) return everything(workspace, `${globalInput} is an input of every package`);
  const ignoredFiles = files.filter((file) => INERT_ROOT_FILES.some((re) => re.test(file)));
  const read = files.filter((file) => !ignoredFiles.includes(file));
  if (read.length === 0) return { packages: [], ignoredFiles };

  const root = fs.realpathSync(workspace.root);
  const selected = await withChangeFilterEnv(root, options.env ?? process.env, (env) =>
    pnpmSelect(root, `...[${base}]`, ignoredFiles, env, options.signal),
  );
  // pnpm selected each package either for a changed file in it or as a dependent; its files say which.
  const filesIn = new Map(
    selected.map((p) => {
      const dir = path.relative(root, fs.realpathSync(p.path)).split(path.sep).join("/");
      return [p, dir === "" ? read : read.filter((file) => file.startsWith(`${dir}/`))] as const;
    }),
  );
  // The workspace root is a project too: pnpm selects it for a changed file outside every package,
  // or as a dependent when its own devDependencies name a workspace package (the Bazel tools do).
  const rootProject = selected.find((p) => p.name === undefined || !workspace.byName.has(p.name));
  const packages = selected.filter((p) => p !== rootProject);
  const inPackages = new Set(packages.flatMap((p) => filesIn.get(p)!));
  const outside = read.filter((file) => !inPackages.has(file));
  if (rootProject && outside.length > 0) {
    return everything(
      workspace,
      `${outside.join(", ")} ${outside.length === 1 ? "is" : "are"} outside every package and not known to be inert`,
    );
  }
  const changed = new Map(packages.filter((p) => filesIn.get(p)!.length > 0).map((p) => [p.name!, filesIn.get(p)!]));
  // The pipeline and the workspace packages it runs on: changing them changes how every package is
  // checked. Its test-only dependencies are not among them; a change there retests the pipeline alone.
  const pipeline = withDependencies(workspace, [PIPELINE_PACKAGE], { runtimeOnly: true });
  const pipelinePart = [...changed].find(([name]) => pipeline.has(name));
  if (pipelinePart) return everything(workspace, `${pipelinePart[1][0]} is part of the pipeline itself (${pipelinePart[0]})`);

  const all = new Set(packages.map((p) => p.name));
  const ordered = topologicalOrder(workspace)
    .filter((p) => all.has(p.name))
    .map((p): AffectedPackage => {
      const changedFiles = changed.get(p.name);
      if (changedFiles) return { name: p.name, dir: p.dir, why: { kind: "changed", files: changedFiles } };
      return { name: p.name, dir: p.dir, why: { kind: "dependent", on: p.workspaceDeps.filter((d) => all.has(d)) } };
    });
  return { packages: ordered, ignoredFiles };
}
