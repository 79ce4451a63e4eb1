import { packageOfFile, topologicalOrder, type Workspace, withDependents } from "@monorepo/workspace";
import { withDependencies } from "./graph";

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

/**
 * Which packages a set of changed files (repository-relative) affects: the packages the files are
 * in, plus everything depending on them through the workspace graph. Root files that are inputs of
 * every package, and the pipeline itself, affect everything; unknown root files do too, because
 * skipping work on a guess is worse than doing it.
 */
export function affectedPackages(workspace: Workspace, files: string[]): Affected {
  // The pipeline and the workspace packages it runs on: changing them changes how every package is
  // checked. Its test-only dependencies are not among them; a change there retests the pipeline alone.
  const pipeline = withDependencies(workspace, [PIPELINE_PACKAGE], { runtimeOnly: true });
  const changed = new Map<string, string[]>();
  const ignoredFiles: string[] = [];
  for (const file of files) {
    const pkg = packageOfFile(workspace, file);
    if (pkg) {
      if (pipeline.has(pkg.name)) return everything(workspace, `${file} is part of the pipeline itself (${pkg.name})`);
      changed.set(pkg.name, [...(changed.get(pkg.name) ?? []), file]);
    } else if (GLOBAL_INPUTS.some((re) => re.test(file))) {
      return everything(workspace, `${file} is an input of every package`);
    } else if (INERT_ROOT_FILES.some((re) => re.test(file))) {
      ignoredFiles.push(file);
    } else {
      return everything(workspace, `${file} is outside every package and not known to be inert`);
    }
  }
  const all = withDependents(workspace, changed.keys());
  const packages = topologicalOrder(workspace)
    .filter((p) => all.has(p.name))
    .map((p): AffectedPackage => {
      const files = changed.get(p.name);
      if (files) return { name: p.name, dir: p.dir, why: { kind: "changed", files } };
      return { name: p.name, dir: p.dir, why: { kind: "dependent", on: p.workspaceDeps.filter((d) => all.has(d)) } };
    });
  return { packages, ignoredFiles };
}
