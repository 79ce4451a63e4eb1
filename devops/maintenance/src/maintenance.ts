import type { BackendChoice, Integrations } from "@monorepo/integrations";
import { scaledMs, timeScale } from "@monorepo/simulation";
import { type EngineEvent, type RunResult, runPlan, type StepResult, type SubsystemResult } from "./engine";
import { criticalPath, estimateWallSeconds, type Plan, remainingSteps, resumableSteps, selectSubsystems, waves } from "./graph";
import { type Journal, JournalError } from "./journal";
import { CLEANUP_STEPS, MAINTENANCE_STEPS, type MaintenanceStep, SUBSYSTEMS, type Subsystem } from "./steps";

type Env = Record<string, string | undefined>;

/**
 * Attempts per step, the first included. The deadlock check fails one call in three,
 * independently (the simulated database's documented rate), and each retry follows its
 * recovery, so a step fails for good with probability (1/3)^n: n = 5 gives 0.41%, too
 * close to the 0.5% budget; n = 7 gives 0.046% (one run in ~2,200), eleven times inside it.
 */
export const MAX_ATTEMPTS = 7;

/** Backoff before a retry, in simulated seconds (scaled like the work, so tests stay fast). */
export const BACKOFF_SECONDS = { initial: 0.25, max: 4 } as const;

/**
 * At a tiny time scale a step's timeout would be as short as its work (0 ms at scale 0), and which of
 * two equal timers fires first is luck; a step always gets at least this long.
 */
const MIN_TIMEOUT_MS = 250;

/** Exit codes; documented in --help and the README. */
export const EXIT_CODES = { succeeded: 0, failed: 1, usage: 2, locked: 3, journalOutOfDate: 4, interrupted: 130 } as const;

export type Mode = "maintenance" | "cleanup";

/** What a journal left out of date means for the next run. */
const COMPLETE_BUT_NOT_CLOSED =
  "every step is done, so delete the journal or run the next cycle with --fresh: a run that resumes from it would skip the steps it lists";
const RESUMES_FROM_LAST_SAVE = "the next run resumes from what it last saved and repeats the steps done since";

/** Step timeouts, in seconds, for the subsystems that run against a real backend. */
export type StepTimeouts = Partial<Record<Subsystem, number>>;

/**
 * The steps `mode` runs for `subsystems`, with each subsystem's cleanup for when it fails. A subsystem
 * in `timeouts` gets that timeout for each of its steps and recoveries instead of the simulated one,
 * in real seconds: SIMULATION_TIME_SCALE does not shorten it.
 */
export function buildPlan(mode: Mode, subsystems: readonly Subsystem[], timeouts: StepTimeouts = {}): Plan<Integrations> {
  const timed = (steps: readonly MaintenanceStep[]) => steps.map((step) => withTimeout(step, timeouts[step.subsystem as Subsystem]));
  if (mode === "cleanup") return { steps: timed(subsystems.flatMap((subsystem) => CLEANUP_STEPS[subsystem])), cleanup: {} };
  return {
    steps: timed(selectSubsystems(MAINTENANCE_STEPS, subsystems)),
    cleanup: Object.fromEntries(subsystems.map((subsystem) => [subsystem, timed(CLEANUP_STEPS[subsystem])])),
  };
}

function withTimeout(step: MaintenanceStep, timeoutSeconds: number | undefined): MaintenanceStep {
  if (timeoutSeconds === undefined) return step;
  const real = { timeoutSeconds, realTimeout: true };
  return { ...step, ...real, ...(step.recovery && { recovery: { ...step.recovery, ...real } }) };
}

export interface PlanDescription {
  steps: { id: string; needs: readonly string[]; estimateSeconds: number }[];
  /** Steps that can start together once every earlier wave is done. */
  waves: string[][];
  criticalPath: { seconds: number; steps: string[] };
  /** The original's way: one step after another. */
  serialSeconds: number;
  /** The engine's schedule with the given concurrency (equals the critical path when unlimited). */
  estimatedWallSeconds: number;
  resumed: string[];
  cleanup: Record<string, string[]>;
}

/** What one run does, decided once before it starts: --dry-run prints it, runMaintenance carries it out. */
export interface MaintenancePlan {
  mode: Mode;
  subsystems: Subsystem[];
  /** Most steps at once; Infinity for no limit. */
  concurrency: number;
  /** The steps to run and each subsystem's cleanup. */
  graph: Plan<Integrations>;
  /** Steps the journal says are done, which the run skips. */
  resumed: ReadonlySet<string>;
  /** The graph minus the resumed steps, with its waves, critical path and estimates. */
  description: PlanDescription;
  /** Progress of the current cycle (maintenance mode only); without one nothing is resumed or saved. */
  journal?: Journal;
}

export interface PlanOptions {
  mode?: Mode;
  subsystems?: readonly Subsystem[];
  concurrency?: number;
  journal?: Journal;
  /** Step timeouts of the subsystems that run against a real backend. */
  stepTimeouts?: StepTimeouts;
}

/**
 * Builds a run's plan from the step data and the journal. The data is not validated here, on every
 * run: a test validates steps.ts, and a selection of whole subsystems of a valid graph is valid.
 */
export function planMaintenance(options: PlanOptions = {}): MaintenancePlan {
  const mode = options.mode ?? "maintenance";
  const subsystems = [...(options.subsystems ?? SUBSYSTEMS)];
  const concurrency = options.concurrency ?? Infinity;
  // Cleanup mode keeps no journal: it resumes and records nothing.
  const journal = mode === "maintenance" ? options.journal : undefined;
  const graph = buildPlan(mode, subsystems, options.stepTimeouts);
  const resumed = journal ? resumableSteps(graph.steps, journal.completed) : new Set<string>();
  return { mode, subsystems, concurrency, graph, resumed, description: describePlan(graph, resumed, concurrency), journal };
}

function describePlan(plan: Plan<Integrations>, resumed: ReadonlySet<string>, concurrency: number): PlanDescription {
  const remaining = remainingSteps(plan.steps, resumed);
  return {
    steps: remaining.map(({ id, needs, estimateSeconds }) => ({ id, needs, estimateSeconds })),
    waves: waves(remaining).map((wave) => wave.map((step) => step.id)),
    criticalPath: criticalPath(remaining),
    serialSeconds: remaining.reduce((sum, step) => sum + step.estimateSeconds, 0),
    estimatedWallSeconds: estimateWallSeconds(remaining, concurrency),
    resumed: plan.steps.filter((step) => resumed.has(step.id)).map((step) => step.id),
    cleanup: Object.fromEntries(Object.entries(plan.cleanup).map(([subsystem, steps]) => [subsystem, steps.map((step) => step.id)])),
  };
}

export interface MaintenanceOptions {
  clients: Integrations;
  /** Which of the run's subsystems are real, for the report. */
  backends?: Partial<Record<Subsystem, BackendChoice>>;
  /** Where SIMULATION_TIME_SCALE is read for timeouts and backoff. */
  env?: Env;
  signal?: AbortSignal;
  onEvent?: (event: EngineEvent) => void;
  /** The journal could not be written (again); the run goes on. */
  onJournalError?: (error: JournalError) => void;
}

/** The --json report: everything the summary shows, for machines. */
export interface MaintenanceReport {
  version: 1;
  mode: Mode;
  status: RunResult["status"];
  exitCode: number;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  timeScale: number;
  concurrency: number | "unlimited";
  subsystems: Subsystem[];
  /** Which subsystems ran against a real backend (and which one), which simulated. */
  backends?: Partial<Record<Subsystem, BackendChoice>>;
  plan: PlanDescription;
  journal: {
    path: string;
    resumed: string[];
    /** Every maintenance step is done and the journal removed: the next run starts fresh. */
    closed: boolean;
    /** Why the journal on disk does not match this run (its last write or removal failed), and what follows. */
    error?: string;
  } | null;
  steps: StepResult[];
  results: Record<string, SubsystemResult>;
}

/**
 * Carries out `plan`, recording each completed step in its journal. Saving the journal as running
 * first is the caller's part: the CLI does it while it checks its input, so that an unwritable
 * journal stops it before anything changes.
 *
 * A journal that fails mid-run (disk full, its folder gone) does not stop the run: the steps are
 * real work, and the journal only spares a rerun some of it. Each later write tries again (each
 * writes the whole journal, so one that succeeds makes it whole); the report says if it ended out
 * of date.
 */
export async function runMaintenance(plan: MaintenancePlan, options: MaintenanceOptions): Promise<MaintenanceReport> {
  const env = options.env ?? process.env;
  const { journal, concurrency } = plan;
  let journalError: JournalError | undefined;
  const write = (change: () => void) => {
    try {
      change();
      journalError = undefined;
    } catch (error) {
      if (!(error instanceof JournalError)) throw error;
      if (!journalError) options.onJournalError?.(error);
      journalError = error;
    }
  };
  const startedAt = new Date();
  const result = await runPlan(plan.graph, options.clients, {
    concurrency,
    maxAttempts: MAX_ATTEMPTS,
    backoff: { initialDelayMs: scaledMs(BACKOFF_SECONDS.initial, env), maxDelayMs: scaledMs(BACKOFF_SECONDS.max, env) },
    timeoutMs: (seconds) => Math.max(MIN_TIMEOUT_MS, scaledMs(seconds, env)),
    signal: options.signal,
    resumed: plan.resumed,
    onEvent: options.onEvent,
    onStepSucceeded: journal && ((step) => write(() => journal.record(step.id, step.attempts))),
  });
  // Closes the cycle once every maintenance step is done; otherwise saves how this run ended.
  const complete = journal !== undefined && MAINTENANCE_STEPS.every((step) => journal.completed.has(step.id));
  let closed = false;
  if (journal) {
    write(() => {
      if (complete) {
        journal.close();
        closed = true;
      } else {
        journal.save(result.status);
      }
    });
  }
  const journalNote = journalError && `${journalError.message}; ${complete ? COMPLETE_BUT_NOT_CLOSED : RESUMES_FROM_LAST_SAVE}`;

  return {
    version: 1,
    mode: plan.mode,
    status: result.status,
    // An interrupt is what the operator asked for; a stale journal needs them before the next run.
    exitCode: result.status !== "interrupted" && journalNote ? EXIT_CODES.journalOutOfDate : EXIT_CODES[result.status],
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: result.durationMs,
    timeScale: timeScale(env),
    concurrency: Number.isFinite(concurrency) ? concurrency : "unlimited",
    subsystems: plan.subsystems,
    ...(options.backends && { backends: options.backends }),
    plan: plan.description,
    journal: journal ? { path: journal.path, resumed: [...plan.resumed], closed, ...(journalNote && { error: journalNote }) } : null,
    steps: result.steps,
    results: result.subsystems,
  };
}
