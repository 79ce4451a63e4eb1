import { byCriticalPath, type Outcome, runTasks, type Task } from "../src";

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("runTasks", () => {
  it("starts a task only after its dependencies and never runs more than the limit at once", async () => {
    let running = 0;
    let peak = 0;
    const started: string[] = [];
    const task = (id: string, deps: string[] = [], ok = true) => ({
      id,
      deps,
      run: async () => {
        started.push(id);
        running++;
        peak = Math.max(peak, running);
        await tick();
        running--;
        return { ok, value: id };
      },
    });
    const settled: Outcome<string>[] = [];
    const outcomes = await runTasks(
      [task("service", ["logger"]), task("logger"), task("user", ["service"]), task("tools"), task("cli", ["tools"])],
      {
        concurrency: 2,
        onSettled: (o) => settled.push(o),
      },
    );
    expect(peak).toBe(2);
    expect(started.indexOf("logger")).toBeLessThan(started.indexOf("service"));
    expect(started.indexOf("service")).toBeLessThan(started.indexOf("user"));
    expect([...outcomes.values()].every((o) => o.status === "ok")).toBe(true);
    expect(settled).toHaveLength(5);
  });

  it("skips what depends on a failure, transitively, and treats unknown dependencies as done", async () => {
    const ran: string[] = [];
    const task = (id: string, deps: string[], ok = true) => ({
      id,
      deps,
      run: async () => {
        ran.push(id);
        return { ok, value: id };
      },
    });
    const outcomes = await runTasks([task("a", ["up-to-date"], false), task("b", ["a"]), task("c", ["b"]), task("d", ["up-to-date"])], {
      concurrency: 1,
    });
    expect(ran).toEqual(["a", "d"]);
    expect(outcomes.get("a")?.status).toBe("failed");
    expect(outcomes.get("b")).toEqual({ id: "b", status: "skipped", reason: "needs a failed" });
    expect(outcomes.get("c")).toEqual({ id: "c", status: "skipped", reason: "needs b skipped" });
  });

  it("starts nothing more once aborted", async () => {
    const controller = new AbortController();
    const ran: string[] = [];
    const outcomes = await runTasks(
      ["a", "b", "c"].map((id) => ({
        id,
        deps: [],
        run: async () => {
          ran.push(id);
          controller.abort();
          return { ok: true, value: id };
        },
      })),
      { concurrency: 1, signal: controller.signal },
    );
    expect(ran).toEqual(["a"]);
    expect(outcomes.get("b")).toEqual({ id: "b", status: "skipped", reason: "interrupted" });
  });

  it("reports a dependency cycle instead of hanging", async () => {
    const task = (id: string, deps: string[]) => ({ id, deps, run: async () => ({ ok: true, value: id }) });
    await expect(runTasks([task("a", ["b"]), task("b", ["a"])], { concurrency: 2 })).rejects.toThrow(/never became ready/);
  });
});

describe("byCriticalPath", () => {
  const task = (id: string, deps: string[] = []): Task<string> => ({ id, deps, run: async () => ({ ok: true, value: id }) });
  const costs: Record<string, number> = { "build a": 1, "test a": 5, "build b": 1, "test b": 20, "build c": 1, "test c": 8, lint: 8 };
  const ids = (tasks: Task<string>[]) => tasks.map((t) => t.id);

  it("puts a short build that unlocks a long test before longer work that unlocks nothing", () => {
    const tasks = [
      task("build a"),
      task("test a", ["build a"]),
      task("lint"),
      task("build b", ["build a"]),
      task("test b", ["build b"]),
      task("build c"),
      task("test c", ["build c"]),
    ];
    // Ranks: build a 1+max(5, 21)=22, build b 21, test b 20, build c 9, lint 8 (given before test c), test c 8, test a 5.
    expect(ids(byCriticalPath(tasks, (t) => costs[t.id]))).toEqual(["build a", "build b", "test b", "build c", "lint", "test c", "test a"]);
  });

  it("ignores dependencies outside the list, keeps the given order on ties, and rejects a cycle", () => {
    expect(ids(byCriticalPath([task("x", ["gone"]), task("y"), task("z")], () => 1))).toEqual(["x", "y", "z"]);
    expect(() => byCriticalPath([task("p", ["q"]), task("q", ["p"])], () => 1)).toThrow(/dependency cycle/);
  });

  it("in runTasks, the longest chain starts first when slots are short", async () => {
    const started: string[] = [];
    const run = (id: string, deps: string[] = []): Task<string> => ({
      id,
      deps,
      run: async () => {
        started.push(id);
        await tick();
        return { ok: true, value: id };
      },
    });
    const tasks = [run("short"), run("build"), run("long", ["build"])];
    await runTasks(
      byCriticalPath(tasks, (t) => ({ short: 2, build: 1, long: 10 })[t.id as "short"]),
      { concurrency: 1 },
    );
    expect(started).toEqual(["build", "long", "short"]);
  });
});

describe("tasks that hold no slot", () => {
  it("start as soon as their dependencies are done, beside the slot-holding ones, and unlock what needs them", async () => {
    const log: string[] = [];
    let finishBuild!: () => void;
    const built = new Promise<void>((resolve) => (finishBuild = resolve));
    const task = (id: string, deps: string[], run: () => Promise<void>, usesSlot?: boolean): Task<string> => ({
      id,
      deps,
      usesSlot,
      run: async () => {
        log.push(`start ${id}`);
        await run();
        log.push(`end ${id}`);
        return { ok: true, value: id };
      },
    });
    // One slot: the solution build holds it; the project it builds waits without one; the project's
    // test needs the slot, so it starts only when the build is over.
    const done = runTasks(
      [
        task("solution", [], async () => {
          await tick();
          finishBuild();
          await tick();
        }),
        task("project", [], () => built, false),
        task("test", ["project"], async () => {
          await tick();
        }),
      ],
      { concurrency: 1 },
    );
    await done;
    expect(log).toEqual(["start solution", "start project", "end project", "end solution", "start test", "end test"]);
  });
});
