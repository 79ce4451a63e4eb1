export interface Stock {
  id: string;
  name: string;
  price: number;
  /** The id of the user who owns the stock. */
  owned: string;
  sector: string;
}

/** stocks.json: every stock keyed by its ticker. */
export type Stocks = Record<string, Stock>;

/** Checks the shape of stocks.json, naming the first entry that is wrong. */
export function parseStocks(value: unknown): Stocks {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("expected an object of stocks keyed by ticker");
  }
  for (const key in value) {
    const stock = (value as Record<string, unknown>)[key];
    const wrong = (problem: string) => new Error(`stock ${JSON.stringify(key)} ${problem}`);
    if (typeof stock !== "object" || stock === null || Array.isArray(stock)) throw wrong("is not an object");
    const { id, name, price, owned, sector } = stock as Record<string, unknown>;
    if (id !== key) throw wrong(`has id ${JSON.stringify(id)}; the key must be its id`);
    if (typeof price !== "number" || !Number.isFinite(price) || price < 0) throw wrong("has no price (a number >= 0)");
    if (typeof name !== "string") throw wrong("has no string name");
    if (typeof owned !== "string") throw wrong("has no string owned");
    if (typeof sector !== "string") throw wrong("has no string sector");
  }
  return value as Stocks;
}
