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

export interface MemoryLogger {
  logger: Logger;
  /** Every record logged so far (since the last clear()). */
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
