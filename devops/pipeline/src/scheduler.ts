export interface Task<T> {
  id: string;
  /** Ids of tasks that must succeed first; ids that are not in the task list count as already done. */
  deps: string[];
  /**
   * False for a task that only waits for work another task does (a project of the one tsc solution
   * build, which holds the slot of the process doing the compiling): it holds none of the
   * `concurrency` slots. Default true.
   */
  usesSlot?: boolean;
  /** Resolves ok=false for an expected failure (a red build); a rejection is an error in the pipeline itself. */
  run: (signal: AbortSignal | undefined) => Promise<{ ok: boolean; value: T }>;
}

export type Outcome<T> = { id: string; status: "ok" | "failed"; value: T } | { id: string; status: "skipped"; reason: string };

export interface ScheduleOptions<T> {
  concurrency: number;
  signal?: AbortSignal;
  /** Called as each task settles, in completion order, so progress can be printed live. */
  onSettled?: (outcome: Outcome<T>) => void;
}

/**
 * Runs tasks as soon as their dependencies succeeded, at most `concurrency` slot-holding tasks at a
 * time, in the order given among the ready ones. A task whose dependency failed or was skipped is skipped.
 */
export async function runTasks<T>(tasks: Task<T>[], options: ScheduleOptions<T>): Promise<Map<string, Outcome<T>>> {
  const ids = new Set(tasks.map((t) => t.id));
  if (ids.size !== tasks.length) throw new Error("task ids must be unique");
  const outcomes = new Map<string, Outcome<T>>();
  const pending = [...tasks];
  const running = new Set<Promise<void>>();
  const concurrency = Math.max(1, Math.floor(options.concurrency));

  const settle = (outcome: Outcome<T>) => {
    outcomes.set(outcome.id, outcome);
    options.onSettled?.(outcome);
  };

  // Tasks whose fate is decided without running them, repeated until nothing changes.
  const skipBlocked = () => {
    let changed = true;
    while (changed) {
      changed = false;
      for (let i = 0; i < pending.length; i++) {
        const task = pending[i];
        const reason = options.signal?.aborted
          ? "interrupted"
          : task.deps
              .map((d) => outcomes.get(d))
              .filter((o) => o && o.status !== "ok")
              .map((o) => `${o!.id} ${o!.status}`)[0];
        if (reason) {
          pending.splice(i, 1);
          i--;
          settle({ id: task.id, status: "skipped", reason: reason === "interrupted" ? reason : `needs ${reason}` });
          changed = true;
        }
      }
    }
  };

  let slotsInUse = 0;
  const canStart = (task: Task<T>) =>
    (task.usesSlot === false || slotsInUse < concurrency) && task.deps.every((d) => !ids.has(d) || outcomes.get(d)?.status === "ok");

  for (;;) {
    skipBlocked();
    for (;;) {
      const index = pending.findIndex(canStart);
      if (index < 0) break;
      const [task] = pending.splice(index, 1);
      const holdsSlot = task.usesSlot !== false;
      if (holdsSlot) slotsInUse++;
      const promise: Promise<void> = task
        .run(options.signal)
        .then(({ ok, value }) => settle({ id: task.id, status: ok ? "ok" : "failed", value }))
        .finally(() => {
          running.delete(promise);
          if (holdsSlot) slotsInUse--;
        });
      running.add(promise);
    }
    if (running.size === 0) break;
    await Promise.race(running);
  }
  if (pending.length > 0) throw new Error(`tasks never became ready (a dependency cycle?): ${pending.map((t) => t.id).join(", ")}`);
  return outcomes;
}

/**
 * The tasks, longest remaining path first. A task's rank is its own cost plus the largest rank among
 * the tasks that need it, so a short build that unlocks a long test goes before a middling test.
 * runTasks starts ready tasks in list order: with this order it keeps the critical path busy and
 * leaves the short tasks to fill the gaps at the end. Equal ranks keep their given order.
 */
export function byCriticalPath<T>(tasks: Task<T>[], cost: (task: Task<T>) => number): Task<T>[] {
  const dependents = new Map<string, Task<T>[]>(tasks.map((t) => [t.id, []]));
  for (const task of tasks) for (const dep of task.deps) dependents.get(dep)?.push(task);
  const ranks = new Map<string, number>();
  const visiting = new Set<string>();
  const rank = (task: Task<T>): number => {
    const known = ranks.get(task.id);
    if (known !== undefined) return known;
    if (visiting.has(task.id)) throw new Error(`dependency cycle through ${task.id}`);
    visiting.add(task.id);
    const value = cost(task) + Math.max(0, ...dependents.get(task.id)!.map(rank));
    visiting.delete(task.id);
    ranks.set(task.id, value);
    return value;
  };
  return tasks
    .map((task, index) => ({ task, index, rank: rank(task) }))
    .sort((a, b) => b.rank - a.rank || a.index - b.index)
    .map(({ task }) => task);
}
