import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { EntrySizes, Evictor, type Health, LogFollower, parseUse, pathsFor, recordUses, type SweepResult, sweep } from "../src";

const KIB = 1024;
/** A fixed past, so the entries' mtimes are whatever each test sets, in whole seconds. */
const BASE_SECONDS = 1_700_000_000;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "remote-cache-evictor-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Writes `<cache>/<entry>` with `size` bytes, last used `usedAt` seconds after BASE_SECONDS. */
function entry(cacheDir: string, name: string, size: number, usedAt: number): string {
  const file = path.join(cacheDir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, Buffer.alloc(size, name));
  fs.utimesSync(file, BASE_SECONDS + usedAt, BASE_SECONDS + usedAt);
  return file;
}

function names(cacheDir: string): string[] {
  return ["ac", "cas"]
    .flatMap((namespace) =>
      fs.existsSync(path.join(cacheDir, namespace))
        ? fs.readdirSync(path.join(cacheDir, namespace)).map((name) => `${namespace}/${name}`)
        : [],
    )
    .sort();
}

function summary(result: SweepResult) {
  const { sizes, ...evicted } = result;
  return { usedBytes: sizes.usedBytes, entries: sizes.entries, ...evicted };
}

function hex(n: number): string {
  return n.toString(16).padStart(64, "0");
}

/** A use.log line as the nginx config's cache_use format writes it. */
function useLine(usedAt: number, status: number, name: string): string {
  return `${BASE_SECONDS + usedAt}.000 ${status} /${name}\n`;
}

describe("use log lines", () => {
  it("reads time, status and entry from nginx's cache_use format", () => {
    expect(parseUse(`1732719519.123 200 /cas/${hex(1)}`)).toEqual({ timeMs: 1732719519123, status: 200, entry: `cas/${hex(1)}` });
    expect(parseUse(`1732719519.000 201 /ac/${hex(2)}`)).toEqual({ timeMs: 1732719519000, status: 201, entry: `ac/${hex(2)}` });
  });

  it.each([
    ["a path outside the cache", "1732719519.123 200 /cas/../../etc/passwd"],
    ["another namespace", `1732719519.123 200 /tmp/${hex(1)}`],
    ["a torn line", "1732719519.1"],
    ["nginx's default format", `127.0.0.1 - - [27/Nov/2024:10:00:00 +0000] "GET /cas/${hex(1)} HTTP/1.1" 200 3`],
  ])("ignores %s", (_case, line) => {
    expect(parseUse(line)).toBeUndefined();
  });
});

describe("sweep", () => {
  it("deletes the least recently used entries, across ac/ and cas/, down to the target once over the bound", async () => {
    const cacheDir = path.join(dir, "cache");
    // Ten 10 KiB entries last used at 1..10 s, shuffled across both namespaces and out of name order.
    const order = [7, 2, 9, 4, 1, 10, 3, 6, 8, 5];
    order.forEach((usedAt, index) => {
      entry(cacheDir, `${index % 3 === 0 ? "ac" : "cas"}/${hex(index)}`, 10 * KIB, usedAt);
    });

    const result = await sweep(cacheDir, 95 * KIB, 60 * KIB);

    expect(summary(result)).toEqual({ usedBytes: 60 * KIB, entries: 6, evictedEntries: 4, evictedBytes: 40 * KIB });
    const survivors = order
      .map((usedAt, index) => ({ usedAt, name: `${index % 3 === 0 ? "ac" : "cas"}/${hex(index)}` }))
      .filter((e) => e.usedAt > 4);
    expect(names(cacheDir)).toEqual(survivors.map((e) => e.name).sort());
  });

  it("deletes nothing while the cache is within its bound", async () => {
    const cacheDir = path.join(dir, "cache");
    for (let i = 0; i < 5; i += 1) entry(cacheDir, `cas/${hex(i)}`, 10 * KIB, i);

    expect(summary(await sweep(cacheDir, 50 * KIB, 10 * KIB))).toEqual({
      usedBytes: 50 * KIB,
      entries: 5,
      evictedEntries: 0,
      evictedBytes: 0,
    });
    expect(names(cacheDir)).toHaveLength(5);
  });

  it("measures an empty or missing cache as zero", async () => {
    expect(summary(await sweep(path.join(dir, "nothing"), KIB, KIB))).toEqual({
      usedBytes: 0,
      entries: 0,
      evictedEntries: 0,
      evictedBytes: 0,
    });
  });
});

describe("recording uses", () => {
  it("moves a used entry's mtime up to its last use, never back, and keeps the written entries' sizes", async () => {
    const cacheDir = path.join(dir, "cache");
    const read = entry(cacheDir, `cas/${hex(1)}`, 100, 10);
    const uploaded = entry(cacheDir, `ac/${hex(2)}`, 300, 50);
    const newer = entry(cacheDir, `cas/${hex(3)}`, 100, 90);
    entry(cacheDir, `ac/${hex(5)}`, 280, 95);
    const sizes = new EntrySizes();
    sizes.set(`cas/${hex(1)}`, 100);
    sizes.set(`cas/${hex(3)}`, 100);
    // Replaced since it was measured: an action-cache entry rewritten by a rerun, 500 bytes then, 280 now.
    sizes.set(`ac/${hex(5)}`, 500);
    // Measured, then evicted or deleted by hand.
    sizes.set(`cas/${hex(6)}`, 1000);
    const uses = [
      useLine(20, 200, `cas/${hex(1)}`),
      useLine(40, 206, `cas/${hex(1)}`),
      useLine(50, 201, `ac/${hex(2)}`),
      useLine(30, 200, `cas/${hex(3)}`),
      useLine(60, 200, `cas/${hex(4)}`),
      useLine(95, 204, `ac/${hex(5)}`),
      useLine(96, 200, `cas/${hex(6)}`),
    ].map((line) => parseUse(line.trim())!);

    await recordUses(cacheDir, uses, sizes);

    expect({ usedBytes: sizes.usedBytes, entries: sizes.entries }).toEqual({ usedBytes: 100 + 300 + 100 + 280, entries: 4 });
    expect(fs.statSync(read).mtimeMs).toBe((BASE_SECONDS + 40) * 1000);
    expect(fs.statSync(uploaded).mtimeMs).toBe((BASE_SECONDS + 50) * 1000);
    // A replayed old use does not make an entry look older than it is.
    expect(fs.statSync(newer).mtimeMs).toBe((BASE_SECONDS + 90) * 1000);
  });
});

describe("following the use log", () => {
  it("returns only complete lines and keeps reading a rotated file until the next rotation", async () => {
    const log = path.join(dir, "use.log");
    fs.writeFileSync(log, "one\ntw");
    const follower = new LogFollower(log);
    try {
      await follower.openExisting();
      expect((await follower.readLines()).lines).toEqual(["one"]);
      fs.appendFileSync(log, "o\n");
      expect((await follower.readLines()).lines).toEqual(["two"]);

      await follower.rotate();
      expect(fs.readFileSync(`${log}.1`, "utf8")).toBe("one\ntwo\n");
      // A worker that has not reopened its logs yet still writes to the renamed file; nginx then creates a new one.
      fs.appendFileSync(`${log}.1`, "late\n");
      fs.writeFileSync(log, "new\n");
      expect((await follower.readLines()).lines).toEqual(["late", "new"]);

      // Truncated in place (logrotate's copytruncate): read again from the start.
      fs.writeFileSync(log, "");
      expect((await follower.readLines()).lines).toEqual([]);
      fs.appendFileSync(log, "after truncation\n");
      expect((await follower.readLines()).lines).toEqual(["after truncation"]);
    } finally {
      await follower.close();
    }
  });

  it("replays the rotated and the current file from their beginning when it starts", async () => {
    const log = path.join(dir, "use.log");
    fs.writeFileSync(`${log}.1`, "older\n");
    fs.writeFileSync(log, "newer\n");
    const follower = new LogFollower(log);
    try {
      await follower.openExisting();
      expect((await follower.readLines()).lines).toEqual(["older", "newer"]);
      expect((await follower.readLines()).lines).toEqual([]);
    } finally {
      await follower.close();
    }
  });

  it("reads a long backlog in bounded pieces and says when more is waiting", async () => {
    const log = path.join(dir, "use.log");
    fs.writeFileSync(log, `${"a".repeat(99)}\n${"b".repeat(99)}\n`);
    const follower = new LogFollower(log);
    try {
      await follower.openExisting();
      expect(await follower.readLines(150)).toEqual({ lines: ["a".repeat(99)], more: true });
      expect(await follower.readLines(150)).toEqual({ lines: ["b".repeat(99)], more: false });
    } finally {
      await follower.close();
    }
  });
});

describe("the evictor", () => {
  function readHealth(file: string): Health {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Health;
  }

  it("keeps the recently read entries and evicts the unread ones once uploads pass the bound", async () => {
    const paths = pathsFor(dir);
    fs.mkdirSync(paths.logDir, { recursive: true });
    // 20 entries of 10 KiB written at 1..20 s; a 250 KiB bound with a 225 KiB low-water mark.
    for (let i = 1; i <= 20; i += 1) entry(paths.cacheDir, `cas/${hex(i)}`, 10 * KIB, i);
    const evictions: string[] = [];
    let reopened = 0;
    let clock = (BASE_SECONDS + 100) * 1000;
    const evictor = new Evictor({
      paths,
      maxBytes: 250 * KIB,
      reopenLogs: () => (reopened += 1),
      log: (line) => evictions.push(line),
      now: () => clock,
    });
    try {
      await evictor.start();
      expect(readHealth(paths.healthFile)).toMatchObject({ status: "up", usedBytes: 200 * KIB, entries: 20, maxBytes: 250 * KIB });

      // The five oldest are read again, then ten new entries are uploaded: 300 KiB, over the bound.
      const reads = [1, 2, 3, 4, 5].map((i) => useLine(30 + i, 200, `cas/${hex(i)}`));
      fs.writeFileSync(paths.useLog, reads.join(""));
      expect(await evictor.step()).toBe(false);
      const uploads = [];
      for (let i = 21; i <= 30; i += 1) {
        entry(paths.cacheDir, `cas/${hex(i)}`, 10 * KIB, 40 + i);
        uploads.push(useLine(40 + i, 201, `cas/${hex(i)}`));
      }
      fs.appendFileSync(paths.useLog, uploads.join(""));
      clock += 1000;
      expect(await evictor.step()).toBe(false);

      // Down to 220 KiB (at most 225): the eight least recently used, 6..13, are gone.
      const expected = [1, 2, 3, 4, 5, ...Array.from({ length: 17 }, (_, k) => k + 14)].map((i) => `cas/${hex(i)}`).sort();
      expect(names(paths.cacheDir)).toEqual(expected);
      expect(readHealth(paths.healthFile)).toMatchObject({
        usedBytes: 220 * KIB,
        entries: 22,
        evictedEntries: 8,
        evictedBytes: 80 * KIB,
        lastEviction: new Date(clock).toISOString(),
        used: "220 KiB of 250 KiB (88%)",
        evictorPid: process.pid,
      });
      expect(evictions).toEqual([expect.stringContaining("evicted 8 least recently used entries (80 KiB): 300 KiB -> 220 KiB")]);
      expect(reopened).toBe(0);
    } finally {
      await evictor.close();
    }
  });

  it("records the uses logged while no evictor ran before it first measures the cache", async () => {
    const paths = pathsFor(dir);
    fs.mkdirSync(paths.logDir, { recursive: true });
    for (let i = 1; i <= 10; i += 1) entry(paths.cacheDir, `ac/${hex(i)}`, 10 * KIB, i);
    // Reads of the two oldest, one in the log rotated before the restart, one in the current log.
    fs.writeFileSync(`${paths.useLog}.1`, useLine(50, 200, `ac/${hex(1)}`));
    fs.writeFileSync(paths.useLog, useLine(60, 200, `ac/${hex(2)}`));
    const evictor = new Evictor({ paths, maxBytes: 95 * KIB, reopenLogs: () => undefined, log: () => undefined });
    try {
      await evictor.start();
      expect(names(paths.cacheDir)).toEqual([1, 2, 5, 6, 7, 8, 9, 10].map((i) => `ac/${hex(i)}`));
      expect(evictor.health()).toMatchObject({ usedBytes: 80 * KIB, entries: 8, evictedEntries: 2 });
    } finally {
      await evictor.close();
    }
  });

  it("rotates both logs past their size, has nginx reopen them, and reads what lands in either file", async () => {
    const paths = pathsFor(dir);
    fs.mkdirSync(paths.logDir, { recursive: true });
    entry(paths.cacheDir, `cas/${hex(1)}`, KIB, 1);
    entry(paths.cacheDir, `cas/${hex(2)}`, KIB, 2);
    fs.writeFileSync(paths.accessLog, "a request\n");
    fs.writeFileSync(paths.useLog, useLine(10, 200, `cas/${hex(1)}`));
    const logged: string[] = [];
    let reopened = 0;
    const evictor = new Evictor({
      paths,
      maxBytes: 2 ** 20,
      // As nginx does on SIGUSR1: new, empty logs under the old names.
      reopenLogs: () => {
        reopened += 1;
        fs.writeFileSync(paths.accessLog, "");
        fs.writeFileSync(paths.useLog, "");
      },
      log: (line) => logged.push(line),
      // One use line is about 90 bytes: the second passes the bound.
      rotateAt: { useLogBytes: 150, accessLogBytes: 1024 },
    });
    try {
      await evictor.start();
      expect(await evictor.step()).toBe(false);
      expect(reopened).toBe(0);

      fs.appendFileSync(paths.useLog, useLine(20, 200, `cas/${hex(2)}`));
      expect(await evictor.step()).toBe(false);

      expect(reopened).toBe(1);
      expect(logged).toContain("rotated access.log and use.log (the previous ones end in .1)");
      expect(fs.readFileSync(`${paths.accessLog}.1`, "utf8")).toBe("a request\n");
      expect(fs.readFileSync(`${paths.useLog}.1`, "utf8").split("\n")).toHaveLength(3);
      // A worker still writing to the renamed log, and one writing to the new log: both uses count.
      fs.appendFileSync(`${paths.useLog}.1`, useLine(30, 200, `cas/${hex(1)}`));
      fs.appendFileSync(paths.useLog, useLine(40, 200, `cas/${hex(2)}`));
      expect(await evictor.step()).toBe(false);
      expect(fs.statSync(path.join(paths.cacheDir, "cas", hex(1))).mtimeMs).toBe((BASE_SECONDS + 30) * 1000);
      expect(fs.statSync(path.join(paths.cacheDir, "cas", hex(2))).mtimeMs).toBe((BASE_SECONDS + 40) * 1000);
    } finally {
      await evictor.close();
    }
  });
});
