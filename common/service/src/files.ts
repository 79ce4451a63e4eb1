import { randomBytes } from "node:crypto";
import { promises as fsp, readFileSync } from "node:fs";
import * as path from "node:path";

/** A data file a service cannot start with; the message names the file and what is wrong. */
export class DataFileError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`Data file ${file} ${reason}`);
    this.name = "DataFileError";
  }
}

/**
 * Reads and parses a JSON data file, then lets `validate` check its shape (throw
 * to reject, return the typed value to accept). Any problem - missing, empty,
 * not JSON, wrong shape - is a DataFileError, so a service refuses to start
 * rather than run with no data.
 */
export function loadJsonDataFile<T>(file: string, validate: (value: unknown) => T): T {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new DataFileError(file, "does not exist");
    throw new DataFileError(file, `cannot be read: ${(error as Error).message}`);
  }
  if (text.trim() === "") throw new DataFileError(file, "is empty");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DataFileError(file, `is not valid JSON: ${(error as Error).message}`);
  }
  try {
    return validate(value);
  } catch (error) {
    throw new DataFileError(file, `has unexpected content: ${(error as Error).message}`);
  }
}

/** File content as one string, or as chunks so a large file is written without building one huge string. */
export type FileContent = string | Iterable<string> | AsyncIterable<string>;

/**
 * Replaces `file` so that readers (and a process killed at any moment) see
 * either the old or the new content, never a torn one: write a temp file in the
 * same directory, fsync it, rename it over the target, fsync the directory.
 */
export async function writeFileAtomic(file: string, content: FileContent): Promise<void> {
  const directory = path.dirname(file);
  const temp = path.join(directory, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const mode = await existingMode(file);
  const handle = await fsp.open(temp, "wx", mode);
  try {
    for await (const chunk of typeof content === "string" ? [content] : content) await handle.write(chunk);
    await handle.sync();
    await handle.close();
    await fsp.rename(temp, file);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fsp.rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(directory);
}

/** writeFileAtomic of `value` as indented JSON with a final newline. */
export function writeJsonFileAtomic(file: string, value: unknown): Promise<void> {
  return writeFileAtomic(file, JSON.stringify(value, null, 2) + "\n");
}

/** Keep the permissions of the file being replaced; a new file gets the default. */
async function existingMode(file: string): Promise<number> {
  try {
    return (await fsp.stat(file)).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0o644;
    throw error;
  }
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
