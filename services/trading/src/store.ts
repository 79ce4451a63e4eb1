import { loadJsonDataFile, ServiceLifecycle, writeFileAtomic } from "@monorepo/service";
import { SerialQueue } from "./serial-queue";
import { parseStocks, type Stock, type Stocks } from "./stocks";

export interface StockFilter {
  limit?: number;
  sector?: string;
  owned?: string;
}

export interface SwapRequest {
  stockId: string;
  fromUserId: string;
  toUserId: string;
}

export type SwapResult = { ok: true; stocks: Stock[] } | { ok: false; reason: "not-found" | "not-owned"; index: number; stockId: string };

export interface SectorStats {
  count: number;
  totalValue: number;
  averagePrice: number;
  minPrice: number;
  maxPrice: number;
}

/** Stocks per chunk when the data file is written or streamed: big enough to be fast, small enough not to stall requests. */
const ENTRIES_PER_CHUNK = 2000;

const cents = (value: number): number => Math.round(value * 100) / 100;

/**
 * A stock and its line in the data file. Serialising a million stocks is most
 * of the cost of rewriting the file, so each line is kept until its stock changes.
 */
interface Entry {
  stock: Stock;
  line?: string;
}

const lineOf = (stock: Stock): string => `  ${JSON.stringify(stock.id)}: ${JSON.stringify(stock)}`;

function cachedLineOf(entry: Entry): string {
  entry.line ??= lineOf(entry.stock);
  return entry.line;
}

/**
 * All stocks in memory, indexed by owner and sector, backed by the data file.
 * The file is read once at startup; every swap is written to it atomically
 * before it becomes visible, one swap at a time, so readers only ever see
 * committed ownership and a crash leaves the file whole. When the service
 * shuts down (the lifecycle), swaps still waiting are refused and a write cut
 * off by the drain limit is abandoned before its rename: a swap is either
 * made and answered, or not made.
 */
export class StockStore {
  private readonly entries = new Map<string, Entry>();
  private readonly idsByOwner = new Map<string, Set<string>>();
  private readonly stocksBySector = new Map<string, Stock[]>();
  private readonly statsBySector: Record<string, SectorStats> = {};
  private readonly writes: SerialQueue;

  constructor(
    stocks: Stocks,
    private readonly dataFile: string,
    private readonly lifecycle: ServiceLifecycle = new ServiceLifecycle(),
  ) {
    this.writes = new SerialQueue(lifecycle.draining);
    for (const [id, stock] of Object.entries(stocks)) {
      this.entries.set(id, { stock });
      this.addOwned(stock.owned, id);
      const sector = this.stocksBySector.get(stock.sector);
      if (sector) sector.push(stock);
      else this.stocksBySector.set(stock.sector, [stock]);
    }
    // Prices never change at runtime, so sector statistics are computed once.
    for (const [sector, members] of this.stocksBySector) {
      const prices = members.map((stock) => stock.price);
      const total = prices.reduce((sum, price) => sum + price, 0);
      this.statsBySector[sector] = {
        count: members.length,
        totalValue: cents(total),
        averagePrice: cents(total / members.length),
        minPrice: prices.reduce((min, price) => Math.min(min, price)),
        maxPrice: prices.reduce((max, price) => Math.max(max, price)),
      };
    }
  }

  /** Reads the data file; a missing, corrupt or malformed file throws a DataFileError. */
  static load(dataFile: string, lifecycle?: ServiceLifecycle): StockStore {
    return new StockStore(loadJsonDataFile(dataFile, parseStocks), dataFile, lifecycle);
  }

  get size(): number {
    return this.entries.size;
  }

  get(id: string): Stock | undefined {
    return this.entries.get(id)?.stock;
  }

  /** Stocks matching every given filter, at most `limit`; served from the indexes, not a full scan. */
  list(filter: StockFilter = {}): Stock[] {
    const { limit, sector, owned } = filter;
    const candidates: Iterable<Stock> =
      owned !== undefined ? this.ownedStocks(owned) : sector !== undefined ? (this.stocksBySector.get(sector) ?? []) : this.allStocks();
    const result: Stock[] = [];
    for (const stock of candidates) {
      if (sector !== undefined && stock.sector !== sector) continue;
      result.push(stock);
      if (result.length === limit) break;
    }
    return result;
  }

  ownedBy(userId: string): Stock[] {
    return [...this.ownedStocks(userId)];
  }

  sectorStats(): Record<string, SectorStats> {
    return this.statsBySector;
  }

  /**
   * Applies the swaps in order, all or none: each is checked against the
   * ownership the previous ones leave, the result is written to the data file,
   * and only then does it become visible. Swaps run one batch at a time.
   * Rejects with a ShuttingDownError (nothing changed) when the shutdown
   * refuses or abandons it.
   */
  swap(requests: readonly SwapRequest[]): Promise<SwapResult> {
    return this.writes.run(() => this.lifecycle.commit(() => this.applySwaps(requests)));
  }

  private async applySwaps(requests: readonly SwapRequest[]): Promise<SwapResult> {
    const newOwners = new Map<string, string>();
    const swapped: Stock[] = [];
    for (const [index, { stockId, fromUserId, toUserId }] of requests.entries()) {
      const stock = this.entries.get(stockId)?.stock;
      if (!stock) return { ok: false, reason: "not-found", index, stockId };
      if ((newOwners.get(stockId) ?? stock.owned) !== fromUserId) return { ok: false, reason: "not-owned", index, stockId };
      newOwners.set(stockId, toUserId);
      swapped.push({ ...stock, owned: toUserId });
    }
    await writeFileAtomic(this.dataFile, this.jsonChunks(newOwners), { signal: this.lifecycle.deadline });
    for (const [stockId, owner] of newOwners) this.setOwner(this.entries.get(stockId)!, owner);
    return { ok: true, stocks: swapped };
  }

  /**
   * The whole data set as JSON text in chunks, one stock per line (a swap
   * changes one line of the file), with `newOwners` applied on top.
   */
  *jsonChunks(newOwners: ReadonlyMap<string, string> = new Map()): Generator<string> {
    if (this.entries.size === 0) {
      yield "{}\n";
      return;
    }
    let chunk = "{\n";
    let count = 0;
    for (const [id, entry] of this.entries) {
      const owner = newOwners.get(id);
      const line = owner === undefined ? cachedLineOf(entry) : lineOf({ ...entry.stock, owned: owner });
      chunk += count === 0 ? line : `,\n${line}`;
      if (++count % ENTRIES_PER_CHUNK === 0) {
        yield chunk;
        chunk = "";
      }
    }
    yield `${chunk}\n}\n`;
  }

  private *allStocks(): Generator<Stock> {
    for (const entry of this.entries.values()) yield entry.stock;
  }

  /** Lazily, so ?owned=x&limit=n touches n stocks, not everything x owns. */
  private *ownedStocks(userId: string): Generator<Stock> {
    for (const id of this.idsByOwner.get(userId) ?? []) yield this.entries.get(id)!.stock;
  }

  private setOwner(entry: Entry, owner: string): void {
    const { stock } = entry;
    if (stock.owned === owner) return;
    this.idsByOwner.get(stock.owned)?.delete(stock.id);
    this.addOwned(owner, stock.id);
    stock.owned = owner;
    entry.line = undefined;
  }

  private addOwned(owner: string, id: string): void {
    const owned = this.idsByOwner.get(owner);
    if (owned) owned.add(id);
    else this.idsByOwner.set(owner, new Set([id]));
  }
}
