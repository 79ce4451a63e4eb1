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

  it("cuts nothing when the terminal reports no width", () => {
    const stream = new Capture();
    Object.assign(stream, { columns: 0 });
    const progress = new LiveProgress(stream, { verbose: false, maxAttempts: 7, now: () => 0 });
    progress.onEvent({ type: "attempt-started", step: step(), attempt: 1 });
    progress.close();
    expect(stream.text).toContain("  db.checkForDeadlocks  attempt 1/7    0.0s  running\n");
  });
});

describe("LogProgress (not a terminal)", () => {
  const events = [
    { type: "attempt-started", step: step(), attempt: 1 },
    { type: "attempt-failed", step: step(), attempt: 1, error: new Error("Deadlock detected"), retryInMs: 250.4 },
    { type: "recovery-started", step: step(), attempt: 2, recovery: "stop hung queries" },
    { type: "attempt-started", step: step(), attempt: 2 },
    { type: "step-finished", step: step({ attempts: 2, recoveries: 1, durationMs: 12_000 }) },
  ] as const;

  function logged(verbose: boolean) {
    const stream = new Capture();
    const progress = new LogProgress(new Logger("maintenance", { stream }), verbose);
    for (const event of events) progress.onEvent(event);
    return stream.text
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
  }

  it("writes one JSON log line per outcome, failure and recovery, warnings for failures", () => {
    expect(logged(false).map((line) => [line.level, line.message, line.data])).toEqual([
      ["WARN", "attempt failed", { step: "db.checkForDeadlocks", attempt: 1, error: "Deadlock detected", retryInMs: 250 }],
      ["WARN", "step recovering", { step: "db.checkForDeadlocks", attempt: 2, recovery: "stop hung queries" }],
      ["INFO", "step finished", { step: "db.checkForDeadlocks", status: "succeeded", attempts: 2, recoveries: 1, durationMs: 12000 }],
    ]);
  });

  it("with --verbose also logs every start and retry, and the failure's stack", () => {
    const lines = logged(true);
    expect(lines.map((line) => line.message)).toEqual([
      "step started",
      "attempt failed",
      "attempt failure detail",
      "step recovering",
      "step retrying",
      "step finished",
    ]);
    expect(lines[2]).toMatchObject({
      level: "DEBUG",
      data: { error: { message: "Deadlock detected", stack: expect.stringContaining("progress.test") } },
    });
    expect(lines[4].data).toEqual({ step: "db.checkForDeadlocks", attempt: 2 });
  });
});
