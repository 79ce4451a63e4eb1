/**
 * Steps as data, and what can be known about them before anything runs: validation,
 * waves, the critical path and a schedule estimate. Nothing here touches a client.
 */

/** What a step (or its recovery) does; the signal carries the step timeout and Ctrl-C. */
export type StepAction<Clients> = (clients: Clients, signal: AbortSignal) => Promise<unknown>;

/** Runs before a retry of the step it belongs to, to remove the cause of the failure. */
export interface Recovery<Clients> {
  title: string;
  estimateSeconds: number;
  timeoutSeconds: number;
  /** See StepDefinition.realTimeout. */
  realTimeout?: boolean;
  run: StepAction<Clients>;
}

export interface StepDefinition<Clients> {
  /** Unique, and starts with its subsystem: "db.updateIndexes". */
  id: string;
  /** Steps of one subsystem fail, clean up and report together. */
  subsystem: string;
  title: string;
  /** Steps that must have succeeded before this one starts. */
  needs: readonly string[];
  estimateSeconds: number;
  timeoutSeconds: number;
  /**
   * timeoutSeconds is real time for work on a real backend: the engine's timeoutMs, which scales
   * timeouts with the simulated work (SIMULATION_TIME_SCALE), does not apply to it.
   */
  realTimeout?: boolean;
  /**
   * Sets up state that lives only in this process (a connection), so a resumed run
   * repeats it whenever a step that needs it still has to run.
   */
  perProcess?: boolean;
  run: StepAction<Clients>;
  recovery?: Recovery<Clients>;
}

/** The steps of a run, and per subsystem the steps that clean up after it. */
export interface Plan<Clients> {
  steps: readonly StepDefinition<Clients>[];
  cleanup: Readonly<Record<string, readonly StepDefinition<Clients>[]>>;
}

/** A step graph that cannot run: a programming error in the step definitions. */
export class GraphError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GraphError";
  }
}

type Step = Pick<StepDefinition<unknown>, "id" | "subsystem" | "needs" | "estimateSeconds" | "perProcess">;

/**
 * Rejects duplicate ids, unknown or self dependencies, cycles, and edges between
 * subsystems (a subsystem fails and is cleaned up on its own, and --only/--skip
 * select whole subsystems, so no step may wait on another subsystem).
 */
export function validateGraph(steps: readonly Step[]): void {
  const byId = new Map<string, Step>();
  for (const step of steps) {
    if (byId.has(step.id)) throw new GraphError(`step "${step.id}" is defined twice`);
    byId.set(step.id, step);
  }
  for (const step of steps) {
    for (const need of step.needs) {
      const dependency = byId.get(need);
      if (!dependency) throw new GraphError(`step "${step.id}" needs unknown step "${need}"`);
      if (dependency.subsystem !== step.subsystem) {
        throw new GraphError(`step "${step.id}" (${step.subsystem}) needs "${need}" of another subsystem (${dependency.subsystem})`);
      }
    }
  }
  const cycle = findCycle(steps, byId);
  if (cycle) throw new GraphError(`steps form a cycle: ${cycle.join(" -> ")}`);
}

function findCycle(steps: readonly Step[], byId: Map<string, Step>): string[] | undefined {
  const state = new Map<string, "visiting" | "done">();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === "done") return undefined;
    if (state.get(id) === "visiting") return [...path.slice(path.indexOf(id)), id];
    state.set(id, "visiting");
    path.push(id);
    for (const need of byId.get(id)!.needs) {
      const cycle = visit(need);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(id, "done");
    return undefined;
  };
  for (const step of steps) {
    const cycle = visit(step.id);
    if (cycle) return cycle;
  }
  return undefined;
}

/** Steps of the given subsystems, in declaration order. */
export function selectSubsystems<S extends Step>(steps: readonly S[], subsystems: readonly string[]): S[] {
  return steps.filter((step) => subsystems.includes(step.subsystem));
}

/**
 * The journal's completed steps that a resumed run may skip: all of them except
 * per-process steps that a step still to run depends on (a new process has no connection).
 */
export function resumableSteps(steps: readonly Step[], completed: ReadonlySet<string>): Set<string> {
  const skip = new Set(steps.filter((step) => completed.has(step.id)).map((step) => step.id));
  const needed = new Set<string>();
  const byId = new Map(steps.map((step) => [step.id, step]));
  const markNeeds = (step: Step) => {
    for (const need of step.needs) {
      if (needed.has(need)) continue;
      needed.add(need);
      markNeeds(byId.get(need)!);
    }
  };
  for (const step of steps) if (!skip.has(step.id)) markNeeds(step);
  for (const id of needed) if (byId.get(id)!.perProcess) skip.delete(id);
  return skip;
}

/**
 * The steps a resumed run still has to do, each waiting for what it really waits for: a
 * need the journal completed is replaced by that step's own needs, transitively. So a step
 * whose predecessor is done still waits for a per-process step (a connection) that this
 * run repeats, instead of starting before it and failing "not connected".
 */
export function remainingSteps<S extends Step>(steps: readonly S[], resumed: ReadonlySet<string>): S[] {
  const byId = new Map(steps.map((step) => [step.id, step]));
  const rewired = new Map<string, string[]>();
  const needsOf = (step: S): string[] => {
    const known = rewired.get(step.id);
    if (known) return known;
    const needs = new Set<string>();
    for (const need of step.needs) {
      if (resumed.has(need)) for (const inherited of needsOf(byId.get(need)!)) needs.add(inherited);
      else needs.add(need);
    }
    rewired.set(step.id, [...needs]);
    return [...needs];
  };
  return steps.filter((step) => !resumed.has(step.id)).map((step) => ({ ...step, needs: needsOf(step) }));
}

/** Groups steps by depth: wave n holds the steps whose longest chain of needs has n links. */
export function waves<S extends Step>(steps: readonly S[]): S[][] {
  const depth = new Map<string, number>();
  const byId = new Map(steps.map((step) => [step.id, step]));
  const depthOf = (step: S): number => {
    const known = depth.get(step.id);
    if (known !== undefined) return known;
    const value = step.needs.reduce((deepest, need) => Math.max(deepest, depthOf(byId.get(need)!) + 1), 0);
    depth.set(step.id, value);
    return value;
  };
  const result: S[][] = [];
  for (const step of steps) {
    const depthOfStep = depthOf(step);
    result[depthOfStep] ??= [];
    result[depthOfStep].push(step);
  }
  return result;
}

/** Longest estimated chain through the graph: no schedule can finish sooner. */
export function criticalPath(steps: readonly Step[]): { seconds: number; steps: string[] } {
  const finish = new Map<string, { seconds: number; via?: string }>();
  const byId = new Map(steps.map((step) => [step.id, step]));
  const finishOf = (step: Step): number => {
    const known = finish.get(step.id);
    if (known) return known.seconds;
    let via: string | undefined;
    let start = 0;
    for (const need of step.needs) {
      const needFinish = finishOf(byId.get(need)!);
      if (needFinish > start) [start, via] = [needFinish, need];
    }
    finish.set(step.id, { seconds: start + step.estimateSeconds, via });
    return start + step.estimateSeconds;
  };
  let last: string | undefined;
  let seconds = 0;
  for (const step of steps) {
    const value = finishOf(step);
    if (value > seconds) [seconds, last] = [value, step.id];
  }
  const path: string[] = [];
  for (let id = last; id; id = finish.get(id)!.via) path.unshift(id);
  return { seconds, steps: path };
}

/**
 * Each step's longest estimated chain to the end of the graph, itself included. The
 * engine starts the ready step with the longest chain first, which keeps the critical
 * path moving when --concurrency leaves fewer slots than ready steps.
 */
export function remainingChainSeconds(steps: readonly Step[]): Map<string, number> {
  const dependents = new Map<string, Step[]>(steps.map((step) => [step.id, []]));
  for (const step of steps) for (const need of step.needs) dependents.get(need)!.push(step);
  const chain = new Map<string, number>();
  const chainOf = (step: Step): number => {
    const known = chain.get(step.id);
    if (known !== undefined) return known;
    const value = step.estimateSeconds + Math.max(0, ...dependents.get(step.id)!.map(chainOf));
    chain.set(step.id, value);
    return value;
  };
  for (const step of steps) chainOf(step);
  return chain;
}

/** Ready steps in the order the engine starts them: longest remaining chain first. */
export function byPriority<S extends Step>(ready: readonly S[], chain: ReadonlyMap<string, number>): S[] {
  return [...ready].sort((a, b) => chain.get(b.id)! - chain.get(a.id)!);
}

/** Estimated wall time of the engine's schedule with at most `concurrency` steps at once. */
export function estimateWallSeconds(steps: readonly Step[], concurrency: number): number {
  const chain = remainingChainSeconds(steps);
  const finishedAt = new Map<string, number>();
  const running: { id: string; end: number }[] = [];
  let now = 0;
  while (finishedAt.size < steps.length) {
    const ready = byPriority(
      steps.filter(
        (step) =>
          !finishedAt.has(step.id) && !running.some((slot) => slot.id === step.id) && step.needs.every((need) => finishedAt.has(need)),
      ),
      chain,
    );
    for (const step of ready.slice(0, Math.max(0, concurrency - running.length))) {
      running.push({ id: step.id, end: now + step.estimateSeconds });
    }
    running.sort((a, b) => a.end - b.end);
    const next = running.shift()!;
    now = next.end;
    finishedAt.set(next.id, now);
  }
  return now;
}
