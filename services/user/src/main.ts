/**
 * The user service process (`node services/user/src/main.js`; docs/api.md has its variables and
 * exit codes). Exits 1 if the data cannot be loaded.
 */
import { Logger } from "@monorepo/logger";
import { runService } from "@monorepo/service";
import { createApp } from "./app";
import { userServiceConfig } from "./config";

const logger = new Logger("user-service");

void runService({
  logger,
  readConfig: (env) => userServiceConfig(env),
  createApp: (config, lifecycle) => createApp({ dataFile: config.dataFile, logger, readiness: lifecycle.readiness }),
});
