export { createApp, DEFAULT_PORT, DEFAULT_STOCKS_DATA_FILE, MAX_BULK_SWAPS, TradingAppDeps } from "./app";
export { SerialQueue } from "./serial-queue";
export { parseStocks, Stock, Stocks } from "./stocks";
export { SectorStats, StockFilter, StockStore, SwapRequest, SwapResult } from "./store";
