import { Logger } from "@monorepo/logger";
import { LiveProgress, LogProgress, type StepResult } from "../src/index";
import { Capture } from "./helpers";

const step = (overrides: Partial<StepResult> = {}): StepResult => ({
  id: "db.checkForDeadlocks",
  subsystem: "db",
  title: "check for deadlocks",
  status: "succeeded",
  attempts: 1,
  recoveries: 0,
  errors: [],
  ...overrides,
});

describe("LiveProgress (a terminal)", () => {
  it("redraws one line per running step with its attempt and elapsed time, and prints failures above", () => {
    const stream = new Capture();
    let now = 0;
    const progress = new LiveProgress(stream, { verbose: false, maxAttempts: 7, now: () => now });
    progress.onEvent({ type: "attempt-started", step: step(), attempt: 1 });
    progress.onEvent({ type: "attempt-started", step: step({ id: "s3.cleanUpOldBlobs" }), attempt: 1 });
    expect(stream.text).toContain("db.checkForDeadlocks  attempt 1/7    0.0s  running");
    now = 4200;
    progress.onEvent({ type: "attempt-failed", step: step(), attempt: 1, error: new Error("Deadlock detected"), retryInMs: 250 });
    progress.onEvent({ type: "recovery-started", step: step(), attempt: 2, recovery: "stop hung queries" });
    // The two drawn lines are erased (cursor up 2, clear) before each redraw.
    expect(stream.text).toContain("\x1b[2F\x1b[0J");
    expect(stream.text).toContain("db.checkForDeadlocks attempt 1 failed: Deadlock detected (retry in 0.3s)");
    expect(stream.text).toContain("db.checkForDeadlocks  attempt 2/7    4.2s  recovering: stop hung queries");
    progress.onEvent({ type: "step-finished", step: step({ id: "s3.cleanUpOldBlobs", status: "failed", attempts: 7, durationMs: 5000 }) });
    expect(stream.text).toContain("s3.cleanUpOldBlobs failed after 7 attempt(s), 5.0s");
    progress.close();
    expect(stream.text.endsWith("\x1b[1F\x1b[0J")).toBe(true);
  });

  it("cuts running lines to the terminal width so the redraw stays in place", () => {
    const stream = new Capture();
    Object.assign(stream, { columns: 30 }); // 29 characters fit without wrapping
    const progress = new LiveProgress(stream, { verbose: false, maxAttempts: 7, now: () => 0 });
    progress.onEvent({ type: "attempt-started", step: step(), attempt: 1 });
    progress.close();
    expect(stream.text).toContain("  db.checkForDeadlocks  attem\n");
  });
});

describe("LogProgress (not a terminal)", () => {
  it("writes one JSON log line per event, warnings for failures", () => {
    const stream = new Capture();
    const progress = new LogProgress(new Logger("maintenance", { stream }), false);
    progress.onEvent({ type: "attempt-started", step: step(), attempt: 1 });
    progress.onEvent({ type: "attempt-failed", step: step(), attempt: 1, error: new Error("Deadlock detected"), retryInMs: 250.4 });
    progress.onEvent({ type: "step-finished", step: step({ attempts: 2, recoveries: 1, durationMs: 12_000 }) });
    const lines = stream.text.trim().split("\n").map((line) => JSON.parse(line));
    expect(lines.map((line) => [line.level, line.message, line.data])).toEqual([
      ["INFO", "step started", { step: "db.checkForDeadlocks" }],
      ["WARN", "attempt failed", { step: "db.checkForDeadlocks", attempt: 1, error: "Deadlock detected", retryInMs: 250 }],
      ["INFO", "step finished", { step: "db.checkForDeadlocks", status: "succeeded", attempts: 2, recoveries: 1, durationMs: 12000 }],
    ]);
  });
});
