import { randomBytes } from "node:crypto";
import { closeSync, promises as fsp, fsyncSync, openSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";

/** File content as one string, or as chunks so a large file is written without building one huge string. */
export type FileContent = string | Iterable<string> | AsyncIterable<string>;

/** What writeFileAtomicSync takes: content it can produce without waiting. */
export type SyncFileContent = string | Iterable<string>;

/*
 * Both writers replace `file` so that readers (and a process killed at any moment) see either the old
 * or the new content, never a torn one: write a temp file in the same directory (a rename is only
 * atomic within one filesystem), fsync it, rename it over the target, fsync the directory. The
 * directory must exist. On failure the temp file is removed and the old content stays.
 */

export interface WriteFileAtomicOptions {
  /**
   * Abandons the write while it can still be undone: checked before each chunk and right before the
   * rename, so once it is aborted the file keeps its old content and the promise rejects with the
   * signal's reason. A write that has already renamed completes.
   */
  signal?: AbortSignal;
}

/** Atomically replaces `file`; chunks are written as they come, so the event loop keeps running. */
export async function writeFileAtomic(file: string, content: FileContent, options: WriteFileAtomicOptions = {}): Promise<void> {
  const { signal } = options;
  signal?.throwIfAborted();
  const temp = tempPathFor(file);
  const handle = await fsp.open(temp, "wx", await existingMode(file));
  try {
    for await (const chunk of typeof content === "string" ? [content] : content) {
      signal?.throwIfAborted();
      await handle.write(chunk);
    }
    await handle.sync();
    await handle.close();
    signal?.throwIfAborted();
    await fsp.rename(temp, file);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fsp.rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(path.dirname(file));
}

/** Atomically replaces `file`, blocking until it is durable: for CLIs that save state between steps. */
export function writeFileAtomicSync(file: string, content: SyncFileContent): void {
  const temp = tempPathFor(file);
  const fd = openSync(temp, "wx", existingModeSync(file));
  let open = true;
  try {
    for (const chunk of typeof content === "string" ? [content] : content) writeFileSync(fd, chunk);
    fsyncSync(fd);
    open = false;
    closeSync(fd);
    renameSync(temp, file);
  } catch (error) {
    // Closed once only: a second close could hit a descriptor the process has reused meanwhile.
    if (open) closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  syncDirectorySync(path.dirname(file));
}

/** writeFileAtomic of `value` as indented JSON with a final newline. */
export function writeJsonFileAtomic(file: string, value: unknown): Promise<void> {
  return writeFileAtomic(file, jsonText(value));
}

/** writeFileAtomicSync of `value` as indented JSON with a final newline. */
export function writeJsonFileAtomicSync(file: string, value: unknown): void {
  writeFileAtomicSync(file, jsonText(value));
}

function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Unique per process and call, hidden, and next to the target so the rename stays on one filesystem. */
function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
}

/** The writing process's id, when `name` is one of tempPathFor's names for `file`. */
function writerOfTempFile(file: string, name: string): number | undefined {
  const prefix = `.${path.basename(file)}.`;
  if (!name.startsWith(prefix)) return undefined;
  const match = /^(\d+)\.[0-9a-f]{12}\.tmp$/.exec(name.slice(prefix.length));
  return match ? Number(match[1]) : undefined;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes the temp files that writes of `file` left behind when their process died mid-write
 * (SIGKILL, a crash, power loss): the file itself is whole, but each of these is a partial copy
 * of it that nothing would ever clean up. Temp files of a process that still runs are kept, as it
 * may be writing. Returns the paths removed.
 */
export function removeStaleTempFiles(file: string): string[] {
  const directory = path.dirname(file);
  const removed: string[] = [];
  for (const name of readdirSync(directory)) {
    const writer = writerOfTempFile(file, name);
    if (writer === undefined || isRunning(writer)) continue;
    const temp = path.join(directory, name);
    rmSync(temp, { force: true });
    removed.push(temp);
  }
  return removed;
}

const NEW_FILE_MODE = 0o644;

/** Keep the permissions of the file being replaced; a new file gets the default. */
async function existingMode(file: string): Promise<number> {
  try {
    return (await fsp.stat(file)).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return NEW_FILE_MODE;
    throw error;
  }
}

function existingModeSync(file: string): number {
  const stats = statSync(file, { throwIfNoEntry: false });
  return stats ? stats.mode & 0o777 : NEW_FILE_MODE;
}

/** Makes the rename itself durable. Some filesystems refuse to fsync a directory; the rename still happened. */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await fsp.open(directory, "r");
  try {
    await handle.sync();
  } catch {
    // Best effort only: the data is already safely in place.
  } finally {
    await handle.close();
  }
}

function syncDirectorySync(directory: string): void {
  const fd = openSync(directory, "r");
  try {
    fsyncSync(fd);
  } catch {
    // Best effort only, as in syncDirectory.
  } finally {
    closeSync(fd);
  }
}
