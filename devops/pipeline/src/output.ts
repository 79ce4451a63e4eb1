import type { Writable } from "node:stream";

export type StageStatus = "ok" | "FAILED" | "skipped" | "stopped";

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** "1 target", "2 targets": the count with its noun in the right number (nouns with a regular plural). */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** "42s", "2m05s": elapsed time at a glance, for the live line. */
export function clock(ms: number): string {
  const total = Math.floor(ms / 1000);
  return total < 60 ? `${total}s` : `${Math.floor(total / 60)}m${String(total % 60).padStart(2, "0")}s`;
}

/** Stage line columns; pipeline.sh's `stage` prints the same ones. */
const STAGE_NAME_WIDTH = 12;
const STAGE_TIME_WIDTH = 9;
const STAGE_STATUS_WIDTH = 7;

/** Erases the terminal line the cursor is on and returns to its start (ECMA-48 EL, then CR). */
const ERASE_LINE = "\r\x1b[2K";

/**
 * What a person reads while the pipeline runs: one line per stage with its time and status,
 * indented lines for the steps inside it, and nothing else on stdout. On a terminal, a live line
 * (see `progress`) stays below them while targets run; off a terminal there is none, and no escape
 * code is ever written.
 */
export class Output {
  private live?: Progress;

  constructor(private readonly out: Writable) {}

  /** A terminal that the live line can be redrawn on. */
  get isTerminal(): boolean {
    return (this.out as { isTTY?: boolean }).isTTY === true;
  }

  line(text = ""): void {
    this.out.write(`${this.live?.visible ? ERASE_LINE : ""}${text}\n`);
    this.live?.draw();
  }

  /** "build             4.2s  ok      2 built, 3 up to date" */
  stage(name: string, ms: number, status: StageStatus, detail: string): void {
    this.line(
      `${name.padEnd(STAGE_NAME_WIDTH)} ${seconds(ms).padStart(STAGE_TIME_WIDTH)}  ${status.padEnd(STAGE_STATUS_WIDTH)} ${detail}`.trimEnd(),
    );
  }

  step(text: string): void {
    for (const line of text.split("\n")) this.line(`    ${line}`);
  }

  /**
   * Tracks `total` units of work (test targets); on a terminal, shows what runs, how many are done and
   * the time so far on a live line redrawn in place (each second and on every change) until `stop()`.
   */
  progress(total: number, noun: string): Progress {
    const progress = new Progress(this.out, total, noun, this.isTerminal, () => (this.live = undefined));
    if (progress.onTerminal) {
      this.live = progress;
      progress.draw();
    }
    return progress;
  }
}

export class Progress {
  private readonly running = new Set<string>();
  private readonly started = Date.now();
  private readonly timer?: NodeJS.Timeout;
  private done = 0;
  private stopped = false;
  /** The live line is on the screen (and must be erased before anything else is written). */
  visible = false;

  constructor(
    private readonly out: Writable,
    private readonly total: number,
    private readonly noun: string,
    readonly onTerminal: boolean,
    private readonly onStop: () => void,
  ) {
    if (onTerminal) this.timer = setInterval(() => this.draw(), 1000).unref();
  }

  start(id: string): void {
    this.running.add(id);
    this.draw();
  }

  /** Marks `id` finished; returns "3 of 13 targets done" for the line that reports it (which redraws the live line). */
  finish(id: string): string {
    this.running.delete(id);
    this.done++;
    return `${this.done} of ${plural(this.total, this.noun)} done`;
  }

  /** The live line's text, cut to the terminal's width so that it never wraps (a wrapped line cannot be erased in place). */
  text(): string {
    const names = [...this.running].join(", ");
    const text = `${this.done}/${this.total} ${this.noun}s done, ${clock(Date.now() - this.started)}${names ? ` | running: ${names}` : ""}`;
    // A pty without a size reports 0 columns.
    const width = ((this.out as { columns?: number }).columns || 80) - 1;
    return text.length > width ? `${text.slice(0, Math.max(0, width - 3))}...` : text;
  }

  draw(): void {
    if (!this.onTerminal || this.stopped) return;
    this.out.write(`${ERASE_LINE}${this.text()}`);
    this.visible = true;
  }

  /** Removes the live line (before the final report) and stops redrawing it. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    if (this.visible) this.out.write(ERASE_LINE);
    this.visible = false;
    this.onStop();
  }
}

/** Times a stage from creation to `ms()`. */
export class Stopwatch {
  private readonly started = Date.now();

  ms(): number {
    return Date.now() - this.started;
  }
}
