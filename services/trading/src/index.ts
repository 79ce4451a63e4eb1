export { createApp, ID_PATTERN, MAX_BULK_SWAPS, TradingAppDeps } from "./app";
export { DEFAULT_PORT, DEFAULT_STOCKS_DATA_FILE, TradingServiceConfig, tradingServiceConfig } from "./config";
export { SerialQueue } from "./serial-queue";
export { parseStocks, Stock, Stocks } from "./stocks";
export { SectorStats, StockFilter, StockStore, SwapRequest, SwapResult } from "./store";
