import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { logRecords } from "./logs";
import { isRunning, type NodeProcess, startCommand } from "./processes";

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

export interface PnpmRuns {
  /** `pnpm --dir <root> ...args` from `cwd` with extra env, in a process group of its own (for a Ctrl-C). */
  start(args: string[], options: { cwd: string; env?: Record<string, string> }): NodeProcess;
  /**
   * SIGKILLs whatever still runs of what was started: each pnpm, and each process its JSON log
   * lines name (pid), which a failed test may have left behind.
   */
  killAll(): void;
}

/** Runs pnpm commands in the workspace at `root` as a user types them, and cleans up after them. */
export function pnpmRuns(root: string): PnpmRuns {
  const [command, ...commandArgs] = pnpmCommand(root);
  const started: NodeProcess[] = [];
  return {
    start: (args, options) => {
      const run = startCommand(command, [...commandArgs, "--dir", root, ...args], { cwd: options.cwd, env: options.env, detached: true });
      started.push(run);
      return run;
    },
    killAll: () => {
      for (const run of started.splice(0)) {
        for (const pid of new Set([run.child.pid!, ...logRecords(run.lines()).map((r) => r.pid as number)])) {
          if (isRunning(pid)) process.kill(pid, "SIGKILL");
        }
      }
    },
  };
}
