import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { writeFileAtomic } from "@monorepo/service";
import type { Stock, Stocks } from "../src";

export const SECTORS = ["Technology", "Finance", "Healthcare", "Energy", "Consumer", "Industrials", "Utilities", "Materials"];
export const USER_COUNT = 5;

/** Stock number i of a generated data set: the same for a given i on every run. */
export function generatedStock(i: number): Stock {
  const id = `T${i.toString().padStart(7, "0")}`;
  return {
    id,
    name: `Generated Company ${i}`,
    price: 1 + ((i * 7919) % 99_991) / 100,
    owned: String((i % USER_COUNT) + 1),
    sector: SECTORS[i % SECTORS.length],
  };
}

/** Writes a generated data set of `count` stocks in chunks, never holding it all in memory. */
export async function writeGeneratedStocks(file: string, count: number): Promise<void> {
  function* chunks(): Generator<string> {
    yield "{\n";
    for (let start = 0; start < count; start += 5000) {
      const lines: string[] = [];
      for (let i = start; i < Math.min(count, start + 5000); i++) {
        const stock = generatedStock(i);
        lines.push(`  ${JSON.stringify(stock.id)}: ${JSON.stringify(stock)}`);
      }
      yield (start === 0 ? "" : ",\n") + lines.join(",\n");
    }
    yield "\n}\n";
  }
  await writeFileAtomic(file, chunks());
}

/** A temp dir holding stocks.json with the given stocks. */
export function tempDataFile(stocks: Stocks, prefix = "trading-"): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const file = path.join(dir, "stocks.json");
  writeFileSync(file, JSON.stringify(stocks, null, 2));
  return { dir, file };
}

export const SAMPLE_STOCKS: Stocks = {
  AAA: { id: "AAA", name: "Alpha", price: 10, owned: "1", sector: "Technology" },
  BBB: { id: "BBB", name: "Beta", price: 20.5, owned: "2", sector: "Technology" },
  CCC: { id: "CCC", name: "Gamma", price: 30.25, owned: "1", sector: "Finance" },
  DDD: { id: "DDD", name: "Delta", price: 5, owned: "3", sector: "Energy" },
  EEE: { id: "EEE", name: "Epsilon", price: 99.99, owned: "1", sector: "Technology" },
};
