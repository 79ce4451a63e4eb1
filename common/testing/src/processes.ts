import { type ChildProcess, spawn } from "node:child_process";

/** How a child process ended: an exit code, or the signal that ended it. */
export interface NodeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface NodeProcess {
  child: ChildProcess;
  /** Every stdout line so far. */
  lines(): string[];
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the first stdout line (past or future) that matches. */
  waitForLine(match: (line: string) => boolean): Promise<string>;
  /** Resolves when the process has exited. */
  exited: Promise<NodeExit>;
}

interface SpawnOptions {
  env: Record<string, string | undefined>;
  /**
   * false: `env` is the child's whole environment, so the caller's own variables cannot leak into a
   * test, except the launcher's JS_BINARY__* variables (see launcherEnv).
   */
  inheritEnv: boolean;
  cwd?: string;
}

/**
 * Under Bazel, rules_js makes `process.execPath` a wrapper script that starts node from the
 * launcher's JS_BINARY__* variables and fails without them, so a child keeps them even when its
 * environment is otherwise cleared. Outside Bazel there are none and nothing is added.
 */
function launcherEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[0].startsWith("JS_BINARY__") && entry[1] !== undefined),
  );
}

function spawnNode(script: string, args: string[], options: SpawnOptions): ChildProcess {
  return spawn(process.execPath, [script, ...args], {
    cwd: options.cwd,
    env: options.inheritEnv ? { ...process.env, ...options.env } : { ...launcherEnv(), ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/**
 * Starts `node script args...` with extra env (in `cwd`, if given) and follows its stdout line by line,
 * for a long-running process (a service) that a test talks to and then stops.
 */
export function startNode(script: string, args: string[] = [], env: Record<string, string> = {}, cwd?: string): NodeProcess {
  return follow(spawnNode(script, args, { env, inheritEnv: true, cwd }));
}

export interface StartCommandOptions {
  /** Added to this process's environment. */
  env?: Record<string, string>;
  cwd?: string;
  /** In a process group of its own, so a test can signal the group as a terminal's Ctrl-C does. */
  detached?: boolean;
}

/** Like startNode, for any command: `pnpm start:user`, say, as a user types it. */
export function startCommand(command: string, args: string[], options: StartCommandOptions = {}): NodeProcess {
  return follow(
    spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      detached: options.detached,
      stdio: ["ignore", "pipe", "pipe"],
    }),
    options.detached === true,
  );
}

/** Long-running children a test file started and has not seen exit, each with whether it leads a process group. */
const running = new Map<ChildProcess, boolean>();

/**
 * Kills (SIGKILL, the whole group when it has one) every process startNode or startCommand started
 * that is still running: a test that fails before its own stop must not leave a service behind,
 * which would also keep jest from ever finishing the file.
 */
export function killStartedProcesses(): void {
  for (const [child, leadsGroup] of running) {
    if (child.pid === undefined) continue;
    try {
      if (leadsGroup) process.kill(-child.pid, "SIGKILL");
      else child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
  running.clear();
}

// Registered when a test file loads this module, so it runs once that file's tests are done.
if (typeof afterAll === "function") afterAll(killStartedProcesses);

function follow(child: ChildProcess, leadsGroup = false): NodeProcess {
  running.set(child, leadsGroup);
  child.once("exit", () => running.delete(child));
  const lines: string[] = [];
  const waiters: Array<{ match: (line: string) => boolean; resolve: (line: string) => void }> = [];
  let partial = "";
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.on("data", (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split("\n");
    partial = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.match(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  const exited = new Promise<NodeExit>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return {
    child,
    lines: () => [...lines],
    stderr: () => stderr,
    waitForLine: (match) =>
      new Promise((resolve, reject) => {
        const seen = lines.find(match);
        if (seen !== undefined) return resolve(seen);
        waiters.push({ match, resolve });
        void exited.then(({ code, signal }) =>
          reject(new Error(`process exited (${code ?? signal}) before the line came; stdout:\n${lines.join("\n")}\nstderr:\n${stderr}`)),
        );
      }),
    exited,
  };
}

/** A finished child process and everything it wrote. */
export interface NodeRun extends NodeExit {
  stdout: string;
  stderr: string;
}

export interface RunNodeOptions {
  /** Added to this process's environment, or, when `inheritEnv` is false, all there is besides the launcher's JS_BINARY__* variables. */
  env?: Record<string, string | undefined>;
  /** Default true. */
  inheritEnv?: boolean;
  cwd?: string;
  /** Kills the process (SIGKILL) and rejects once it has run this long. */
  timeoutMs?: number;
  /** Called right after the start, e.g. to send the process a signal once it is mid-run. */
  whileRunning?: (child: ChildProcess) => void;
}

/**
 * Runs `node script args...` to the end, as a user runs a CLI, and resolves with its exit and whole
 * output. A non-zero exit or a signal resolves too: what a test asserts on, not an error.
 */
export function runNode(script: string, args: string[] = [], options: RunNodeOptions = {}): Promise<NodeRun> {
  const child = spawnNode(script, args, { env: options.env ?? {}, inheritEnv: options.inheritEnv ?? true, cwd: options.cwd });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  let timedOut = false;
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          child.kill("SIGKILL");
        }, options.timeoutMs);
  options.whileRunning?.(child);
  return new Promise((resolve, reject) => {
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // "close", not "exit": only then has all of stdout and stderr been read.
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(
          new Error(`${script} ${args.join(" ")} did not finish within ${options.timeoutMs} ms; stdout:\n${stdout}\nstderr:\n${stderr}`),
        );
      } else {
        resolve({ code, signal, stdout, stderr });
      }
    });
  });
}

/** Whether a process with this id runs (or is a zombie not yet reaped). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
