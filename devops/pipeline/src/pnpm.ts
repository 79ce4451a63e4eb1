import fs from "node:fs";
import path from "node:path";

/**
 * How the pipeline runs pnpm, as [command, ...args], much as pipeline.sh installs: pnpm on PATH
 * (without pipeline.sh's version probe, which would cost one more pnpm start), else the version
 * the root package.json pins, through npx.
 */
export function pnpmCommand(root: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const onPath = (env.PATH ?? "").split(path.delimiter).some((dir) => dir !== "" && fs.existsSync(path.join(dir, "pnpm")));
  if (onPath) return ["pnpm"];
  const { packageManager } = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { packageManager?: string };
  return ["npx", "-y", packageManager ?? "pnpm@10"];
}
