import { randomUUID } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { OperationalError } from "@monorepo/cli";
import { EXIT_CODES } from "./maintenance";

/*
 * One maintenance run at a time per journal. Hand-written: proper-lockfile, the well-kept library,
 * judges a lock by the age of a heartbeat, so a killed run blocks the next one for its stale period,
 * it takes a stale lock over without saying so, and it records no pid or host to name the holder.
 */

/** Who holds a lock: the content of the lock file. */
export interface LockOwner {
  pid: number;
  hostname: string;
  /** The kernel's id of the current boot (Linux), so a pid from before a reboot is not taken for a live one. */
  bootId?: string;
  startedAt: string;
  /** Tells this lock from an earlier one left by a process with the same pid. */
  token: string;
}

/** Another run holds the lock; the message says who and what to do. */
export class LockHeldError extends OperationalError {
  constructor(
    readonly path: string,
    readonly owner: LockOwner | undefined,
  ) {
    super(describeHolder(path, owner), { exitCode: EXIT_CODES.locked });
    this.name = "LockHeldError";
  }
}

function describeHolder(path: string, owner: LockOwner | undefined): string {
  if (!owner)
    return `the lock ${path} exists but does not say who holds it; delete it once you are sure no maintenance run uses this journal`;
  const who = `pid ${owner.pid}, started ${owner.startedAt}`;
  if (owner.hostname !== hostname()) {
    return `a maintenance run on host ${owner.hostname} (${who}) holds the lock ${path}, and this host cannot tell whether it still runs; wait for it, or delete the lock once you are sure it has stopped`;
  }
  return `another maintenance run (${who}) holds the lock ${path}; wait for it to finish, or stop it (SIGINT or SIGTERM cleans up and saves the journal)`;
}

/** Tokens of the locks this process holds: a lock with this process's pid and another token is a leftover. */
const heldHere = new Set<string>();

/** Linux only; elsewhere a lock from before a reboot is judged by its pid alone. */
const BOOT_ID = readBootId();

/** A lock file, created atomically, that keeps a second run from using the same journal while one runs. */
export class RunLock {
  private released = false;
  private readonly releaseOnExit = () => this.release();

  private constructor(
    readonly path: string,
    readonly owner: LockOwner,
  ) {
    heldHere.add(owner.token);
    // process.exit() (a second SIGINT) runs "exit" listeners but no finally blocks.
    process.on("exit", this.releaseOnExit);
  }

  /**
   * Takes the lock at `path`, creating its folder. A lock whose holder is no longer running on this
   * host is taken over, and `onTakeOver` says whose it was; one held by a live process, or by one on
   * another host (whose processes this host cannot see), throws LockHeldError.
   */
  static acquire(path: string, onTakeOver: (previous: LockOwner, why: string) => void = () => undefined): RunLock {
    mkdirSync(dirname(path), { recursive: true });
    const owner: LockOwner = {
      pid: process.pid,
      hostname: hostname(),
      bootId: BOOT_ID,
      startedAt: new Date().toISOString(),
      token: randomUUID(),
    };
    // Written whole under a unique name, then linked into place: link fails if the lock exists, and a
    // reader never sees a half-written lock.
    const draft = `${path}.${owner.token}`;
    writeFileSync(draft, `${JSON.stringify(owner)}\n`, { flag: "wx" });
    try {
      // Each pass ends with the lock taken, with an error, or with a stale lock removed (or a released
      // one gone), so the loop ends unless other runs keep leaving dead locks behind.
      for (;;) {
        try {
          linkSync(draft, path);
          return new RunLock(path, owner);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        }
        const holder = readOwner(path);
        if (holder === "gone") continue;
        const why = holder && whyStale(holder);
        if (!holder || !why) throw new LockHeldError(path, holder);
        if (removeStale(path, holder)) onTakeOver(holder, why);
      }
    } finally {
      rmSync(draft, { force: true });
    }
  }

  /**
   * Removes the lock if it is still this run's. Never throws: a lock left behind (its folder gone, say)
   * names a process that has ended, and the next run takes it over.
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    heldHere.delete(this.owner.token);
    process.off("exit", this.releaseOnExit);
    try {
      const holder = readOwner(this.path);
      if (holder !== "gone" && holder?.token === this.owner.token) rmSync(this.path, { force: true });
    } catch {
      // Left for the next run to take over, as above.
    }
  }
}

/** The lock file beside a journal: runs with another --journal do not exclude each other. */
export function lockPathFor(journalPath: string): string {
  return `${journalPath}.lock`;
}

/** Why a lock's holder is certainly not running, or undefined if it may be. */
function whyStale(owner: LockOwner): string | undefined {
  // Another host's processes are out of sight: its lock is never judged stale here.
  if (owner.hostname !== hostname()) return undefined;
  if (owner.bootId !== undefined && BOOT_ID !== undefined && owner.bootId !== BOOT_ID) return "its machine has restarted since";
  if (owner.pid === process.pid) return heldHere.has(owner.token) ? undefined : "it is an earlier process with this one's pid";
  try {
    process.kill(owner.pid, 0);
    return undefined;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "ESRCH" ? "it is no longer running" : undefined;
  }
}

/**
 * Moves the stale lock aside and checks that what it moved is that lock: two runs may find the same
 * stale lock, and the slower one must not remove the lock the faster one has just created. Returns
 * whether it removed the stale lock.
 */
function removeStale(path: string, stale: LockOwner): boolean {
  const aside = `${path}.${randomUUID()}.stale`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
  const moved = readOwner(aside);
  if (moved !== "gone" && moved?.token !== stale.token) {
    // A live run's lock: put it back. Only a third run starting in this instant could have taken the
    // place meanwhile (then link fails, and that run holds the lock).
    try {
      linkSync(aside, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    rmSync(aside, { force: true });
    return false;
  }
  rmSync(aside, { force: true });
  return true;
}

/** The lock's owner; "gone" if there is no lock file (or no folder); undefined if it cannot be parsed. */
function readOwner(path: string): LockOwner | undefined | "gone" {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return "gone";
    throw error;
  }
  try {
    const owner = JSON.parse(text) as Partial<LockOwner>;
    const valid =
      typeof owner.pid === "number" &&
      typeof owner.hostname === "string" &&
      typeof owner.startedAt === "string" &&
      typeof owner.token === "string";
    return valid ? (owner as LockOwner) : undefined;
  } catch {
    return undefined;
  }
}

function readBootId(): string | undefined {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return undefined;
  }
}
