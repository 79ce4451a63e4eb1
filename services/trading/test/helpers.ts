import { Logger } from "@monorepo/logger";
import { ChildProcess, spawn } from "node:child_process";

export interface NodeProcess {
  child: ChildProcess;
  /** Every stdout line so far. */
  lines(): string[];
  /** Resolves with the first stdout line (past or future) that matches. */
  waitForLine(match: (line: string) => boolean): Promise<string>;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `node script args...` with extra env (in `cwd`, if given) and follows its stdout line by line. */
export function startNode(script: string, args: string[] = [], env: Record<string, string> = {}, cwd?: string): NodeProcess {
  const child = spawn(process.execPath, [script, ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
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
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    lines: () => [...lines],
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

/** A predicate for a JSON log line with this message. */
export function logMessage(message: string): (line: string) => boolean {
  return (line) => {
    try {
      return JSON.parse(line).message === message;
    } catch {
      return false;
    }
  };
}

/** A logger that keeps its records in memory, so tests stay quiet and can inspect them. */
export function memoryLogger(context = "test"): { logger: Logger; records: () => Array<Record<string, any>> } {
  const lines: string[] = [];
  const logger = new Logger(context, { stream: { write: (line: string) => lines.push(line) } });
  return { logger, records: () => lines.map((line) => JSON.parse(line)) };
}

/** Polls until `find` returns something, e.g. a log record the server writes a moment after the client acts. */
export async function waitFor<T>(find: () => T | undefined): Promise<T> {
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
