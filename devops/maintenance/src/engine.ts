import { setMaxListeners } from "node:events";
import { ExponentialBackoff, handleWhen, retry } from "cockatiel";
import { byPriority, type Plan, remainingChainSeconds, remainingSteps, type StepAction, type StepDefinition } from "./graph";

/**
 * The engine: runs a Plan's steps as a dependency graph with a concurrency limit,
 * retries each step with cockatiel (exponential backoff, jitter) after its recovery,
 * enforces timeouts with AbortSignal, cleans up a subsystem that still fails (or that
 * was interrupted mid-step), and reports everything as events and a result.
 * It knows nothing about db, kafka or s3: those are data in steps.ts.
 */

/** The longest delay Node's timers keep (about 24.8 days); a longer one fires at once instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export type StepStatus =
  | "succeeded"
  /** Completed by an earlier run, according to the journal. */
  | "resumed"
  | "failed"
  /** Not started: its subsystem failed. */
  | "blocked"
  /** Running when the run was interrupted. */
  | "interrupted"
  /** Not started: the run was interrupted first. */
  | "cancelled";

export interface StepResult {
  id: string;
  subsystem: string;
  title: string;
  status: StepStatus;
  attempts: number;
  recoveries: number;
  /** Milliseconds from the start of the run. */
  startMs?: number;
  endMs?: number;
  durationMs?: number;
  /** One message per failed attempt (recovery failures included). */
  errors: string[];
}

export type SubsystemStatus = "succeeded" | "failed" | "interrupted";

export interface CleanupResult {
  reason: "failed" | "interrupted";
  status: "succeeded" | "failed" | "interrupted";
  steps: StepResult[];
}

export interface SubsystemResult {
  status: SubsystemStatus;
  failedStep?: string;
  cleanup?: CleanupResult;
}

export interface RunResult {
  status: "succeeded" | "failed" | "interrupted";
  durationMs: number;
  steps: StepResult[];
  subsystems: Record<string, SubsystemResult>;
}

export type EngineEvent =
  | { type: "attempt-started"; step: StepResult; attempt: number }
  | { type: "recovery-started"; step: StepResult; attempt: number; recovery: string }
  | { type: "attempt-failed"; step: StepResult; attempt: number; error: unknown; retryInMs?: number }
  | { type: "step-finished"; step: StepResult }
  | { type: "cleanup-started"; subsystem: string; reason: CleanupResult["reason"] }
  | { type: "cleanup-finished"; subsystem: string; cleanup: CleanupResult };

export interface EngineOptions {
  /** Most steps running at once (cleanups run outside it, as soon as their subsystem is idle). */
  concurrency?: number;
  /** Attempts per step, the first one included. */
  maxAttempts: number;
  /** Backoff before a retry: exponential from initialDelayMs, capped at maxDelayMs, with jitter. */
  backoff: { initialDelayMs: number; maxDelayMs: number };
  /** Turns a step's timeoutSeconds into milliseconds (scaled like the simulated work), unless the step has realTimeout. */
  timeoutMs: (seconds: number) => number;
  /** Aborting it interrupts the run: running steps stop, in-flight subsystems clean up. */
  signal?: AbortSignal;
  /** Steps completed by an earlier run. */
  resumed?: ReadonlySet<string>;
  onEvent?: (event: EngineEvent) => void;
  /** performance.now() at which step times start counting; a cleanup shares its run's, so one report has one clock. */
  clockStartedAt?: number;
  /** Called as each step succeeds, before any step that needs it starts (the journal). */
  onStepSucceeded?: (step: StepResult) => void;
}

/** A step ran out of time; retried like any other failure. */
export class StepTimeoutError extends Error {
  constructor(label: string, seconds: number, scaled = true) {
    super(`${label} timed out after ${seconds}s${scaled ? " (scaled)" : ""}`);
    this.name = "StepTimeoutError";
  }
}

/**
 * Runs `plan`, whose graphs must be valid (validateGraph): the engine runs data that tests have
 * validated once, instead of validating it again on every run.
 */
export function runPlan<Clients>(plan: Plan<Clients>, clients: Clients, options: EngineOptions): Promise<RunResult> {
  return new PlanRun(plan, clients, options).run();
}

/** Rejects with the signal's reason as soon as it aborts, whatever `work` does. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

class PlanRun<Clients> {
  private readonly results = new Map<string, StepResult>();
  private readonly running = new Map<string, string>();
  private readonly failedSubsystems = new Map<string, string>();
  private readonly cleanupReasons = new Map<string, CleanupResult["reason"]>();
  private readonly cleanups = new Map<string, Promise<CleanupResult>>();
  /** The steps this run does, their needs rewired around the resumed ones. */
  private readonly remaining: StepDefinition<Clients>[];
  private readonly chain: Map<string, number>;
  /** The run's own signal: the caller's interrupt forwarded, one listener per running step. */
  private readonly interrupt = new AbortController();
  private readonly signal = this.interrupt.signal;
  private readonly startedAt: number;
  private finish: () => void = () => undefined;

  constructor(
    private readonly plan: Plan<Clients>,
    private readonly clients: Clients,
    private readonly options: EngineOptions,
  ) {
    this.startedAt = options.clockStartedAt ?? performance.now();
    this.remaining = remainingSteps(plan.steps, options.resumed ?? new Set());
    this.chain = remainingChainSeconds(this.remaining);
    setMaxListeners(plan.steps.length + 1, this.signal);
    for (const step of plan.steps) {
      this.results.set(step.id, {
        id: step.id,
        subsystem: step.subsystem,
        title: step.title,
        // A step keeps "cancelled" only if the run ends before it starts.
        status: options.resumed?.has(step.id) ? "resumed" : "cancelled",
        attempts: 0,
        recoveries: 0,
        errors: [],
      });
    }
  }

  async run(): Promise<RunResult> {
    // Backoff timers are unref'd (an interrupted run must not wait for them to exit),
    // so the run itself keeps the process alive while a step waits to retry.
    const keepAlive = setInterval(() => undefined, 60_000);
    const forward = () => this.interrupt.abort(this.options.signal!.reason);
    if (this.options.signal?.aborted) forward();
    this.options.signal?.addEventListener("abort", forward, { once: true });
    this.signal.addEventListener("abort", () => this.pump(), { once: true });
    try {
      await new Promise<void>((resolve) => {
        this.finish = resolve;
        this.pump();
      });
      const cleanups = new Map<string, CleanupResult>();
      for (const [subsystem, cleanup] of this.cleanups) cleanups.set(subsystem, await cleanup);
      return this.summarize(cleanups);
    } finally {
      this.options.signal?.removeEventListener("abort", forward);
      clearInterval(keepAlive);
    }
  }

  private now(): number {
    return performance.now() - this.startedAt;
  }

  private isWaiting(step: StepDefinition<Clients>): boolean {
    return this.results.get(step.id)!.status === "cancelled" && !this.running.has(step.id);
  }

  /** Starts what is ready, starts cleanups of idle subsystems, and ends the run when idle. */
  private pump(): void {
    if (!this.signal.aborted) {
      const ready = this.remaining.filter(
        (step) =>
          this.isWaiting(step) &&
          !this.failedSubsystems.has(step.subsystem) &&
          step.needs.every((need) => this.results.get(need)!.status === "succeeded"),
      );
      const limit = this.options.concurrency ?? Infinity;
      for (const step of byPriority(ready, this.chain)) {
        if (this.running.size >= limit) break;
        this.start(step);
      }
    }
    for (const [subsystem, reason] of this.cleanupReasons) {
      const busy = [...this.running.values()].includes(subsystem);
      if (!busy && !this.cleanups.has(subsystem)) this.cleanups.set(subsystem, this.cleanUp(subsystem, reason));
    }
    if (this.running.size === 0) this.finish();
  }

  private start(step: StepDefinition<Clients>): void {
    const result = this.results.get(step.id)!;
    this.running.set(step.id, step.subsystem);
    result.startMs = this.now();
    this.attemptWithRetries(step, result)
      .then(() => {
        result.status = "succeeded";
        try {
          this.options.onStepSucceeded?.(result);
        } catch (error) {
          // A hook that throws leaves the step failed, so no step builds on it. (The maintenance
          // runner's journal hook does not throw: a journal it cannot write does not undo work.)
          result.errors.push(`recording its success failed: ${message(error)}`);
          throw error;
        }
      })
      .catch((error: unknown) => {
        if (this.signal.aborted) {
          result.status = "interrupted";
          this.cleanupReasons.set(step.subsystem, "interrupted");
        } else {
          result.status = "failed";
          if (!this.failedSubsystems.has(step.subsystem)) this.failedSubsystems.set(step.subsystem, step.id);
          this.cleanupReasons.set(step.subsystem, "failed");
          this.options.onEvent?.({ type: "attempt-failed", step: result, attempt: result.attempts, error });
        }
      })
      .finally(() => {
        result.endMs = this.now();
        result.durationMs = result.endMs - result.startMs!;
        this.running.delete(step.id);
        this.options.onEvent?.({ type: "step-finished", step: result });
        this.pump();
      });
  }

  /** One step: attempts through cockatiel's retry policy; recovery runs before each retry. */
  private attemptWithRetries(step: StepDefinition<Clients>, result: StepResult): Promise<void> {
    const { maxAttempts, backoff } = this.options;
    // Errors are retried unless the run was interrupted: then the step must stop now.
    const policy = retry(
      handleWhen(() => !this.signal.aborted),
      {
        maxAttempts: maxAttempts - 1,
        backoff: new ExponentialBackoff({ initialDelay: backoff.initialDelayMs, maxDelay: backoff.maxDelayMs }),
      },
    ).dangerouslyUnref();
    policy.onRetry((event) => {
      const error = "error" in event ? event.error : event.value;
      this.options.onEvent?.({ type: "attempt-failed", step: result, attempt: event.attempt, error, retryInMs: event.delay });
    });
    const attempts = policy.execute(async ({ attempt }) => {
      if (this.signal.aborted) throw this.signal.reason;
      result.attempts = attempt + 1;
      try {
        if (attempt > 0 && step.recovery) {
          result.recoveries += 1;
          this.options.onEvent?.({ type: "recovery-started", step: result, attempt: result.attempts, recovery: step.recovery.title });
          await this.withTimeout(step.recovery.run, step.recovery, `${step.id} recovery (${step.recovery.title})`);
        }
        this.options.onEvent?.({ type: "attempt-started", step: result, attempt: result.attempts });
        await this.withTimeout(step.run, step, step.id);
      } catch (error) {
        if (!this.signal.aborted) result.errors.push(message(error));
        throw error;
      }
    }, this.signal);
    // cockatiel's backoff delay does not listen to the signal; an interrupt must not wait for it.
    return untilAborted(attempts, this.signal);
  }

  private async withTimeout(
    action: StepAction<Clients>,
    { timeoutSeconds: seconds, realTimeout }: { timeoutSeconds: number; realTimeout?: boolean },
    label: string,
  ): Promise<void> {
    const ms = realTimeout ? seconds * 1000 : this.options.timeoutMs(seconds);
    const timeout = AbortSignal.timeout(Math.min(MAX_TIMER_MS, Math.ceil(ms)));
    const signal = AbortSignal.any([this.signal, timeout]);
    try {
      await untilAborted(action(this.clients, signal), signal);
    } catch (error) {
      if (timeout.aborted && !this.signal.aborted) throw new StepTimeoutError(label, seconds, !realTimeout);
      throw error;
    }
  }

  private async cleanUp(subsystem: string, reason: CleanupResult["reason"]): Promise<CleanupResult> {
    this.options.onEvent?.({ type: "cleanup-started", subsystem, reason });
    // Cleanup must run even though the run's signal may be aborted: it is what an
    // interrupt waits for. Each cleanup step still has its own timeout.
    const outcome = await runPlan({ steps: this.plan.cleanup[subsystem] ?? [], cleanup: {} }, this.clients, {
      ...this.options,
      concurrency: Infinity,
      signal: undefined,
      resumed: undefined,
      onStepSucceeded: undefined,
      clockStartedAt: this.startedAt,
    });
    const cleanup: CleanupResult = { reason, status: outcome.status, steps: outcome.steps };
    this.options.onEvent?.({ type: "cleanup-finished", subsystem, cleanup });
    return cleanup;
  }

  private summarize(cleanups: Map<string, CleanupResult>): RunResult {
    const steps = this.plan.steps.map((step) => {
      const result = this.results.get(step.id)!;
      if (result.status === "cancelled" && this.failedSubsystems.has(step.subsystem)) result.status = "blocked";
      return result;
    });
    const subsystems: Record<string, SubsystemResult> = {};
    for (const subsystem of new Set(this.plan.steps.map((step) => step.subsystem))) {
      const own = steps.filter((step) => step.subsystem === subsystem);
      const failedStep = this.failedSubsystems.get(subsystem);
      const status: SubsystemStatus = failedStep
        ? "failed"
        : own.every((step) => step.status === "succeeded" || step.status === "resumed")
          ? "succeeded"
          : "interrupted";
      subsystems[subsystem] = {
        status,
        ...(failedStep && { failedStep }),
        ...(cleanups.has(subsystem) && { cleanup: cleanups.get(subsystem) }),
      };
    }
    const statuses = Object.values(subsystems).map((subsystem) => subsystem.status);
    return {
      status: statuses.includes("interrupted") ? "interrupted" : statuses.includes("failed") ? "failed" : "succeeded",
      durationMs: this.now(),
      steps,
      subsystems,
    };
  }
}
