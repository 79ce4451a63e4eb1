import { accessSync, constants, mkdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { callerDirectory, writeJsonFileAtomicSync } from "@monorepo/files";

type Env = Record<string, string | undefined>;

/** A path the user typed, resolved against the folder they were in (pnpm's INIT_CWD counts under the "maintenance" script). */
export function resolveUserPath(path: string, env: Env, cwd: string): string {
  return resolve(
    callerDirectory(env, cwd, (script) => script === "maintenance"),
    path,
  );
}

/** $XDG_STATE_HOME/acme-maintenance/journal.json; XDG says to ignore a relative XDG_STATE_HOME. */
export function defaultJournalPath(env: Env, home: string = homedir()): string {
  const stateHome = env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : join(home, ".local", "state");
  return join(stateHome, "acme-maintenance", "journal.json");
}

/**
 * Saves `value` as indented JSON, atomically and durably (the journal must survive a crash between
 * steps), creating the directory first: the journal's state folder or a --json path may not exist yet.
 */
export function writeJsonFile(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeJsonFileAtomicSync(path, value);
}

/**
 * Throws, with the reason, when no file can be written at `path` (a directory is there, or the
 * folder cannot be created or written to), so a bad --json path is refused before a run rather
 * than after it. Creates the missing folders, as writeJsonFile would.
 */
export function checkWritableFilePath(path: string): void {
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`${path} is a directory`);
  mkdirSync(dirname(path), { recursive: true });
  accessSync(dirname(path), constants.W_OK);
}
