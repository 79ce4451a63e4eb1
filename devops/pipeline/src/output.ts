import type { Writable } from "node:stream";

export type StageStatus = "ok" | "FAILED" | "skipped";

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** "1 target", "2 targets": the count with its noun in the right number (nouns with a regular plural). */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/**
 * What a person reads while the pipeline runs: one line per stage with its time and status,
 * indented lines for the steps inside it, and nothing else on stdout.
 */
export class Output {
  constructor(private readonly out: Writable) {}

  line(text = ""): void {
    this.out.write(`${text}\n`);
  }

  /** "build        4.2s  ok      2 built, 3 up to date" */
  stage(name: string, ms: number, status: StageStatus, detail: string): void {
    this.line(`${name.padEnd(12)} ${seconds(ms).padStart(7)}  ${status.padEnd(7)} ${detail}`.trimEnd());
  }

  step(text: string): void {
    for (const line of text.split("\n")) this.line(`    ${line}`);
  }
}

/** Times a stage from creation to `ms()`. */
export class Stopwatch {
  private readonly started = Date.now();

  ms(): number {
    return Date.now() - this.started;
  }
}
