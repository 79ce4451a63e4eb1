import { existsSync, readFileSync, rmSync } from "node:fs";
import { writeJsonFile } from "./files";

/** The journal cannot be used; the message says how to fix it. */
export class JournalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JournalError";
  }
}

export interface JournalEntry {
  completedAt: string;
  attempts: number;
}

export interface JournalContent {
  version: 1;
  startedAt: string;
  updatedAt: string;
  /** How the last run that wrote this journal ended (or "running"). */
  lastRun: "running" | "succeeded" | "failed" | "interrupted";
  completed: Record<string, JournalEntry>;
}

/**
 * Which maintenance steps are done in the current cycle, saved atomically after every
 * step, so a run that crashed, failed or was interrupted is resumed by the next one.
 */
export class Journal {
  private constructor(
    readonly path: string,
    private content: JournalContent,
  ) {}

  /** Reads the journal at `path` (none yet, or `fresh`: an empty one). */
  static open(path: string, options: { fresh?: boolean } = {}): Journal {
    const empty = (): JournalContent => {
      const now = new Date().toISOString();
      return { version: 1, startedAt: now, updatedAt: now, lastRun: "running", completed: {} };
    };
    if (options.fresh || !existsSync(path)) return new Journal(path, empty());
    let content: unknown;
    try {
      content = JSON.parse(readFileSync(path, "utf8"));
    } catch (error) {
      throw new JournalError(`cannot read the journal ${path} (${(error as Error).message}); pass --fresh to start over`);
    }
    if (!isJournalContent(content)) {
      throw new JournalError(`${path} is not a maintenance journal; pass --fresh to start over or --journal <path> to use another file`);
    }
    return new Journal(path, content);
  }

  get completed(): ReadonlySet<string> {
    return new Set(Object.keys(this.content.completed));
  }

  get startedAt(): string {
    return this.content.startedAt;
  }

  record(stepId: string, attempts: number): void {
    this.content.completed[stepId] = { completedAt: new Date().toISOString(), attempts };
    this.save("running");
  }

  save(lastRun: JournalContent["lastRun"]): void {
    this.content = { ...this.content, lastRun, updatedAt: new Date().toISOString() };
    try {
      writeJsonFile(this.path, this.content);
    } catch (error) {
      throw new JournalError(
        `cannot write the journal ${this.path} (${(error as Error).message}); pass --journal <path> to use another file`,
      );
    }
  }

  /** The cycle is complete: the next run starts fresh. */
  close(): void {
    try {
      rmSync(this.path, { force: true });
    } catch (error) {
      throw new JournalError(`cannot remove the journal ${this.path} (${(error as Error).message})`);
    }
  }
}

function isJournalContent(value: unknown): value is JournalContent {
  if (typeof value !== "object" || value === null) return false;
  const journal = value as Partial<JournalContent>;
  return (
    journal.version === 1 && typeof journal.completed === "object" && journal.completed !== null && typeof journal.startedAt === "string"
  );
}
