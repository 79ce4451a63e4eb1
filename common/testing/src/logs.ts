import { Logger } from "@monorepo/logger";

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

/** The JSON log records among a process's stdout lines, skipping others (pnpm's "> script" lines, say). */
// biome-ignore lint/suspicious/noExplicitAny: a JSON body or log record is read field by field, as a test reads it
export function logRecords(lines: string[]): Array<Record<string, any>> {
  return lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
}

export interface MemoryLogger {
  logger: Logger;
  /** Every record logged so far (since the last clear()). */
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body or log record is read field by field, as a test reads it
  records: () => Array<Record<string, any>>;
  /** Forgets the records so far, e.g. before each test when one app (and its logger) serves a whole file. */
  clear: () => void;
}

/** A logger that keeps its records in memory, so tests stay quiet and can inspect them. */
export function memoryLogger(context = "test"): MemoryLogger {
  const lines: string[] = [];
  const logger = new Logger(context, { stream: { write: (line: string) => lines.push(line) } });
  return { logger, records: () => lines.map((line) => JSON.parse(line)), clear: () => void lines.splice(0) };
}
