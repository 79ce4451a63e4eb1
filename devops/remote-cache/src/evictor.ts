import fs from "node:fs";
import path from "node:path";
import type { CachePaths } from "./settings";
import { formatSize } from "./size";

/*
 * nginx's DAV module never deletes, and file access times cannot be trusted (relatime, noatime), so
 * the evictor keeps the order of use in the entries' mtimes: nginx logs every successful read and
 * write of an entry to use.log, the evictor follows that log and moves each used entry's mtime up
 * to the time of its use, and once the blobs pass the bound it deletes the oldest mtimes first
 * until they are back under the low-water mark. The mtimes survive restarts, so the order does.
 *
 * Deleting never tears a blob: nginx renames finished uploads into place, and a file deleted while
 * nginx sends it stays readable to the end through its open descriptor.
 */

/** Sweeps go down to this share of the bound, so one sweep makes room for many uploads. */
export const LOW_WATER_FRACTION = 0.9;
/** What the log cannot tell (files added or deleted by hand) is picked up by a full scan this often. */
export const RESCAN_INTERVAL_MS = 15 * 60_000;
/** /healthz says when it was written; an unchanged cache still gets a fresh timestamp this often. */
export const HEALTH_REFRESH_MS = 30_000;
/** The evictor rotates both logs (keeping one old file each) past these sizes, so nothing grows unattended. */
export const USE_LOG_ROTATE_BYTES = 16 * 2 ** 20;
export const ACCESS_LOG_ROTATE_BYTES = 64 * 2 ** 20;
/** How much of the use log one step reads, so a long backlog is replayed in bounded memory. */
const READ_CHUNK_BYTES = 4 * 2 ** 20;
const STAT_BATCH = 64;
const NAMESPACES = ["ac", "cas"] as const;

export function lowWaterBytes(maxBytes: number): number {
  return Math.floor(maxBytes * LOW_WATER_FRACTION);
}

/** One line of use.log, as the nginx config's `cache_use` format writes it: `$msec $status $uri`. */
export interface Use {
  timeMs: number;
  status: number;
  /** The entry relative to the cache root, e.g. "cas/<sha256>". */
  entry: string;
}

export function parseUse(line: string): Use | undefined {
  const match = /^(\d+)\.(\d{3}) (\d{3}) \/((?:ac|cas)\/[0-9a-f]+)$/.exec(line);
  if (!match) return undefined;
  return { timeMs: Number(match[1]) * 1000 + Number(match[2]), status: Number(match[3]), entry: match[4] };
}

export interface CacheEntry {
  /** Relative to the cache root, e.g. "cas/<sha256>". */
  entry: string;
  file: string;
  size: number;
  /** The time of its last use. */
  mtimeMs: number;
}

/**
 * The size of every entry, so the total stays exact between scans (an action-cache entry can be
 * replaced by one of another size, and the log does not say by how much). A few hundred bytes of
 * memory per entry.
 */
export class EntrySizes {
  private readonly sizes = new Map<string, number>();
  private total = 0;

  set(entry: string, size: number): void {
    this.total += size - (this.sizes.get(entry) ?? 0);
    this.sizes.set(entry, size);
  }

  delete(entry: string): void {
    this.total -= this.sizes.get(entry) ?? 0;
    this.sizes.delete(entry);
  }

  get usedBytes(): number {
    return this.total;
  }

  get entries(): number {
    return this.sizes.size;
  }
}

/** Every entry under ac/ and cas/ with its size and last use. */
export async function scanCache(cacheDir: string): Promise<CacheEntry[]> {
  const entries: CacheEntry[] = [];
  for (const namespace of NAMESPACES) {
    const dir = path.join(cacheDir, namespace);
    let names: string[];
    try {
      names = await fs.promises.readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw error;
    }
    for (let start = 0; start < names.length; start += STAT_BATCH) {
      const batch = names.slice(start, start + STAT_BATCH);
      const stats = await Promise.all(batch.map((name) => lstatOrUndefined(path.join(dir, name))));
      stats.forEach((stat, index) => {
        if (!stat?.isFile()) return;
        const entry = `${namespace}/${batch[index]}`;
        entries.push({ entry, file: path.join(dir, batch[index]), size: stat.size, mtimeMs: stat.mtimeMs });
      });
    }
  }
  return entries;
}

export interface SweepResult {
  /** The entries left after the sweep. */
  sizes: EntrySizes;
  evictedEntries: number;
  evictedBytes: number;
}

/**
 * Measures the cache and, when it holds more than `maxBytes`, deletes the least recently used
 * entries until it holds at most `targetBytes`.
 */
export async function sweep(cacheDir: string, maxBytes: number, targetBytes: number): Promise<SweepResult> {
  const entries = await scanCache(cacheDir);
  const result: SweepResult = { sizes: new EntrySizes(), evictedEntries: 0, evictedBytes: 0 };
  for (const entry of entries) result.sizes.set(entry.entry, entry.size);
  if (result.sizes.usedBytes <= maxBytes) return result;
  entries.sort((a, b) => a.mtimeMs - b.mtimeMs);
  for (const entry of entries) {
    if (result.sizes.usedBytes <= targetBytes) break;
    const now = await lstatOrUndefined(entry.file);
    // Used or uploaded again since the scan: no longer among the least recently used.
    if (now && now.mtimeMs !== entry.mtimeMs) continue;
    // A re-upload renamed into place between the check and the unlink is lost: a later miss, never a torn blob.
    if (now && (await unlinkIfPresent(entry.file))) {
      result.evictedEntries += 1;
      result.evictedBytes += entry.size;
    }
    result.sizes.delete(entry.entry);
  }
  return result;
}

/** Writes: a new entry (201) or a replaced one (204). */
const WRITE_STATUSES = new Set([201, 204]);

/**
 * Moves each used entry's mtime up to its last use in `uses` (never back: replaying a log twice
 * changes nothing), and updates `sizes` for the entries written. Entries deleted since are dropped.
 */
export async function recordUses(cacheDir: string, uses: Use[], sizes: EntrySizes): Promise<void> {
  const lastUse = new Map<string, number>();
  const written = new Set<string>();
  for (const use of uses) {
    lastUse.set(use.entry, Math.max(lastUse.get(use.entry) ?? 0, use.timeMs));
    if (WRITE_STATUSES.has(use.status)) written.add(use.entry);
  }
  for (const [entry, timeMs] of lastUse) {
    const file = path.join(cacheDir, entry);
    const stat = await lstatOrUndefined(file);
    if (!stat?.isFile()) {
      sizes.delete(entry);
      continue;
    }
    if (written.has(entry)) sizes.set(entry, stat.size);
    if (stat.mtimeMs < timeMs) {
      const seconds = timeMs / 1000;
      await fs.promises.utimes(file, seconds, seconds).catch(ignoreMissing);
    }
  }
}

interface OpenLog {
  handle: fs.promises.FileHandle;
  ino: number;
  offset: number;
  partial: string;
}

/**
 * Follows a log that is rotated by renaming it to `<file>.1`: lines still written to the renamed
 * file (by a worker that has not reopened its logs yet) are read until the next rotation.
 */
export class LogFollower {
  private current?: OpenLog;
  private previous?: OpenLog;

  constructor(readonly file: string) {}

  /** Opens the rotated and the current file from their beginning, so a restart replays both. */
  async openExisting(): Promise<void> {
    this.previous = await openLog(`${this.file}.1`);
    this.current = await openLog(this.file);
  }

  /**
   * Complete lines written since the last call, the rotated file's first; at most about `maxBytes`
   * of each file, and `more` when a file has more than that waiting.
   */
  async readLines(maxBytes = READ_CHUNK_BYTES): Promise<{ lines: string[]; more: boolean }> {
    const onDisk = await lstatOrUndefined(this.file);
    if (onDisk && onDisk.ino !== this.current?.ino) {
      // Rotated by someone else, or created by nginx's reopen after our rotation.
      if (this.current) await this.retire();
      this.current = await openLog(this.file);
    }
    const lines: string[] = [];
    let more = false;
    for (const log of [this.previous, this.current]) {
      if (!log) continue;
      const read = await readNewLines(log, maxBytes);
      lines.push(...read.lines);
      more ||= read.more;
    }
    return { lines, more };
  }

  /** Bytes of the current file read so far. */
  get readBytes(): number {
    return this.current?.offset ?? 0;
  }

  /** Renames the file to `<file>.1` (replacing the older one, which is read to its end first). */
  async rotate(): Promise<string[]> {
    const lines = this.previous ? (await readNewLines(this.previous, Infinity)).lines : [];
    await renameIfPresent(this.file, `${this.file}.1`);
    if (this.current) await this.retire();
    return lines;
  }

  async close(): Promise<void> {
    await this.previous?.handle.close();
    await this.current?.handle.close();
    this.previous = this.current = undefined;
  }

  private async retire(): Promise<void> {
    await this.previous?.handle.close();
    this.previous = this.current;
    this.current = undefined;
  }
}

async function openLog(file: string): Promise<OpenLog | undefined> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  return { handle, ino: (await handle.stat()).ino, offset: 0, partial: "" };
}

async function readNewLines(log: OpenLog, maxBytes: number): Promise<{ lines: string[]; more: boolean }> {
  const { size } = await log.handle.stat();
  if (size < log.offset) {
    // Truncated in place (logrotate's copytruncate): start over.
    log.offset = 0;
    log.partial = "";
  }
  const length = Math.min(size - log.offset, maxBytes);
  if (length <= 0) return { lines: [], more: false };
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await log.handle.read(buffer, 0, length, log.offset);
  log.offset += bytesRead;
  const lines = (log.partial + buffer.subarray(0, bytesRead).toString("utf8")).split("\n");
  log.partial = lines.pop() ?? "";
  return { lines, more: log.offset < size };
}

/** What GET /healthz answers and `cache.sh status` prints. */
export interface Health {
  status: "up";
  /** The blobs' total size, and the bound the evictor keeps it under. */
  usedBytes: number;
  maxBytes: number;
  lowWaterBytes: number;
  entries: number;
  /** The same in words, for a person reading the JSON. */
  used: string;
  /** Since the evictor started. */
  evictedEntries: number;
  evictedBytes: number;
  lastEviction: string | null;
  evictorPid: number;
  updated: string;
}

export interface EvictorOptions {
  paths: CachePaths;
  maxBytes: number;
  /** Asks nginx to reopen its logs after a rotation (none to ask when it does not run: it opens new ones at start). */
  reopenLogs: () => void;
  /** One line per eviction, rotation or error. */
  log: (line: string) => void;
  now?: () => number;
  /** Sizes past which the logs are rotated (default USE_LOG_ROTATE_BYTES and ACCESS_LOG_ROTATE_BYTES). */
  rotateAt?: { useLogBytes: number; accessLogBytes: number };
}

/** Keeps the cache of `paths` under `maxBytes`, one step at a time (see the comment at the top). */
export class Evictor {
  private readonly useLog: LogFollower;
  private readonly lowWaterBytes: number;
  private readonly now: () => number;
  private sizes = new EntrySizes();
  private evictedEntries = 0;
  private evictedBytes = 0;
  private lastEviction: string | null = null;
  private nextScanAt = 0;
  private writtenHealth = "";
  private healthWrittenAt = 0;

  constructor(private readonly options: EvictorOptions) {
    this.useLog = new LogFollower(options.paths.useLog);
    this.lowWaterBytes = lowWaterBytes(options.maxBytes);
    this.now = options.now ?? Date.now;
  }

  /** Replays the use logs nginx wrote while no evictor ran, measures the cache, evicts if it is over. */
  async start(): Promise<void> {
    await this.useLog.openExisting();
    for (let more = true; more; ) {
      const read = await this.useLog.readLines();
      await recordUses(this.options.paths.cacheDir, parseUses(read.lines), this.sizes);
      more = read.more;
    }
    await this.sweep();
    await this.writeHealth();
  }

  /**
   * Records the uses logged since the last step and evicts when the cache is over its bound (or
   * a rescan is due). Resolves true when more of the log is waiting, so the caller steps again at once.
   */
  async step(): Promise<boolean> {
    const read = await this.useLog.readLines();
    await recordUses(this.options.paths.cacheDir, parseUses(read.lines), this.sizes);
    // Every use waiting in the log is recorded before a sweep decides what is least recently used.
    if (read.more) return true;
    if (this.sizes.usedBytes > this.options.maxBytes || this.now() >= this.nextScanAt) await this.sweep();
    await this.rotateLogsIfLarge();
    await this.writeHealth();
    return false;
  }

  /**
   * Steps for as long as the process lives, resting `idleMs` whenever the log has nothing new. It
   * needs no shutdown: every change it makes (utimes, unlink, rename) is atomic, so SIGTERM may
   * end it anywhere.
   */
  async run(idleMs = 200): Promise<never> {
    for (;;) {
      try {
        if (await this.step()) continue;
        await sleep(idleMs);
      } catch (error) {
        // A full disk or a permission problem: say so and try again; nginx serves on regardless.
        this.options.log(`error: ${(error as Error).message}`);
        await sleep(10 * idleMs);
      }
    }
  }

  /** Closes the log files (the process may as well just end). */
  close(): Promise<void> {
    return this.useLog.close();
  }

  health(): Health {
    const { usedBytes, entries } = this.sizes;
    const percent = Math.round((usedBytes / this.options.maxBytes) * 100);
    return {
      status: "up",
      usedBytes,
      maxBytes: this.options.maxBytes,
      lowWaterBytes: this.lowWaterBytes,
      entries,
      used: `${formatSize(usedBytes)} of ${formatSize(this.options.maxBytes)} (${percent}%)`,
      evictedEntries: this.evictedEntries,
      evictedBytes: this.evictedBytes,
      lastEviction: this.lastEviction,
      evictorPid: process.pid,
      updated: new Date(this.now()).toISOString(),
    };
  }

  private async sweep(): Promise<void> {
    const result = await sweep(this.options.paths.cacheDir, this.options.maxBytes, this.lowWaterBytes);
    this.sizes = result.sizes;
    this.nextScanAt = this.now() + RESCAN_INTERVAL_MS;
    if (result.evictedEntries === 0) return;
    this.evictedEntries += result.evictedEntries;
    this.evictedBytes += result.evictedBytes;
    this.lastEviction = new Date(this.now()).toISOString();
    this.options.log(
      `evicted ${result.evictedEntries} least recently used entries (${formatSize(result.evictedBytes)}): ` +
        `${formatSize(result.sizes.usedBytes + result.evictedBytes)} -> ${formatSize(result.sizes.usedBytes)} ` +
        `(bound ${formatSize(this.options.maxBytes)})`,
    );
  }

  private async rotateLogsIfLarge(): Promise<void> {
    const rotateAt = this.options.rotateAt ?? { useLogBytes: USE_LOG_ROTATE_BYTES, accessLogBytes: ACCESS_LOG_ROTATE_BYTES };
    const accessLogBytes = (await lstatOrUndefined(this.options.paths.accessLog))?.size ?? 0;
    if (this.useLog.readBytes < rotateAt.useLogBytes && accessLogBytes < rotateAt.accessLogBytes) return;
    const { accessLog } = this.options.paths;
    await renameIfPresent(accessLog, `${accessLog}.1`);
    const pending = await this.useLog.rotate();
    await recordUses(this.options.paths.cacheDir, parseUses(pending), this.sizes);
    this.options.reopenLogs();
    this.options.log("rotated access.log and use.log (the previous ones end in .1)");
  }

  /** Rewrites health.json when its numbers changed, or to refresh its timestamp. */
  private async writeHealth(): Promise<void> {
    const text = JSON.stringify({ ...this.health(), updated: undefined });
    if (text === this.writtenHealth && this.now() - this.healthWrittenAt < HEALTH_REFRESH_MS) return;
    const file = this.options.paths.healthFile;
    // Renamed into place so nginx never serves half a file; no fsync: it is rewritten all the time and worthless after a crash.
    await fs.promises.writeFile(`${file}.tmp`, `${JSON.stringify(this.health(), null, 2)}\n`);
    await fs.promises.rename(`${file}.tmp`, file);
    this.writtenHealth = text;
    this.healthWrittenAt = this.now();
  }
}

function parseUses(lines: string[]): Use[] {
  return lines.map(parseUse).filter((use): use is Use => use !== undefined);
}

async function lstatOrUndefined(file: string): Promise<fs.Stats | undefined> {
  try {
    return await fs.promises.lstat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

async function renameIfPresent(from: string, to: string): Promise<void> {
  await fs.promises.rename(from, to).catch(ignoreMissing);
}

async function unlinkIfPresent(file: string): Promise<boolean> {
  try {
    await fs.promises.unlink(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== "ENOENT") throw error;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
