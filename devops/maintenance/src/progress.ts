import type { Logger } from "@monorepo/logger";
import type { EngineEvent } from "./engine";

/** Receives the engine's events while a run is in progress. */
export interface Progress {
  onEvent(event: EngineEvent): void;
  /** Something the operator must know now, outside the engine's events (the journal failing). */
  warn(message: string): void;
  /** What a real client found or did (the server's version, an index it rebuilt). */
  info(message: string, data?: Record<string, unknown>): void;
  /** Stops redrawing; called before the summary is printed. */
  close(): void;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

interface Writable {
  write(chunk: string): unknown;
  /** A terminal's width; a drawn line longer than it would wrap and break the redraw. */
  columns?: number;
}

interface RunningStep {
  startedAt: number;
  attempt: number;
  activity: string;
}

/**
 * For a terminal: one line per running step (attempt, what it does, elapsed time),
 * redrawn in place; noteworthy events scroll above it.
 */
export class LiveProgress implements Progress {
  private readonly running = new Map<string, RunningStep>();
  private drawnLines = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly stream: Writable,
    private readonly options: { verbose: boolean; maxAttempts: number; now?: () => number },
  ) {
    this.timer = setInterval(() => this.redraw(), 100);
    this.timer.unref();
  }

  private now(): number {
    return this.options.now ? this.options.now() : performance.now();
  }

  onEvent(event: EngineEvent): void {
    switch (event.type) {
      case "recovery-started":
      case "attempt-started": {
        const current = this.running.get(event.step.id);
        this.running.set(event.step.id, {
          startedAt: current?.startedAt ?? this.now(),
          attempt: event.attempt,
          activity: event.type === "recovery-started" ? `recovering: ${event.recovery}` : "running",
        });
        if (this.options.verbose && event.type === "attempt-started" && event.attempt === 1) this.print(`started ${event.step.id}`);
        break;
      }
      case "attempt-failed": {
        const retry = event.retryInMs === undefined ? "giving up" : `retry in ${seconds(event.retryInMs)}`;
        this.print(`${event.step.id} attempt ${event.attempt} failed: ${errorMessage(event.error)} (${retry})`);
        const current = this.running.get(event.step.id);
        if (current && event.retryInMs !== undefined) current.activity = "waiting to retry";
        break;
      }
      case "step-finished":
        this.running.delete(event.step.id);
        if (this.options.verbose || event.step.status !== "succeeded") {
          this.print(
            `${event.step.id} ${event.step.status} after ${event.step.attempts} attempt(s), ${seconds(event.step.durationMs ?? 0)}`,
          );
        }
        break;
      case "cleanup-started":
        this.print(`${event.subsystem} ${event.reason}: running its cleanup`);
        break;
      case "cleanup-finished":
        this.print(`${event.subsystem} cleanup ${event.cleanup.status}`);
        break;
    }
    this.redraw();
  }

  warn(message: string): void {
    this.print(message);
  }

  info(message: string, data?: Record<string, unknown>): void {
    this.print(data ? `${message} ${JSON.stringify(data)}` : message);
  }

  close(): void {
    clearInterval(this.timer);
    this.erase();
  }

  private print(line: string): void {
    this.erase();
    this.stream.write(`${line}\n`);
    this.draw();
  }

  private redraw(): void {
    this.erase();
    this.draw();
  }

  private erase(): void {
    // Up to the first drawn line, then clear to the end of the screen.
    if (this.drawnLines > 0) this.stream.write(`\x1b[${this.drawnLines}F\x1b[0J`);
    this.drawnLines = 0;
  }

  private draw(): void {
    const width = Math.max(...[...this.running.keys()].map((id) => id.length), 0);
    const lines = [...this.running].map(
      ([id, step]) =>
        `  ${id.padEnd(width)}  attempt ${step.attempt}/${this.options.maxAttempts}  ${seconds(this.now() - step.startedAt).padStart(6)}  ${step.activity}`,
    );
    if (lines.length === 0) return;
    // A terminal whose size is unknown (a pty nobody sized, such as `script`'s) reports 0 columns: do not cut then.
    const columns = this.stream.columns || Infinity;
    this.stream.write(`${lines.map((line) => line.slice(0, columns - 1)).join("\n")}\n`);
    this.drawnLines = lines.length;
  }
}

/**
 * Anywhere else (CI, pipes): structured log lines. Each step's outcome, every failed attempt,
 * recovery and cleanup are always logged; --verbose adds each start and retry, and the
 * failures' stacks.
 */
export class LogProgress implements Progress {
  constructor(
    private readonly logger: Logger,
    private readonly verbose: boolean,
  ) {}

  onEvent(event: EngineEvent): void {
    switch (event.type) {
      case "attempt-started":
        if (!this.verbose) break;
        if (event.attempt === 1) this.logger.info("step started", { step: event.step.id });
        else this.logger.info("step retrying", { step: event.step.id, attempt: event.attempt });
        break;
      case "recovery-started":
        this.logger.warn("step recovering", { step: event.step.id, attempt: event.attempt, recovery: event.recovery });
        break;
      case "attempt-failed":
        this.logger.warn("attempt failed", {
          step: event.step.id,
          attempt: event.attempt,
          error: errorMessage(event.error),
          retryInMs: event.retryInMs === undefined ? null : Math.round(event.retryInMs),
        });
        if (this.verbose) this.logger.debug("attempt failure detail", { step: event.step.id, error: event.error });
        break;
      case "step-finished": {
        const { id, status, attempts, recoveries, durationMs } = event.step;
        const data = { step: id, status, attempts, recoveries, durationMs: Math.round(durationMs ?? 0) };
        if (status === "succeeded") this.logger.info("step finished", data);
        else this.logger.error("step finished", data);
        break;
      }
      case "cleanup-started":
        this.logger.warn("cleanup started", { subsystem: event.subsystem, reason: event.reason });
        break;
      case "cleanup-finished":
        this.logger.info("cleanup finished", { subsystem: event.subsystem, status: event.cleanup.status });
        break;
    }
  }

  warn(message: string): void {
    this.logger.warn(message);
  }

  info(message: string, data?: Record<string, unknown>): void {
    this.logger.info(message, data);
  }

  close(): void {}
}
