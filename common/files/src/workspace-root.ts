import fs from "node:fs";
import path from "node:path";

/**
 * The pnpm workspace `from` is in: the nearest folder at or above it holding pnpm-workspace.yaml,
 * the file pnpm itself looks for; undefined outside any workspace. Synchronous because module-level
 * test set-up and CLI defaults need it, and pnpm's own finder (@pnpm/find-workspace-dir) is async.
 */
export function findWorkspaceRoot(from: string): string | undefined {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "pnpm-workspace.yaml"))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}
