import fs from "node:fs";
import path from "node:path";
import { findWorkspaceRoot } from "@monorepo/files";
import { Option, UsageError } from "clipanion";

/**
 * The workspace to work on: --root, else the checkout `bazel run` was started in
 * (BUILD_WORKSPACE_DIRECTORY), else the nearest folder above the current one with pnpm-workspace.yaml.
 */
export function findRoot(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  if (explicit) {
    const root = path.resolve(cwd, explicit);
    if (!fs.existsSync(path.join(root, "pnpm-workspace.yaml")))
      throw new UsageError(`${root} has no pnpm-workspace.yaml; --root must be the repository root`);
    return root;
  }
  if (env.BUILD_WORKSPACE_DIRECTORY) return env.BUILD_WORKSPACE_DIRECTORY;
  const root = findWorkspaceRoot(cwd);
  if (root === undefined) throw new UsageError(`no pnpm-workspace.yaml in ${cwd} or above; run inside the repository or pass --root`);
  return root;
}

export const rootOption = () =>
  Option.String("--root", {
    description: "Repository root (default: BUILD_WORKSPACE_DIRECTORY under `bazel run`, else the nearest folder with pnpm-workspace.yaml)",
  });
