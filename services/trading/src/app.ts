import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Logger } from "@monorepo/logger";
import { createServiceApp, describeJson, HttpError, jsonObjectBody, removeStaleTempFiles, type ServiceLifecycle } from "@monorepo/service";
import type { Express, Request } from "express";
import type { Stock } from "./stocks";
import { type StockFilter, StockStore, type SwapRequest, type SwapResult } from "./store";

/** Upper bound of one POST /bulk-swap, so one request cannot hold the swap queue for long. */
export const MAX_BULK_SWAPS = 10_000;

/**
 * What a stock or user id in a swap may be: a ticker or a user id, bounded so that a request
 * cannot carry megabytes or control characters into the data file and the logs.
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ID_RULE = "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit";

export interface TradingAppDeps {
  /** stocks.json to load (a missing or corrupt file throws a DataFileError) and to persist swaps to. */
  dataFile: string;
  logger?: Logger;
  /** Readiness, and the shutdown that refuses or abandons swaps (none: always ready, never shutting down). */
  lifecycle?: ServiceLifecycle;
}

const MISSING_PARAMETERS = "Missing required parameters";
const NOT_FOUND = "Stock not found";
const NOT_OWNED = "Stock is not owned by the specified user";

export function createApp(deps: TradingAppDeps): Express {
  const logger = deps.logger ?? new Logger("trading-service");
  const store = StockStore.load(deps.dataFile, deps.lifecycle);
  logger.info("Loaded stocks", { file: deps.dataFile, count: store.size });
  const removed = removeStaleTempFiles(deps.dataFile);
  if (removed.length > 0) logger.warn("Removed the temp files of interrupted writes", { files: removed });

  return createServiceApp({
    logger,
    readiness: deps.lifecycle?.readiness,
    jsonLimit: "1mb",
    routes: {
      "/": {
        get: (_req, res) => {
          res.json({ message: "Trading Service API" });
        },
      },
      "/stocks": {
        get: async (req, res) => {
          const filter = parseStockFilter(req);
          if (filter.limit === undefined && filter.sector === undefined && filter.owned === undefined) {
            // The whole set can be a million stocks: stream it in chunks instead of building one huge string.
            res.type("application/json");
            await pipeline(Readable.from(store.jsonChunks()), res).catch((error: NodeJS.ErrnoException) => {
              if (error.code !== "ERR_STREAM_PREMATURE_CLOSE") throw error;
            });
            return;
          }
          res.json(keyedById(store.list(filter)));
        },
      },
      "/stocks/:id": {
        get: (req, res) => {
          const stock = store.get(req.params.id as string);
          if (!stock) throw new HttpError(404, NOT_FOUND);
          res.json(stock);
        },
      },
      "/swap": {
        post: async (req, res) => {
          const request = parseSwap(jsonObjectBody(req));
          const [stock] = succeeded(await store.swap([request]));
          res.json({
            success: true,
            message: `Stock ${stock.id} transferred from user ${request.fromUserId} to user ${request.toUserId}`,
            stock,
          });
        },
      },
      "/bulk-swap": {
        post: async (req, res) => {
          const requests = parseBulkSwap(req.body);
          const stocks = succeeded(await store.swap(requests), true);
          res.json({ success: true, message: `Swapped ${stocks.length} stocks`, stocks });
        },
      },
      "/portfolio/:userId": {
        get: (req, res) => {
          const userId = req.params.userId as string;
          const stocks = store.ownedBy(userId);
          const totalValue = Math.round(stocks.reduce((sum, stock) => sum + stock.price, 0) * 100) / 100;
          res.json({ userId, count: stocks.length, totalValue, stocks });
        },
      },
      "/sector-stats": {
        get: (_req, res) => {
          res.json({ sectors: store.sectorStats() });
        },
      },
    },
  });
}

function keyedById(stocks: Stock[]): Record<string, Stock> {
  return Object.fromEntries(stocks.map((stock) => [stock.id, stock]));
}

/** ?limit (a positive integer), ?sector, ?owned (non-empty, given once); anything else is a 400. */
function parseStockFilter(req: Request): StockFilter {
  const filter: StockFilter = {};
  const { limit, sector, owned } = req.query;
  if (limit !== undefined) {
    if (typeof limit !== "string" || !/^[1-9]\d{0,8}$/.test(limit)) {
      throw new HttpError(400, "Invalid limit: expected a positive integer");
    }
    filter.limit = Number(limit);
  }
  for (const [name, value] of [
    ["sector", sector],
    ["owned", owned],
  ] as const) {
    if (value === undefined) continue;
    if (typeof value !== "string" || value === "") throw new HttpError(400, `Invalid ${name}: expected a non-empty string`);
    filter[name] = value;
  }
  return filter;
}

const SWAP_FIELDS = ["stockId", "fromUserId", "toUserId"] as const;

/**
 * One swap: all three ids present (absent, null or "" is the product's "Missing required
 * parameters"), each a valid id, and a change of owner. `where` names the swap in a bulk request.
 */
function parseSwap(value: Record<string, unknown>, where = ""): SwapRequest {
  if (SWAP_FIELDS.some((field) => value[field] === undefined || value[field] === null || value[field] === "")) {
    throw new HttpError(400, MISSING_PARAMETERS + where);
  }
  for (const field of SWAP_FIELDS) {
    const id = value[field];
    if (typeof id !== "string" || !ID_PATTERN.test(id)) throw new HttpError(400, `Invalid ${field}: expected ${ID_RULE}${where}`);
  }
  const { stockId, fromUserId, toUserId } = value as Record<(typeof SWAP_FIELDS)[number], string>;
  if (fromUserId === toUserId) throw new HttpError(400, `fromUserId and toUserId are the same user: a swap must change the owner${where}`);
  return { stockId, fromUserId, toUserId };
}

/** The body is {"swaps": [...]} or the bare array; every entry must be a valid swap. */
function parseBulkSwap(body: unknown): SwapRequest[] {
  const swaps: unknown = Array.isArray(body) ? body : (body as { swaps?: unknown } | null | undefined)?.swaps;
  if (!Array.isArray(swaps) || swaps.length === 0) {
    throw new HttpError(400, 'Expected a non-empty array of swaps, or {"swaps": [...]}');
  }
  if (swaps.length > MAX_BULK_SWAPS) throw new HttpError(400, `At most ${MAX_BULK_SWAPS} swaps per request`);
  return swaps.map((swap: unknown, index) => {
    const where = ` (swap ${index})`;
    if (typeof swap !== "object" || swap === null || Array.isArray(swap)) {
      throw new HttpError(400, `A swap must be a JSON object, not ${describeJson(swap)}${where}`);
    }
    return parseSwap(swap as Record<string, unknown>, where);
  });
}

/** The swapped stocks, or the HttpError for the failed swap (in a bulk swap, naming which one). */
function succeeded(result: SwapResult, bulk = false): Stock[] {
  if (result.ok) return result.stocks;
  const which = bulk ? ` (swap ${result.index}: ${result.stockId})` : "";
  if (result.reason === "not-found") throw new HttpError(404, NOT_FOUND + which);
  throw new HttpError(400, NOT_OWNED + which);
}
