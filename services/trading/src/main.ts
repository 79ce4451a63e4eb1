/**
 * The trading service process (`node services/trading/src/main.js`; docs/api.md has its variables
 * and exit codes). Exits 1 if the data cannot be loaded, rather than trading on an empty set.
 */
import { Logger } from "@monorepo/logger";
import { runService } from "@monorepo/service";
import { createApp } from "./app";
import { tradingServiceConfig } from "./config";

const logger = new Logger("trading-service");

void runService({
  logger,
  readConfig: (env) => tradingServiceConfig(env),
  createApp: (config, lifecycle) => createApp({ dataFile: config.dataFile, logger, lifecycle }),
});
