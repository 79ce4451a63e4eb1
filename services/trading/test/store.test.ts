import { promises as fsp } from "node:fs";
import { SerialQueue, StockStore } from "../src";
import { generatedStock, tempDataFile, writeGeneratedStocks } from "./stock-data";

describe("StockStore.jsonChunks", () => {
  it("renders the whole set as the JSON of the data file across chunk boundaries, one stock per line", async () => {
    const { dir, file } = tempDataFile({});
    try {
      await writeGeneratedStocks(file, 4_500);
      const store = StockStore.load(file);
      const text = [...store.jsonChunks(new Map([["T0004499", "someone"]]))].join("");
      const parsed = JSON.parse(text);
      expect(Object.keys(parsed)).toHaveLength(4_500);
      expect(parsed.T0000000).toEqual(generatedStock(0));
      expect(parsed.T0004499).toEqual({ ...generatedStock(4499), owned: "someone" });
      expect(text.split("\n")).toHaveLength(4_500 + 3);
      expect(store.get("T0004499")!.owned).toBe(generatedStock(4499).owned);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  it("renders an empty set as {}", () => {
    expect([...new StockStore({}, "/unused").jsonChunks()].join("")).toBe("{}\n");
  });
});

describe("SerialQueue", () => {
  it("runs tasks one at a time in call order, even after a failure", async () => {
    const queue = new SerialQueue();
    const events: string[] = [];
    const task =
      (name: string, fail = false) =>
      async () => {
        events.push(`start ${name}`);
        await new Promise((resolve) => setImmediate(resolve));
        events.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([queue.run(task("a")), queue.run(task("b", true)), queue.run(task("c"))]);
    expect(events).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  });

  it("once refuseWhen is aborted, refuses waiting and new tasks with its reason while the running one finishes", async () => {
    const controller = new AbortController();
    const queue = new SerialQueue(controller.signal);
    let finishRunning!: () => void;
    const started: string[] = [];
    const running = queue.run(async () => {
      started.push("running");
      await new Promise<void>((resolve) => (finishRunning = resolve));
      return "done";
    });
    const waiting = queue.run(async () => started.push("waiting"));
    await new Promise((resolve) => setImmediate(resolve));

    const reason = new Error("shutting down");
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await expect(queue.run(async () => started.push("late"))).rejects.toBe(reason);
    finishRunning();
    await expect(running).resolves.toBe("done");
    expect(started).toEqual(["running"]);
  });
});
