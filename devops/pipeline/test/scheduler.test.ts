import { runTasks, type Outcome } from "../src";

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
    const outcomes = await runTasks([task("service", ["logger"]), task("logger"), task("user", ["service"]), task("tools"), task("cli", ["tools"])], {
      concurrency: 2,
      onSettled: (o) => settled.push(o),
    });
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
