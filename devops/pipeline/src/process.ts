import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr both go here (created, with its folder); without it, output is collected in memory. */
  logFile?: string;
  /** Aborting kills the whole process group. */
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface RunResult {
  /** null when the process was killed by a signal. */
  exitCode: number | null;
  /** The signal that killed it, if one did. */
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  durationMs: number;
  /** Combined stdout and stderr when no logFile was given. */
  output: string;
}

const KILL_GRACE_MS = 3000;

/**
 * Runs a command in its own process group, so a timeout or Ctrl-C stops everything it started
 * (jest workers, a shell's children), not just the direct child.
 */
export function runCommand(command: string, args: string[], options: RunOptions): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      resolve({ exitCode: null, signal: null, timedOut: false, aborted: true, durationMs: 0, output: "" });
      return;
    }
    let log: fs.WriteStream | undefined;
    if (options.logFile) {
      fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
      log = fs.createWriteStream(options.logFile);
    }
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const chunks: Buffer[] = [];
    const collect = (chunk: Buffer) => (log ? log.write(chunk) : chunks.push(chunk));
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);

    let timedOut = false;
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = () => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      signalGroup(child.pid, "SIGTERM");
      killTimer = setTimeout(() => signalGroup(child.pid!, "SIGKILL"), KILL_GRACE_MS);
    };
    const timer =
      options.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            killGroup();
          }, options.timeoutMs)
        : undefined;
    const onAbort = () => {
      aborted = true;
      killGroup();
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });

    child.on("error", (error) => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      log?.end();
      reject(new Error(`cannot start ${command}: ${error.message}`));
    });
    child.on("close", (exitCode, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      options.signal?.removeEventListener("abort", onAbort);
      // The group may still hold grandchildren that outlived the shell; they belong to this step.
      if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
      const result = {
        exitCode,
        signal,
        timedOut,
        aborted,
        durationMs: Date.now() - started,
        output: Buffer.concat(chunks).toString("utf8"),
      };
      if (log) log.end(() => resolve(result));
      else resolve(result);
    });
  });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** Quotes one argument for /bin/sh. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs a package.json script the way pnpm does for our purposes: through sh, in the package folder,
 * with the package's and the workspace root's node_modules/.bin first on PATH, extra args appended.
 * Doing it directly saves pnpm's start-up per step and needs no pnpm on PATH.
 */
export function runPackageScript(
  root: string,
  packageDir: string,
  script: string,
  extraArgs: string[],
  options: Omit<RunOptions, "cwd">,
): Promise<RunResult> {
  const env = { ...(options.env ?? process.env) };
  env.PATH = [path.join(packageDir, "node_modules", ".bin"), path.join(root, "node_modules", ".bin"), env.PATH ?? ""].join(path.delimiter);
  const line = [script, ...extraArgs.map(shellQuote)].join(" ");
  return runCommand("/bin/sh", ["-c", line], { ...options, cwd: packageDir, env });
}

/** The last lines of a log, for a failure message a person can act on without opening the file. */
export function tailOfFile(file: string, lines = 15): string {
  try {
    const text = fs.readFileSync(file, "utf8").trimEnd();
    return text.split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}
