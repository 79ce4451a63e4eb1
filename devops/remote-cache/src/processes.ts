import fs from "node:fs";

/**
 * Linux process facts from /proc. The nginx master is reparented away from us once it
 * daemonizes, and a parent that never reaps it would leave a zombie that kill(pid, 0)
 * still reports as alive: a zombie counts as gone here.
 */

interface ProcStat {
  state: string;
  ppid: number;
  /** When the process started, in clock ticks since boot: with the pid, it names one process for good. */
  startTime: string;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) S ppid ...": comm may hold spaces and parentheses, so split after the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0], ppid: Number(fields[1]), startTime: fields[19] };
}

export function isAlive(pid: number): boolean {
  if (!fs.existsSync("/proc/self/stat")) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "EPERM";
    }
  }
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== "Z" && stat.state !== "X";
}

/** An identity for a live process that a reused pid cannot fake: "<pid> <start time>". */
export function processIdentity(pid: number): string | undefined {
  const stat = readStat(pid);
  return stat && stat.state !== "Z" && stat.state !== "X" ? `${pid} ${stat.startTime}` : undefined;
}

/** The command line as one string ("" when the process is gone or unreadable). */
export function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0+/g, " ").trim();
  } catch {
    return "";
  }
}

/** Live processes whose parent is `pid` (nginx's workers and cache helpers). */
export function childPids(pid: number): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync("/proc");
  } catch {
    return [];
  }
  return entries
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((child) => readStat(child)?.ppid === pid && isAlive(child));
}

export function signal(pid: number, name: "SIGQUIT" | "SIGTERM" | "SIGUSR1" | "SIGKILL"): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/** Resolves true once every pid is gone, false if some still live at the deadline. */
export async function waitUntilGone(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (pids.every((pid) => !isAlive(pid))) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
