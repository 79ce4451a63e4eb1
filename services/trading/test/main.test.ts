import { mkdtempSync, promises as fsp, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { logMessage, startNode } from "@monorepo/testing";
import { generatedStock, SAMPLE_STOCKS, writeGeneratedStocks } from "./stock-data";

const main = path.join(__dirname, "..", "src", "main.js");
let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "trading-main-"));
  file = path.join(dir, "stocks.json");
});
afterEach(() => fsp.rm(dir, { recursive: true, force: true }));

async function startMain(env: Record<string, string>, cwd?: string) {
  const service = startNode(main, [], { PORT: "0", ...env }, cwd);
  const url: string = JSON.parse(await service.waitForLine(logMessage("Listening"))).data.url;
  return { service, url };
}

function swap(url: string, stockId: string, fromUserId: string, toUserId: string): Promise<Response> {
  return fetch(`${url}/swap`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ stockId, fromUserId, toUserId }),
  });
}

describe("dist/src/main.js", () => {
  it("serves STOCKS_DATA_FILE on PORT, persists a swap across a restart, and exits 0 on SIGTERM", async () => {
    writeFileSync(file, JSON.stringify(SAMPLE_STOCKS));
    const first = await startMain({ STOCKS_DATA_FILE: file });
    expect((await swap(first.url, "DDD", "3", "5")).status).toBe(200);
    first.service.child.kill("SIGTERM");
    expect(await first.service.exited).toEqual({ code: 0, signal: null });

    const second = await startMain({ STOCKS_DATA_FILE: file });
    expect(await (await fetch(`${second.url}/stocks/DDD`)).json()).toEqual({ ...SAMPLE_STOCKS.DDD, owned: "5" });
    second.service.child.kill("SIGTERM");
    expect((await second.service.exited).code).toBe(0);
  }, 15_000);

  it("serves the package's stocks.json when STOCKS_DATA_FILE is unset, from any working directory", async () => {
    const { service, url } = await startMain({ STOCKS_DATA_FILE: "" }, dir);
    const stocks = (await (await fetch(`${url}/stocks`)).json()) as Record<string, { sector?: unknown }>;
    expect(Object.keys(stocks).length).toBeGreaterThanOrEqual(5);
    expect(Object.values(stocks).every((stock) => typeof stock.sector === "string")).toBe(true);
    service.child.kill("SIGTERM");
    expect((await service.exited).code).toBe(0);
  }, 15_000);

  it("uses port 3001 when PORT is unset", async () => {
    writeFileSync(file, JSON.stringify(SAMPLE_STOCKS));
    const service = startNode(main, [], { PORT: "", STOCKS_DATA_FILE: file });
    // Either it listens on 3001 or 3001 is taken on this machine; both show the default in use.
    const record = JSON.parse(await service.waitForLine((l) => /"message":"(Listening|Refusing to start[^"]*)"/.test(l)));
    if (record.message === "Listening") {
      expect(record.data.port).toBe(3001);
      service.child.kill("SIGTERM");
    } else {
      expect(record.message).toMatch(/EADDRINUSE.*:3001/);
    }
    await service.exited;
  }, 15_000);

  it.each([
    ["a missing", undefined, "does not exist"],
    ["an empty", "", "is empty"],
    ["a torn", JSON.stringify(SAMPLE_STOCKS).slice(0, 100), "is not valid JSON"],
    ["a malformed", JSON.stringify({ AAA: { ...SAMPLE_STOCKS.AAA, price: "ten" } }), 'has unexpected content: stock "AAA" has no price'],
  ])("refuses to start on %s data file: clear error, exit code 1", async (_case, content, reason) => {
    if (content !== undefined) writeFileSync(file, content);
    const service = startNode(main, [], { PORT: "0", STOCKS_DATA_FILE: file });
    expect(await service.exited).toEqual({ code: 1, signal: null });
    const records = service.lines().map((line) => JSON.parse(line));
    expect(records.some((r) => r.message === "Listening")).toBe(false);
    expect(records.at(-1)).toMatchObject({ level: "ERROR", context: "trading-service" });
    expect(records.at(-1).message.startsWith(`Refusing to start: Data file ${file} ${reason}`)).toBe(true);
  }, 15_000);

  it("keeps a whole, loadable data file when SIGKILLed while swaps are being written", async () => {
    const count = 20_000;
    await writeGeneratedStocks(file, count);
    const stock = generatedStock(0);
    const owners = [stock.owned, "buyer"];
    let acknowledged = 0;

    // Kill at a different moment after an unacknowledged swap each round.
    for (const delayMs of [5, 25]) {
      const { service, url } = await startMain({ STOCKS_DATA_FILE: file });
      for (let i = 0; i < 2; i++, acknowledged++) {
        expect((await swap(url, stock.id, owners[acknowledged % 2], owners[(acknowledged + 1) % 2])).status).toBe(200);
      }
      swap(url, stock.id, owners[acknowledged % 2], owners[(acknowledged + 1) % 2]).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      service.child.kill("SIGKILL");
      await service.exited;

      const data = JSON.parse(readFileSync(file, "utf8"));
      expect(Object.keys(data)).toHaveLength(count);
      // Either the last acknowledged owner, or the unacknowledged swap made it.
      expect([owners[acknowledged % 2], owners[(acknowledged + 1) % 2]]).toContain(data[stock.id].owned);
      if (data[stock.id].owned !== owners[acknowledged % 2]) acknowledged++;
      for (const temp of readdirSync(dir).filter((name) => name.endsWith(".tmp"))) await fsp.rm(path.join(dir, temp));
    }

    const restarted = await startMain({ STOCKS_DATA_FILE: file });
    expect((await fetch(`${restarted.url}/readiness`)).status).toBe(200);
    expect(await (await fetch(`${restarted.url}/stocks/${stock.id}`)).json()).toEqual({ ...stock, owned: owners[acknowledged % 2] });
    restarted.service.child.kill("SIGTERM");
    expect((await restarted.service.exited).code).toBe(0);
  }, 60_000);
});
