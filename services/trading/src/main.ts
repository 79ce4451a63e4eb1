/**
 * The trading service process: PORT (default 3001), STOCKS_DATA_FILE (default
 * the package's stocks.json), SHUTDOWN_TIMEOUT_MS. Exits 1 if the data cannot
 * be loaded, rather than trading on an empty set.
 */
import { Logger } from "@monorepo/logger";
import { runService } from "@monorepo/service";
import { createApp, DEFAULT_PORT, DEFAULT_STOCKS_DATA_FILE } from "./app";

const logger = new Logger("trading-service");

void runService({
  logger,
  defaultPort: DEFAULT_PORT,
  createApp: (readiness) =>
    createApp({ dataFile: process.env.STOCKS_DATA_FILE || DEFAULT_STOCKS_DATA_FILE, logger, readiness }),
});
