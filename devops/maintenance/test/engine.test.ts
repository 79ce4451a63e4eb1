import { type EngineEvent, type EngineOptions, runPlan, type StepDefinition, StepTimeoutError } from "../src/index";

/** What the fake steps record: when each one started and ended. */
interface Recorder {
  log: { id: string; event: "start" | "end" | "recover"; at: number }[];
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

function timed(id: string, ms: number) {
  return async (recorder: Recorder, signal: AbortSignal) => {
    recorder.log.push({ id, event: "start", at: performance.now() });
    await sleep(ms, signal);
    recorder.log.push({ id, event: "end", at: performance.now() });
  };
}

function step(id: string, needs: string[] = [], extra: Partial<StepDefinition<Recorder>> & { ms?: number } = {}): StepDefinition<Recorder> {
  const ms = extra.ms ?? 10;
  return {
    id,
    subsystem: id.split(".")[0],
    title: id,
    needs,
    estimateSeconds: ms / 1000,
    timeoutSeconds: 5,
    run: timed(id, ms),
    ...extra,
  };
}

const options: EngineOptions = { maxAttempts: 3, backoff: { initialDelayMs: 1, maxDelayMs: 2 }, timeoutMs: (s) => s * 1000 };

function at(recorder: Recorder, id: string, event: "start" | "end"): number {
  const entry = recorder.log.find((e) => e.id === id && e.event === event);
  if (!entry) throw new Error(`${id} never logged ${event}`);
  return entry.at;
}

function maxRunningAtOnce(recorder: Recorder): number {
  let running = 0;
  let most = 0;
  for (const entry of [...recorder.log].sort((a, b) => a.at - b.at || (a.event === "end" ? -1 : 1))) {
    running += entry.event === "start" ? 1 : entry.event === "end" ? -1 : 0;
    most = Math.max(most, running);
  }
  return most;
}

describe("runPlan", () => {
  it("starts a step only after everything it needs, and runs independent steps at the same time", async () => {
    const recorder: Recorder = { log: [] };
    const result = await runPlan(
      {
        steps: [
          step("a.root", [], { ms: 20 }),
          step("a.left", ["a.root"]),
          step("a.right", ["a.root"], { ms: 20 }),
          step("a.join", ["a.left", "a.right"]),
          step("b.alone", [], { ms: 30 }),
        ],
        cleanup: {},
      },
      recorder,
      options,
    );
    expect(result.status).toBe("succeeded");
    expect(at(recorder, "a.left", "start")).toBeGreaterThanOrEqual(at(recorder, "a.root", "end"));
    expect(at(recorder, "a.right", "start")).toBeGreaterThanOrEqual(at(recorder, "a.root", "end"));
    expect(at(recorder, "a.join", "start")).toBeGreaterThanOrEqual(Math.max(at(recorder, "a.left", "end"), at(recorder, "a.right", "end")));
    // Overlaps: the two branches, and the other subsystem with the first one.
    expect(at(recorder, "a.right", "start")).toBeLessThan(at(recorder, "a.left", "end"));
    expect(at(recorder, "b.alone", "start")).toBeLessThan(at(recorder, "a.root", "end"));
    expect(result.steps.map((s) => [s.id, s.status, s.attempts])).toEqual([
      ["a.root", "succeeded", 1],
      ["a.left", "succeeded", 1],
      ["a.right", "succeeded", 1],
      ["a.join", "succeeded", 1],
      ["b.alone", "succeeded", 1],
    ]);
  });

  it("never runs more steps at once than the concurrency limit", async () => {
    const steps = ["a.1", "a.2", "a.3", "b.1", "b.2", "b.3"].map((id) => step(id, [], { ms: 15 }));
    const limited: Recorder = { log: [] };
    await runPlan({ steps, cleanup: {} }, limited, { ...options, concurrency: 2 });
    expect(maxRunningAtOnce(limited)).toBe(2);
    const unlimited: Recorder = { log: [] };
    await runPlan({ steps, cleanup: {} }, unlimited, options);
    expect(maxRunningAtOnce(unlimited)).toBe(6);
  });

  it("gives a scarce slot to the step with the longest chain ahead of it", async () => {
    const recorder: Recorder = { log: [] };
    await runPlan(
      { steps: [step("a.short", [], { ms: 5 }), step("b.head", [], { ms: 5 }), step("b.tail", ["b.head"], { ms: 30 })], cleanup: {} },
      recorder,
      { ...options, concurrency: 1 },
    );
    expect(recorder.log.filter((e) => e.event === "start").map((e) => e.id)).toEqual(["b.head", "b.tail", "a.short"]);
  });

  it("runs the recovery before every retry and reports attempts, recoveries and each error", async () => {
    const recorder: Recorder = { log: [] };
    let calls = 0;
    const events: EngineEvent[] = [];
    const result = await runPlan(
      {
        steps: [
          step("db.check", [], {
            run: async (r) => {
              r.log.push({ id: "db.check", event: "start", at: performance.now() });
              if (++calls < 3) throw new Error(`Deadlock detected (${calls})`);
            },
            recovery: {
              title: "stop hung queries",
              estimateSeconds: 0,
              timeoutSeconds: 5,
              run: async (r) => void r.log.push({ id: "db.check", event: "recover", at: performance.now() }),
            },
          }),
        ],
        cleanup: {},
      },
      recorder,
      { ...options, onEvent: (event) => events.push(event) },
    );
    expect(recorder.log.map((e) => e.event)).toEqual(["start", "recover", "start", "recover", "start"]);
    expect(result.steps[0]).toMatchObject({
      status: "succeeded",
      attempts: 3,
      recoveries: 2,
      errors: ["Deadlock detected (1)", "Deadlock detected (2)"],
    });
    const failures = events.filter((e) => e.type === "attempt-failed");
    expect(failures).toHaveLength(2);
    for (const failure of failures) expect(failure).toMatchObject({ retryInMs: expect.any(Number) });
  });

  it("enforces a step's timeout even when the step ignores its signal, and retries it", async () => {
    const result = await runPlan(
      { steps: [step("s3.hang", [], { timeoutSeconds: 0.02, run: () => new Promise(() => undefined) })], cleanup: {} },
      { log: [] },
      options,
    );
    expect(result.steps[0]).toMatchObject({ status: "failed", attempts: 3 });
    expect(result.steps[0].errors).toEqual(Array(3).fill(new StepTimeoutError("s3.hang", 0.02).message));
  });

  it("cleans up a subsystem that still fails, blocks its remaining steps, and lets the others finish", async () => {
    const recorder: Recorder = { log: [] };
    const events: EngineEvent[] = [];
    const result = await runPlan(
      {
        steps: [
          step("a.broken", [], { run: async () => Promise.reject(new Error("broken")) }),
          step("a.sibling", [], { ms: 40 }),
          step("a.after", ["a.broken"]),
          step("b.slow", [], { ms: 60 }),
        ],
        cleanup: { a: [step("a.cleanup")], b: [step("b.cleanup")] },
      },
      recorder,
      { ...options, onEvent: (event) => events.push(event) },
    );
    expect(result.status).toBe("failed");
    expect(result.subsystems.a).toMatchObject({
      status: "failed",
      failedStep: "a.broken",
      cleanup: { reason: "failed", status: "succeeded" },
    });
    expect(result.subsystems.b).toEqual({ status: "succeeded" });
    expect(result.steps.map((s) => [s.id, s.status])).toEqual([
      ["a.broken", "failed"],
      ["a.sibling", "succeeded"],
      ["a.after", "blocked"],
      ["b.slow", "succeeded"],
    ]);
    expect(result.steps[0].errors).toEqual(["broken", "broken", "broken"]);
    // The cleanup waits for the subsystem's in-flight step, and never touches b.
    expect(at(recorder, "a.cleanup", "start")).toBeGreaterThanOrEqual(at(recorder, "a.sibling", "end"));
    // Its step times count from the start of the run, like every other step's.
    expect(result.subsystems.a.cleanup!.steps[0].startMs).toBeGreaterThanOrEqual(result.steps[1].endMs!);
    expect(recorder.log.some((e) => e.id === "b.cleanup")).toBe(false);
    expect(events.filter((e) => e.type === "cleanup-started")).toEqual([{ type: "cleanup-started", subsystem: "a", reason: "failed" }]);
  });

  it("on interrupt stops running steps at once (even in backoff), cleans up only in-flight subsystems", async () => {
    const recorder: Recorder = { log: [] };
    const controller = new AbortController();
    const pending = runPlan(
      {
        steps: [
          step("a.hang", [], { run: () => new Promise(() => undefined) }),
          step("a.next", ["a.hang"]),
          step("b.done", [], { ms: 1 }),
          step("c.flaky", [], { run: () => Promise.reject(new Error("flaky")) }),
        ],
        cleanup: { a: [step("a.cleanup")], b: [step("b.cleanup")], c: [step("c.cleanup")] },
      },
      recorder,
      { ...options, backoff: { initialDelayMs: 60_000, maxDelayMs: 60_000 }, signal: controller.signal },
    );
    setTimeout(() => controller.abort(new Error("SIGINT")), 30);
    const result = await pending;
    expect(result.status).toBe("interrupted");
    expect(result.steps.map((s) => [s.id, s.status])).toEqual([
      ["a.hang", "interrupted"],
      ["a.next", "cancelled"],
      ["b.done", "succeeded"],
      ["c.flaky", "interrupted"],
    ]);
    expect(result.subsystems.a.cleanup).toMatchObject({ reason: "interrupted", status: "succeeded" });
    expect(result.subsystems.c.cleanup).toMatchObject({ reason: "interrupted", status: "succeeded" });
    expect(result.subsystems.b).toEqual({ status: "succeeded" });
    expect(
      recorder.log
        .filter((e) => e.event === "end")
        .map((e) => e.id)
        .sort(),
    ).toEqual(["a.cleanup", "b.done", "c.cleanup"]);
  });

  it("skips resumed steps, which satisfy what depends on them", async () => {
    const recorder: Recorder = { log: [] };
    const result = await runPlan({ steps: [step("a.1"), step("a.2", ["a.1"])], cleanup: {} }, recorder, {
      ...options,
      resumed: new Set(["a.1"]),
    });
    expect(result.steps.map((s) => [s.id, s.status])).toEqual([
      ["a.1", "resumed"],
      ["a.2", "succeeded"],
    ]);
    expect(recorder.log.map((e) => e.id)).toEqual(["a.2", "a.2"]);
  });

  it("fails a step whose onStepSucceeded hook throws, so nothing builds on it", async () => {
    const recorder: Recorder = { log: [] };
    const result = await runPlan({ steps: [step("a.1"), step("a.2", ["a.1"])], cleanup: {} }, recorder, {
      ...options,
      onStepSucceeded: () => {
        throw new Error("ENOSPC");
      },
    });
    expect(result.steps.map((s) => [s.id, s.status])).toEqual([
      ["a.1", "failed"],
      ["a.2", "blocked"],
    ]);
    expect(result.steps[0].errors).toEqual(["recording its success failed: ENOSPC"]);
  });
});
