import { promises as fsp, readFileSync } from "node:fs";
import { get as httpGet } from "node:http";
import { type RunningServer, ServiceLifecycle, startServer } from "@monorepo/service";
import { memoryLogger, waitFor } from "@monorepo/testing";
import { createApp, type Stocks } from "../src";
import { generatedStock, SAMPLE_STOCKS, tempDataFile, writeGeneratedStocks } from "./stock-data";

interface TradingServer {
  running: RunningServer;
  file: string;
  dir: string;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body or log record is read field by field, as a test reads it
  records: () => Array<Record<string, any>>;
}

async function startTrading(stocks: Stocks = SAMPLE_STOCKS): Promise<TradingServer> {
  const { dir, file } = tempDataFile(stocks);
  const { logger, records } = memoryLogger("trading-test");
  const lifecycle = new ServiceLifecycle();
  const running = await startServer(createApp({ dataFile: file, logger, lifecycle }), { port: 0, host: "127.0.0.1", logger, lifecycle });
  return { running, file, dir, records };
}

async function stopTrading(server: TradingServer): Promise<void> {
  await server.running.shutdown();
  await fsp.rm(server.dir, { recursive: true, force: true });
}

const readFile = (server: TradingServer): Stocks => JSON.parse(readFileSync(server.file, "utf8"));

function postJson(server: TradingServer, route: string, body: unknown): Promise<Response> {
  return fetch(`${server.running.url}${route}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function expectJson(response: Response, status: number, body: unknown): Promise<void> {
  expect({ status: response.status, body: await response.json() }).toEqual({ status, body });
}

describe("read routes", () => {
  let server: TradingServer;
  beforeAll(async () => {
    server = await startTrading();
  });
  afterAll(() => stopTrading(server));
  const get = (route: string) => fetch(`${server.running.url}${route}`);

  it("GET / describes the API", async () => {
    await expectJson(await get("/"), 200, { message: "Trading Service API" });
  });

  it("GET /stocks returns every stock keyed by ticker", async () => {
    const response = await get("/stocks");
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    await expectJson(response, 200, SAMPLE_STOCKS);
  });

  it.each([
    ["?limit=2", ["AAA", "BBB"]],
    ["?sector=Technology", ["AAA", "BBB", "EEE"]],
    ["?owned=1", ["AAA", "CCC", "EEE"]],
    ["?sector=Technology&owned=1", ["AAA", "EEE"]],
    ["?sector=Technology&owned=1&limit=1", ["AAA"]],
    ["?owned=1&limit=10", ["AAA", "CCC", "EEE"]],
    ["?sector=Mining", []],
    ["?owned=42", []],
  ])("GET /stocks%s filters", async (query, ids) => {
    const response = await get(`/stocks${query}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Stocks;
    expect(Object.keys(body)).toEqual(ids);
    for (const id of ids) expect(body[id]).toEqual(SAMPLE_STOCKS[id]);
  });

  it.each([
    ["?limit=0", "Invalid limit: expected a positive integer"],
    ["?limit=-1", "Invalid limit: expected a positive integer"],
    ["?limit=abc", "Invalid limit: expected a positive integer"],
    ["?limit=1.5", "Invalid limit: expected a positive integer"],
    ["?limit=", "Invalid limit: expected a positive integer"],
    ["?limit=99999999999999999999", "Invalid limit: expected a positive integer"],
    ["?limit=1&limit=2", "Invalid limit: expected a positive integer"],
    ["?sector=", "Invalid sector: expected a non-empty string"],
    ["?sector=Finance&sector=Energy", "Invalid sector: expected a non-empty string"],
    ["?owned=", "Invalid owned: expected a non-empty string"],
  ])("GET /stocks%s is a 400 JSON error", async (query, error) => {
    await expectJson(await get(`/stocks${query}`), 400, { error });
  });

  it("GET /stocks/:id returns the stock or 404 Stock not found", async () => {
    await expectJson(await get("/stocks/CCC"), 200, SAMPLE_STOCKS.CCC);
    for (const id of ["ZZZ", "__proto__", "constructor"]) {
      await expectJson(await get(`/stocks/${id}`), 404, { error: "Stock not found" });
    }
  });

  it("GET /portfolio/:userId lists what the user owns with its value", async () => {
    await expectJson(await get("/portfolio/1"), 200, {
      userId: "1",
      count: 3,
      totalValue: 140.24,
      stocks: [SAMPLE_STOCKS.AAA, SAMPLE_STOCKS.CCC, SAMPLE_STOCKS.EEE],
    });
    await expectJson(await get("/portfolio/9"), 200, { userId: "9", count: 0, totalValue: 0, stocks: [] });
  });

  it("GET /sector-stats summarises prices per sector", async () => {
    await expectJson(await get("/sector-stats"), 200, {
      sectors: {
        Technology: { count: 3, totalValue: 130.49, averagePrice: 43.5, minPrice: 10, maxPrice: 99.99 },
        Finance: { count: 1, totalValue: 30.25, averagePrice: 30.25, minPrice: 30.25, maxPrice: 30.25 },
        Energy: { count: 1, totalValue: 5, averagePrice: 5, minPrice: 5, maxPrice: 5 },
      },
    });
  });

  it("answers the health probes", async () => {
    await expectJson(await get("/readiness"), 200, { status: "ready" });
    await expectJson(await get("/liveness"), 200, { status: "alive" });
  });

  it("answers unknown routes with 404 JSON, before reading any body", async () => {
    await expectJson(await get("/bonds"), 404, { error: "Not found" });
    await expectJson(await postJson(server, "/bonds", { padding: "x".repeat(1_100_000) }), 404, { error: "Not found" });
  });

  it.each([
    ["GET", "/swap", "POST, OPTIONS"],
    ["PUT", "/bulk-swap", "POST, OPTIONS"],
    ["DELETE", "/stocks/AAA", "GET, HEAD, OPTIONS"],
    ["POST", "/stocks", "GET, HEAD, OPTIONS"],
  ])("answers %s %s with 405 and Allow: %s", async (method, route, allow) => {
    const response = await fetch(`${server.running.url}${route}`, { method });
    expect(response.headers.get("allow")).toBe(allow);
    await expectJson(response, 405, { error: `Method ${method} is not allowed on ${route}; allowed: ${allow}` });
  });

  it("answers an undecodable path with 400 JSON", async () => {
    await expectJson(await get("/stocks/%E0%A4%A"), 400, { error: "Bad Request" });
  });
});

describe("POST /swap", () => {
  let server: TradingServer;
  beforeEach(async () => {
    server = await startTrading();
  });
  afterEach(() => stopTrading(server));

  it("moves the stock, answers success and persists the new owner to the data file", async () => {
    await expectJson(await postJson(server, "/swap", { stockId: "AAA", fromUserId: "1", toUserId: "2" }), 200, {
      success: true,
      message: "Stock AAA transferred from user 1 to user 2",
      stock: { ...SAMPLE_STOCKS.AAA, owned: "2" },
    });
    expect(readFile(server)).toEqual({ ...SAMPLE_STOCKS, AAA: { ...SAMPLE_STOCKS.AAA, owned: "2" } });
    await expectJson(await fetch(`${server.running.url}/stocks/AAA`), 200, { ...SAMPLE_STOCKS.AAA, owned: "2" });
    const owned = (await (await fetch(`${server.running.url}/stocks?owned=2`)).json()) as Stocks;
    expect(Object.keys(owned).sort()).toEqual(["AAA", "BBB"]);
    const portfolio = (await (await fetch(`${server.running.url}/portfolio/1`)).json()) as { count: number };
    expect(portfolio.count).toBe(2);
  });

  it.each([
    ["an empty object", {}],
    ["a missing toUserId", { stockId: "AAA", fromUserId: "1" }],
    ["an empty stockId", { stockId: "", fromUserId: "1", toUserId: "2" }],
    ["a null field", { stockId: null, fromUserId: "1", toUserId: "2" }],
    ["a missing field and an invalid one", { stockId: "AAA", fromUserId: 1 }],
  ])("answers %s with 400 Missing required parameters", async (_case, body) => {
    await expectJson(await postJson(server, "/swap", body), 400, { error: "Missing required parameters" });
    expect(readFile(server)).toEqual(SAMPLE_STOCKS);
  });

  const ID_RULE = "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit";
  it.each([
    ["a numeric user id", { stockId: "AAA", fromUserId: 1, toUserId: "2" }, "fromUserId"],
    ["an object stockId", { stockId: { $ne: "x" }, fromUserId: "1", toUserId: "2" }, "stockId"],
    ["a 65-character stockId", { stockId: "A".repeat(65), fromUserId: "1", toUserId: "2" }, "stockId"],
    ["a user id with a space", { stockId: "AAA", fromUserId: "1", toUserId: "user 2" }, "toUserId"],
    ["a user id with a newline", { stockId: "AAA", fromUserId: "1", toUserId: "2\nforged log line" }, "toUserId"],
    ["an id starting with a dot", { stockId: "AAA", fromUserId: "..", toUserId: "2" }, "fromUserId"],
  ])("answers %s with 400 naming the invalid field", async (_case, body, field) => {
    await expectJson(await postJson(server, "/swap", body), 400, { error: `Invalid ${field}: expected ${ID_RULE}` });
    expect(readFile(server)).toEqual(SAMPLE_STOCKS);
  });

  it("accepts ids at the bounds: 64 characters, dots, dashes and underscores", async () => {
    const stocks = {
      ...SAMPLE_STOCKS,
      ["B".repeat(64)]: { ...SAMPLE_STOCKS.BBB, id: "B".repeat(64) },
      "BRK.B": { ...SAMPLE_STOCKS.AAA, id: "BRK.B" },
    };
    const wide = await startTrading(stocks);
    try {
      for (const [stockId, fromUserId] of [
        ["B".repeat(64), "2"],
        ["BRK.B", "1"],
      ]) {
        const response = await postJson(wide, "/swap", { stockId, fromUserId, toUserId: "user_9-x.y" });
        expect(response.status).toBe(200);
        expect(readFile(wide)[stockId].owned).toBe("user_9-x.y");
      }
    } finally {
      await stopTrading(wide);
    }
  });

  it("refuses a swap to the owner itself with 400 and leaves the data file untouched", async () => {
    const before = readFileSync(server.file, "utf8");
    await expectJson(await postJson(server, "/swap", { stockId: "AAA", fromUserId: "1", toUserId: "1" }), 400, {
      error: "fromUserId and toUserId are the same user: a swap must change the owner",
    });
    expect(readFileSync(server.file, "utf8")).toBe(before);
  });

  it.each([
    ["null", "null", "Request body must be a JSON object, not null"],
    ["an array", JSON.stringify([{ stockId: "AAA", fromUserId: "1", toUserId: "2" }]), "Request body must be a JSON object, not an array"],
    ["a string", '"AAA"', "Request body must be a JSON object, not a string"],
  ])("answers a body that is %s with a 400 that says so", async (_case, body, error) => {
    await expectJson(await postJson(server, "/swap", body), 400, { error });
    expect(readFile(server)).toEqual(SAMPLE_STOCKS);
  });

  it("answers a body that is not declared as JSON with 415, and no body with 400", async () => {
    const typed = await fetch(`${server.running.url}/swap`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "stockId=AAA",
    });
    await expectJson(typed, 415, { error: "Content-Type text/plain is not supported: send the body as application/json" });
    const untyped = await fetch(`${server.running.url}/swap`, { method: "POST", body: new Blob(['{"stockId": "AAA"}']) });
    await expectJson(untyped, 415, { error: "Content-Type is missing: send the body as application/json" });
    const empty = await fetch(`${server.running.url}/swap`, { method: "POST", headers: { "content-type": "application/json" } });
    await expectJson(empty, 400, { error: "Request body is missing: expected a JSON object" });
    expect(readFile(server)).toEqual(SAMPLE_STOCKS);
  });

  it("answers malformed JSON with 400 and an oversized body with 413, as JSON", async () => {
    await expectJson(await postJson(server, "/swap", '{"stockId": "AAA",'), 400, { error: "Malformed JSON body" });
    const oversized = { stockId: "AAA", fromUserId: "1", toUserId: "2", padding: "x".repeat(1_100_000) };
    await expectJson(await postJson(server, "/swap", oversized), 413, { error: "Request body too large" });
    expect(readFile(server)).toEqual(SAMPLE_STOCKS);
  });

  it("answers an unknown stock with 404 Stock not found", async () => {
    await expectJson(await postJson(server, "/swap", { stockId: "ZZZ", fromUserId: "1", toUserId: "2" }), 404, {
      error: "Stock not found",
    });
  });

  it("answers a wrong current owner with 400 and changes nothing", async () => {
    await expectJson(await postJson(server, "/swap", { stockId: "BBB", fromUserId: "1", toUserId: "3" }), 400, {
      error: "Stock is not owned by the specified user",
    });
    expect(readFile(server)).toEqual(SAMPLE_STOCKS);
  });

  it("serialises 20 concurrent swaps of one stock: exactly one wins, and the file holds the winner", async () => {
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        postJson(server, "/swap", { stockId: "AAA", fromUserId: "1", toUserId: `buyer-${i}` }).then(async (r) => ({
          status: r.status,
          body: (await r.json()) as { stock?: { owned: string }; error?: string },
        })),
      ),
    );
    const winners = responses.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    const losers = responses.filter((r) => r.status !== 200);
    expect(losers.every((r) => r.status === 400 && r.body.error === "Stock is not owned by the specified user")).toBe(true);
    const winner = winners[0].body.stock!.owned;
    expect(readFile(server).AAA.owned).toBe(winner);
    await expectJson(await fetch(`${server.running.url}/stocks/AAA`), 200, { ...SAMPLE_STOCKS.AAA, owned: winner });
  });

  it("loses no update when different stocks are swapped concurrently", async () => {
    const swaps = [
      { stockId: "AAA", fromUserId: "1", toUserId: "4" },
      { stockId: "BBB", fromUserId: "2", toUserId: "4" },
      { stockId: "CCC", fromUserId: "1", toUserId: "4" },
      { stockId: "DDD", fromUserId: "3", toUserId: "4" },
      { stockId: "EEE", fromUserId: "1", toUserId: "4" },
    ];
    const statuses = await Promise.all(swaps.map((swap) => postJson(server, "/swap", swap).then((r) => r.status)));
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(Object.values(readFile(server)).map((stock) => stock.owned)).toEqual(["4", "4", "4", "4", "4"]);
  });

  it("answers 500 and keeps the old owner when the data file cannot be written", async () => {
    await fsp.rm(server.dir, { recursive: true, force: true });
    await expectJson(await postJson(server, "/swap", { stockId: "AAA", fromUserId: "1", toUserId: "2" }), 500, {
      error: "Internal server error",
    });
    await expectJson(await fetch(`${server.running.url}/stocks/AAA`), 200, SAMPLE_STOCKS.AAA);
    const failure = server.records().find((r) => r.message === "Request failed");
    expect(failure?.data.error.code).toBe("ENOENT");
  });
});

describe("POST /bulk-swap", () => {
  let server: TradingServer;
  beforeEach(async () => {
    server = await startTrading();
  });
  afterEach(() => stopTrading(server));

  it("applies the swaps in order, including chains, and persists them in one write", async () => {
    const swaps = [
      { stockId: "AAA", fromUserId: "1", toUserId: "2" },
      { stockId: "AAA", fromUserId: "2", toUserId: "3" },
      { stockId: "DDD", fromUserId: "3", toUserId: "1" },
    ];
    await expectJson(await postJson(server, "/bulk-swap", { swaps }), 200, {
      success: true,
      message: "Swapped 3 stocks",
      stocks: [
        { ...SAMPLE_STOCKS.AAA, owned: "2" },
        { ...SAMPLE_STOCKS.AAA, owned: "3" },
        { ...SAMPLE_STOCKS.DDD, owned: "1" },
      ],
    });
    const file = readFile(server);
    expect([file.AAA.owned, file.DDD.owned]).toEqual(["3", "1"]);
  });

  it("accepts a bare array of swaps too", async () => {
    const response = await postJson(server, "/bulk-swap", [{ stockId: "BBB", fromUserId: "2", toUserId: "5" }]);
    expect(response.status).toBe(200);
    expect(readFile(server).BBB.owned).toBe("5");
  });

  it.each([
    ["no swaps field", {}, 'Expected a non-empty array of swaps, or {"swaps": [...]}'],
    ["an empty list", { swaps: [] }, 'Expected a non-empty array of swaps, or {"swaps": [...]}'],
    ["swaps that are not a list", { swaps: "AAA" }, 'Expected a non-empty array of swaps, or {"swaps": [...]}'],
    [
      "an incomplete swap",
      { swaps: [{ stockId: "AAA", fromUserId: "1", toUserId: "2" }, { stockId: "BBB" }] },
      "Missing required parameters (swap 1)",
    ],
    [
      "a swap with a wrong type",
      { swaps: [{ stockId: "AAA", fromUserId: 1, toUserId: "2" }] },
      "Invalid fromUserId: expected 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit (swap 0)",
    ],
    ["a swap that is null", { swaps: [null] }, "A swap must be a JSON object, not null (swap 0)"],
    [
      "a swap to the owner itself",
      [
        { stockId: "AAA", fromUserId: "1", toUserId: "2" },
        { stockId: "CCC", fromUserId: "1", toUserId: "1" },
      ],
      "fromUserId and toUserId are the same user: a swap must change the owner (swap 1)",
    ],
    [
      "too many swaps",
      { swaps: Array.from({ length: 10_001 }, () => ({ stockId: "A", fromUserId: "1", toUserId: "2" })) },
      "At most 10000 swaps per request",
    ],
  ])("answers %s with a 400 JSON error", async (_case, body, error) => {
    await expectJson(await postJson(server, "/bulk-swap", body), 400, { error });
    expect(readFile(server)).toEqual(SAMPLE_STOCKS);
  });

  it("applies nothing when one swap names an unknown stock (404) or a wrong owner (400)", async () => {
    const valid = { stockId: "AAA", fromUserId: "1", toUserId: "2" };
    await expectJson(await postJson(server, "/bulk-swap", { swaps: [valid, { stockId: "ZZZ", fromUserId: "1", toUserId: "2" }] }), 404, {
      error: "Stock not found (swap 1: ZZZ)",
    });
    await expectJson(await postJson(server, "/bulk-swap", { swaps: [valid, { stockId: "BBB", fromUserId: "1", toUserId: "2" }] }), 400, {
      error: "Stock is not owned by the specified user (swap 1: BBB)",
    });
    expect(readFile(server)).toEqual(SAMPLE_STOCKS);
    await expectJson(await fetch(`${server.running.url}/stocks/AAA`), 200, SAMPLE_STOCKS.AAA);
  });
});

describe("GET /stocks on a large set", () => {
  // About 6.6 MB of JSON: more than loopback socket buffers hold for a client that stops reading.
  const count = 60_000;
  let server: TradingServer;
  beforeAll(async () => {
    const { dir, file } = tempDataFile({});
    await writeGeneratedStocks(file, count);
    const { logger, records } = memoryLogger("trading-test");
    const running = await startServer(createApp({ dataFile: file, logger }), { port: 0, host: "127.0.0.1", logger });
    server = { running, file, dir, records };
  }, 30_000);
  afterAll(() => stopTrading(server));

  it("streams every stock as one JSON object", async () => {
    const response = await fetch(`${server.running.url}/stocks`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Stocks;
    expect(Object.keys(body)).toHaveLength(count);
    expect(body[generatedStock(count - 1).id]).toEqual(generatedStock(count - 1));
  }, 30_000);

  it("treats a client that hangs up mid-stream as an aborted request, not a server error", async () => {
    await new Promise<void>((resolve, reject) => {
      httpGet(`${server.running.url}/stocks`, (res) => {
        // Stop reading at once, so the server is still streaming when the client leaves.
        res.pause();
        setTimeout(() => {
          res.destroy();
          resolve();
        }, 20);
      }).on("error", reject);
    });
    const aborted = await waitFor(() => server.records().find((r) => r.message === "Request" && r.data.aborted));
    expect(aborted.data).toMatchObject({ method: "GET", path: "/stocks", status: 200 });
    expect(server.records().filter((r) => r.level === "ERROR")).toEqual([]);
    await expectJson(await fetch(`${server.running.url}/stocks/${generatedStock(0).id}`), 200, generatedStock(0));
  }, 30_000);
});
