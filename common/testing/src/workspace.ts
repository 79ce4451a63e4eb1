import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";

/** The workspace root above `from`: the nearest folder with a pnpm-workspace.yaml. */
export function workspaceRoot(from: string): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "pnpm-workspace.yaml"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no pnpm-workspace.yaml above ${from}`);
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? "").split(path.delimiter).some((dir) => dir !== "" && existsSync(path.join(dir, name)));
}

/**
 * How to run pnpm here, as [command, ...args]: the pnpm that started this test run, else the one on
 * PATH, else the workspace's pinned version through npx (what ./pipeline.sh uses when pnpm is missing).
 */
export function pnpmCommand(root: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const execPath = env.npm_execpath;
  if (execPath && /pnpm\.c?js$/.test(execPath)) return [process.execPath, execPath];
  if (onPath("pnpm", env)) return ["pnpm"];
  const { packageManager } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { packageManager?: string };
  return ["npx", "-y", packageManager ?? "pnpm"];
}
