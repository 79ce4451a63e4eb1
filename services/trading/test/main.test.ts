import { spawn } from "node:child_process";
import { once } from "node:events";
import { promises as fsp, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { logMessage, runNode, startNode, waitFor } from "@monorepo/testing";
import { generatedStock, SAMPLE_STOCKS, writeGeneratedStocks } from "./stock-data";

const main = require.resolve("../src/main");
let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "trading-main-"));
  file = path.join(dir, "stocks.json");
});
afterEach(() => fsp.rm(dir, { recursive: true, force: true }));

async function startMain(env: Record<string, string>, cwd?: string) {
  const service = startNode(main, [], { PORT: "0", ...env }, cwd);
  const listening = JSON.parse(await service.waitForLine(logMessage("Listening"))).data;
  return { service, url: listening.url as string, host: listening.host as string };
}

function swap(url: string, stockId: string, fromUserId: string, toUserId: string): Promise<Response> {
  return fetch(`${url}/swap`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ stockId, fromUserId, toUserId }),
  });
}

/** The answer to a swap, or "cut" when the connection ended without one. */
type SwapOutcome = { status: number; body: { error?: string; stock?: { owned: string } } } | "cut";

/**
 * Sends a swap on a connection of its own. `sent` resolves once the whole request is on its way, so
 * a test knows the service has it before it signals the service.
 */
function sendSwap(url: string, body: object): { sent: Promise<void>; outcome: Promise<SwapOutcome> } {
  let sent!: () => void;
  const outcome = new Promise<SwapOutcome>((resolve) => {
    const req = request(`${url}/swap`, { method: "POST", agent: false, headers: { "content-type": "application/json" } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      res.on("error", () => resolve("cut"));
    });
    req.on("error", () => resolve("cut"));
    req.end(JSON.stringify(body), () => sent());
  });
  return { sent: new Promise((resolve) => (sent = resolve)), outcome };
}

const tempFiles = (): string[] => readdirSync(dir).filter((name) => name.endsWith(".tmp"));

describe("dist/src/main.js", () => {
  it("serves STOCKS_DATA_FILE on PORT and 127.0.0.1, persists a swap across a restart, and exits 0 on SIGTERM", async () => {
    writeFileSync(file, JSON.stringify(SAMPLE_STOCKS));
    const first = await startMain({ STOCKS_DATA_FILE: file, HOST: "" });
    expect(first.host).toBe("127.0.0.1");
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

  it("takes a relative STOCKS_DATA_FILE from INIT_CWD under pnpm start, not from the package folder it runs in", async () => {
    const caller = path.join(dir, "caller");
    const packageDir = path.join(dir, "package");
    mkdirSync(caller);
    mkdirSync(packageDir);
    writeFileSync(path.join(caller, "stocks.json"), JSON.stringify({ AAA: SAMPLE_STOCKS.AAA }));
    writeFileSync(path.join(packageDir, "stocks.json"), JSON.stringify(SAMPLE_STOCKS));
    const { service, url } = await startMain(
      { STOCKS_DATA_FILE: "stocks.json", INIT_CWD: caller, npm_lifecycle_event: "start" },
      packageDir,
    );
    expect(Object.keys((await (await fetch(`${url}/stocks`)).json()) as object)).toEqual(["AAA"]);
    service.child.kill("SIGTERM");
    expect((await service.exited).code).toBe(0);
  }, 15_000);

  it.each([
    ["a missing", undefined, "does not exist"],
    ["an empty", "", "is empty"],
    ["a torn", JSON.stringify(SAMPLE_STOCKS).slice(0, 100), "is not valid JSON"],
    ["a malformed", JSON.stringify({ AAA: { ...SAMPLE_STOCKS.AAA, price: "ten" } }), 'has unexpected content: stock "AAA" has no price'],
  ])(
    "refuses to start on %s data file: one clear line, exit code 1",
    async (_case, content, reason) => {
      if (content !== undefined) writeFileSync(file, content);
      const run = await runNode(main, [], { env: { PORT: "0", STOCKS_DATA_FILE: file } });
      expect(run).toMatchObject({ code: 1, signal: null, stderr: "" });
      const records = run.stdout
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line));
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ level: "ERROR", context: "trading-service", data: { error: "DataFileError" } });
      expect(records[0].message.startsWith(`Refusing to start: Data file ${file} ${reason}`)).toBe(true);
    },
    15_000,
  );

  it("keeps a whole, loadable data file when SIGKILLed while swaps are being written, and a restart removes the temp files left", async () => {
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
    }
    // Whether or not a kill above landed mid-write, one partial copy is certainly left: that of a writer that has exited.
    const writer = spawn(process.execPath, ["-e", ""]);
    await once(writer, "exit");
    const left = path.join(dir, `.stocks.json.${writer.pid}.0123456789ab.tmp`);
    writeFileSync(left, readFileSync(file, "utf8").slice(0, 1000));
    const leftBehind = tempFiles();

    const restarted = await startMain({ STOCKS_DATA_FILE: file });
    expect(tempFiles()).toEqual([]);
    const removed = restarted.service
      .lines()
      .map((line) => JSON.parse(line))
      .find((r) => r.message === "Removed the temp files of interrupted writes");
    expect(removed.data.files.sort()).toEqual(leftBehind.map((name) => path.join(dir, name)).sort());
    expect(removed.data.files).toContain(left);
    expect((await fetch(`${restarted.url}/readiness`)).status).toBe(200);
    expect(await (await fetch(`${restarted.url}/stocks/${stock.id}`)).json()).toEqual({ ...stock, owned: owners[acknowledged % 2] });
    restarted.service.child.kill("SIGTERM");
    expect((await restarted.service.exited).code).toBe(0);
  }, 60_000);
});

describe("src/main.js shutting down during swaps", () => {
  // About 3 MB: each swap rewrites it, so a write is still running when the test sees its temp file and signals.
  const COUNT = 30_000;
  const BUYER = "buyer";

  /** What the data file says each of the first `n` stocks is owned by. */
  const ownersInFile = (n: number): string[] => {
    const data = JSON.parse(readFileSync(file, "utf8"));
    return Array.from({ length: n }, (_, i) => data[generatedStock(i).id].owned);
  };

  it("keeps every promise: the swap being written completes (200, in the file), the queued ones get 503 and are not made; exit 0", async () => {
    await writeGeneratedStocks(file, COUNT);
    const { service, url } = await startMain({ STOCKS_DATA_FILE: file });
    const swaps = Array.from({ length: 80 }, (_, i) =>
      sendSwap(url, { stockId: generatedStock(i).id, fromUserId: generatedStock(i).owned, toUserId: BUYER }),
    );
    await Promise.all(swaps.map((s) => s.sent));
    await waitFor(() => tempFiles().length > 0);
    service.child.kill("SIGTERM");

    const outcomes = await Promise.all(swaps.map((s) => s.outcome));
    expect(await service.exited).toEqual({ code: 0, signal: null });
    const owners = ownersInFile(80);
    outcomes.forEach((outcome, i) => {
      if (outcome !== "cut" && outcome.status === 200) {
        expect([outcome.body.stock!.owned, owners[i]]).toEqual([BUYER, BUYER]);
      } else {
        // Refused, or (a request the service had not yet read when it closed its listener) reset: either way not made.
        if (outcome !== "cut")
          expect(outcome).toEqual({ status: 503, body: { error: "Service is shutting down: the request was not carried out; retry it" } });
        expect(owners[i]).toBe(generatedStock(i).owned);
      }
    });
    expect(outcomes.filter((o) => o !== "cut" && o.status === 503).length).toBeGreaterThan(0);
    expect(tempFiles()).toEqual([]);
  }, 60_000);

  it("at the drain limit abandons the write before it commits, or answers it if it has: never made yet unanswered; exit 3", async () => {
    await writeGeneratedStocks(file, COUNT);
    const { service, url } = await startMain({ STOCKS_DATA_FILE: file, SHUTDOWN_TIMEOUT_MS: "0" });
    const stock = generatedStock(0);
    const { sent, outcome } = sendSwap(url, { stockId: stock.id, fromUserId: stock.owned, toUserId: BUYER });
    await sent;
    await waitFor(() => tempFiles().length > 0);
    service.child.kill("SIGTERM");

    const answer = await outcome;
    expect(await service.exited).toEqual({ code: 3, signal: null });
    expect(answer).not.toBe("cut");
    const [owner] = ownersInFile(1);
    if (answer !== "cut" && answer.status === 200) expect(owner).toBe(BUYER);
    else
      expect([answer, owner]).toEqual([
        { status: 503, body: { error: "Service is shutting down: the request was not carried out; retry it" } },
        stock.owned,
      ]);
    expect(tempFiles()).toEqual([]);
  }, 60_000);
});
