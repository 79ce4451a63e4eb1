import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { runNode } from "@monorepo/testing";
import { LockHeldError, type LockOwner, RunLock } from "../src/index";
import { tempDir } from "./helpers";

function owner(overrides: Partial<LockOwner> = {}): LockOwner {
  return { pid: process.pid, hostname: hostname(), startedAt: "2030-01-01T00:00:00.000Z", token: "another-token", ...overrides };
}

/** The pid of a process that has just exited. */
async function deadPid(): Promise<number> {
  let pid = 0;
  await runNode("-e", [""], { whileRunning: (child) => (pid = child.pid!) });
  return pid;
}

describe("RunLock", () => {
  it("writes who holds it, refuses a second holder, and is removed on release", () => {
    const path = join(tempDir(), "state", "journal.json.lock");
    const lock = RunLock.acquire(path);
    expect(JSON.parse(readFileSync(path, "utf8"))).toMatchObject({ pid: process.pid, hostname: hostname(), token: lock.owner.token });
    expect(() => RunLock.acquire(path)).toThrow(LockHeldError);
    expect(() => RunLock.acquire(path)).toThrow(
      new RegExp(`another maintenance run \\(pid ${process.pid}, started .*\\) holds the lock ${path}`),
    );
    lock.release();
    expect(existsSync(path)).toBe(false);
    RunLock.acquire(path).release();
  });

  it("takes over the lock of a process that has ended, and says whose it was", async () => {
    const path = join(tempDir(), "journal.json.lock");
    const pid = await deadPid();
    writeFileSync(path, JSON.stringify(owner({ pid })));
    const notes: string[] = [];
    const lock = RunLock.acquire(path, (previous, why) => notes.push(`${previous.pid}: ${why}`));
    expect(notes).toEqual([`${pid}: it is no longer running`]);
    expect(JSON.parse(readFileSync(path, "utf8")).token).toBe(lock.owner.token);
    lock.release();
  });

  it.each([
    ["an earlier process with this pid (a restarted container)", {}, "it is an earlier process with this one's pid"],
    ["a live pid from before a reboot", { pid: process.ppid, bootId: "an-earlier-boot" }, "its machine has restarted since"],
  ])("takes over a lock left by %s", (_, fields, why) => {
    const path = join(tempDir(), "journal.json.lock");
    writeFileSync(path, JSON.stringify(owner(fields)));
    const reasons: string[] = [];
    RunLock.acquire(path, (_previous, reason) => reasons.push(reason)).release();
    expect(reasons).toEqual([why]);
  });

  it("never takes over a lock from another host, whose processes it cannot see", () => {
    const path = join(tempDir(), "journal.json.lock");
    const content = JSON.stringify(owner({ hostname: "elsewhere.example", pid: 1 }));
    writeFileSync(path, content);
    expect(() => RunLock.acquire(path)).toThrow(
      /a maintenance run on host elsewhere.example \(pid 1, .*\) holds the lock .*this host cannot tell whether it still runs/,
    );
    expect(readFileSync(path, "utf8")).toBe(content);
  });

  it("refuses a lock that does not say who holds it", () => {
    const path = join(tempDir(), "journal.json.lock");
    writeFileSync(path, "not json");
    expect(() => RunLock.acquire(path)).toThrow(/does not say who holds it; delete it once you are sure/);
  });

  it("on release leaves a lock that is no longer its own, and a folder that has gone", () => {
    const dir = tempDir();
    const path = join(dir, "journal.json.lock");
    const replaced = RunLock.acquire(path);
    const other = JSON.stringify(owner({ token: "the-new-holder" }));
    writeFileSync(path, other);
    replaced.release();
    expect(readFileSync(path, "utf8")).toBe(other);

    const moved = join(tempDir(), "state");
    const inMoved = RunLock.acquire(join(moved, "journal.json.lock"));
    renameSync(moved, `${moved}.elsewhere`);
    writeFileSync(moved, "a file where the folder was");
    expect(() => inMoved.release()).not.toThrow();
    expect(existsSync(join(`${moved}.elsewhere`, "journal.json.lock"))).toBe(true);
  });
});
