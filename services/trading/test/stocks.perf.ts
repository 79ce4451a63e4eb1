/**
 * The trading performance suite: a generated data set of
 * PERF_STOCK_COUNT stocks (default 1,000,000), the /stocks filters, /bulk-swap,
 * /portfolio/:userId, /sector-stats and 20 sequential swaps that each rewrite
 * the whole data file. It is its own target (`pnpm -F @monorepo/trading-service
 * test:perf`), never part of the default run. It asserts results only; the time
 * of each step is logged as JSON lines ("Timing") for whoever tracks speed.
 *
 * PERF_STOCK_COUNT goes from 100 to 100,000,000. The swaps touch disjoint stocks,
 * so each check sees only its own change: the sequential swaps take the first 20,
 * the 21st stays untouched as a witness, and the bulk swap takes the last 1,000,
 * or every stock after the witness on a data set smaller than 1,021.
 */
import { promises as fsp, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Logger } from "@monorepo/logger";
import { integerFromEnv, type RunningServer, startServer } from "@monorepo/service";
import { memoryLogger } from "@monorepo/testing";
import { createApp, type Stock, type Stocks } from "../src";
import { generatedStock, SECTORS, USER_COUNT, writeGeneratedStocks } from "./stock-data";

const SEQUENTIAL_SWAPS = 20;
/** The first stock no swap touches. */
const WITNESS = SEQUENTIAL_SWAPS;
/**
 * Enough for every sector and every owner to hold stocks (the stats and portfolio checks
 * expect them all) and for a bulk swap of a useful size beside the sequential ones.
 */
const MIN_STOCK_COUNT = 100;
const STOCK_COUNT = stockCountFromEnv();
const BULK_SWAPS = Math.min(1_000, STOCK_COUNT - (WITNESS + 1));

function stockCountFromEnv(): number {
  try {
    return integerFromEnv(process.env, "PERF_STOCK_COUNT", 1_000_000, MIN_STOCK_COUNT, 100_000_000);
  } catch (error) {
    throw new Error(
      `${(error as Error).message} (the perf suite needs at least ${MIN_STOCK_COUNT} stocks: all ${SECTORS.length} sectors and ${USER_COUNT} owners, and room for its swaps)`,
    );
  }
}

const timings = new Logger("trading-perf");
async function timed<T>(step: string, work: () => Promise<T>): Promise<T> {
  const started = process.hrtime.bigint();
  const result = await work();
  timings.info("Timing", { step, stocks: STOCK_COUNT, ms: Math.round(Number(process.hrtime.bigint() - started) / 1e6) });
  return result;
}

let dir: string;
let file: string;
let running: RunningServer;

async function getJson<T>(route: string): Promise<T> {
  const response = await fetch(`${running.url}${route}`);
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

// biome-ignore lint/suspicious/noExplicitAny: a JSON body or log record is read field by field, as a test reads it
async function postJson(route: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${running.url}${route}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

interface Expected {
  first100: Stock[];
  energyFirst500: Stock[];
  owner3First500: Stock[];
  financeOwner2First50: Stock[];
  sectors: Record<string, { count: number; minPrice: number; maxPrice: number }>;
  owners: Record<string, { count: number; totalValue: number }>;
}

/**
 * What the generator put in, computed independently of the service in one pass,
 * before the server starts, so no request waits behind a pass over a million stocks.
 */
function computeExpected(): Expected {
  const expected: Expected = { first100: [], energyFirst500: [], owner3First500: [], financeOwner2First50: [], sectors: {}, owners: {} };
  const keep = (list: Stock[], limit: number, stock: Stock, accept: boolean) => {
    if (accept && list.length < limit) list.push(stock);
  };
  for (let i = 0; i < STOCK_COUNT; i++) {
    const stock = generatedStock(i);
    keep(expected.first100, 100, stock, true);
    keep(expected.energyFirst500, 500, stock, stock.sector === "Energy");
    keep(expected.owner3First500, 500, stock, stock.owned === "3");
    keep(expected.financeOwner2First50, 50, stock, stock.sector === "Finance" && stock.owned === "2");
    expected.sectors[stock.sector] ??= { count: 0, minPrice: Infinity, maxPrice: -Infinity };
    const sector = expected.sectors[stock.sector];
    sector.count++;
    sector.minPrice = Math.min(sector.minPrice, stock.price);
    sector.maxPrice = Math.max(sector.maxPrice, stock.price);
    expected.owners[stock.owned] ??= { count: 0, totalValue: 0 };
    const owner = expected.owners[stock.owned];
    owner.count++;
    owner.totalValue += stock.price;
  }
  return expected;
}

let expected: Expected;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "trading-perf-"));
  file = path.join(dir, "stocks.json");
  await timed("generate data file", () => writeGeneratedStocks(file, STOCK_COUNT));
  expected = computeExpected();
  const { logger } = memoryLogger("trading-perf-service");
  const app = await timed("load data file", async () => createApp({ dataFile: file, logger }));
  running = await startServer(app, { port: 0, host: "127.0.0.1", logger });
  // Client and server share this process, and parsing a big response blocks it for
  // seconds: with the default 5 s keep-alive the server's idle timer can fire just
  // as the next request goes out on that socket (ECONNRESET).
  running.server.keepAliveTimeout = 10 * 60 * 1000;
});

afterAll(async () => {
  await running?.shutdown();
  await fsp.rm(dir, { recursive: true, force: true });
});

describe(`trading service on ${STOCK_COUNT} generated stocks`, () => {
  it("filters /stocks by limit, sector and owned", async () => {
    const limited = await timed("GET /stocks?limit=100", () => getJson<Stocks>("/stocks?limit=100"));
    expect(Object.values(limited)).toEqual(expected.first100);

    const sector = await timed("GET /stocks?sector=Energy&limit=500", () => getJson<Stocks>("/stocks?sector=Energy&limit=500"));
    expect(Object.values(sector)).toEqual(expected.energyFirst500);

    const owned = await timed("GET /stocks?owned=3&limit=500", () => getJson<Stocks>("/stocks?owned=3&limit=500"));
    expect(Object.values(owned)).toEqual(expected.owner3First500);

    const both = await timed("GET /stocks?sector=Finance&owned=2&limit=50", () =>
      getJson<Stocks>("/stocks?sector=Finance&owned=2&limit=50"),
    );
    expect(Object.values(both)).toEqual(expected.financeOwner2First50);

    const all = await timed("GET /stocks?sector=Materials (no limit)", () => getJson<Stocks>("/stocks?sector=Materials"));
    expect(Object.keys(all)).toHaveLength(expected.sectors.Materials.count);
  });

  it("computes /sector-stats over every stock", async () => {
    const { sectors } = await timed("GET /sector-stats", () =>
      getJson<{ sectors: Record<string, { count: number; minPrice: number; maxPrice: number }> }>("/sector-stats"),
    );
    expect(Object.keys(sectors).sort()).toEqual([...SECTORS].sort());
    expect(Object.values(sectors).reduce((sum, s) => sum + s.count, 0)).toBe(STOCK_COUNT);
    for (const name of SECTORS) expect(sectors[name]).toMatchObject(expected.sectors[name]);
  });

  it("answers /portfolio/:userId for every user", async () => {
    for (let user = 1; user <= USER_COUNT; user++) {
      const portfolio = await timed(`GET /portfolio/${user}`, () => getJson<{ count: number; totalValue: number }>(`/portfolio/${user}`));
      expect(portfolio.count).toBe(expected.owners[String(user)].count);
      expect(portfolio.totalValue).toBeCloseTo(expected.owners[String(user)].totalValue, 0);
    }
  });

  it(`applies a /bulk-swap of ${BULK_SWAPS} stocks in one write`, async () => {
    const swaps = Array.from({ length: BULK_SWAPS }, (_, k) => {
      const stock = generatedStock(STOCK_COUNT - 1 - k);
      return { stockId: stock.id, fromUserId: stock.owned, toUserId: "bulk-buyer" };
    });
    const response = await timed(`POST /bulk-swap (${BULK_SWAPS} swaps)`, () => postJson("/bulk-swap", { swaps }));
    expect(response.status).toBe(200);
    expect(response.body.stocks).toHaveLength(BULK_SWAPS);
    const portfolio = await getJson<{ count: number }>("/portfolio/bulk-buyer");
    expect(portfolio.count).toBe(BULK_SWAPS);
  });

  it(`runs ${SEQUENTIAL_SWAPS} sequential swaps, each rewriting the whole data file`, async () => {
    for (let k = 0; k < SEQUENTIAL_SWAPS; k++) {
      const stock = generatedStock(k);
      const response = await timed(`POST /swap #${k + 1}`, () =>
        postJson("/swap", { stockId: stock.id, fromUserId: stock.owned, toUserId: "swap-buyer" }),
      );
      expect(response.status).toBe(200);
      expect(response.body.stock.owned).toBe("swap-buyer");
    }

    const persisted = await timed("read back the data file", async () => JSON.parse(readFileSync(file, "utf8")) as Stocks);
    expect(Object.keys(persisted)).toHaveLength(STOCK_COUNT);
    for (let k = 0; k < SEQUENTIAL_SWAPS; k++) expect(persisted[generatedStock(k).id].owned).toBe("swap-buyer");
    for (let k = 0; k < BULK_SWAPS; k++) expect(persisted[generatedStock(STOCK_COUNT - 1 - k).id].owned).toBe("bulk-buyer");
    const untouched = generatedStock(WITNESS);
    expect(persisted[untouched.id]).toEqual(untouched);
  });
});
