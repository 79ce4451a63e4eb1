/**
 * The user service process: PORT (default 3000), USER_DATA_FILE (default the
 * package's user.json), SHUTDOWN_TIMEOUT_MS. Exits 1 if the data cannot be loaded.
 */
import { Logger } from "@monorepo/logger";
import { runService } from "@monorepo/service";
import { createApp, DEFAULT_PORT, DEFAULT_USER_DATA_FILE } from "./app";

const logger = new Logger("user-service");

void runService({
  logger,
  defaultPort: DEFAULT_PORT,
  createApp: (readiness) =>
    createApp({ dataFile: process.env.USER_DATA_FILE || DEFAULT_USER_DATA_FILE, logger, readiness }),
});
