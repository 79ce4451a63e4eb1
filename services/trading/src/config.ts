import * as path from "node:path";
import { type Env, filePathFromEnv, type ServiceConfig, serviceConfigFromEnv } from "@monorepo/service";

export const DEFAULT_PORT = 3001;

/**
 * The package's own stocks.json. The one line that knows where the compiled code sits in the
 * package (dist/src/config.js, so two folders up); nothing else derives paths from __dirname.
 */
export const DEFAULT_STOCKS_DATA_FILE = path.join(__dirname, "..", "..", "stocks.json");

export interface TradingServiceConfig extends ServiceConfig {
  /** STOCKS_DATA_FILE (a relative path is taken from the folder the service was started from), else the package's stocks.json. */
  dataFile: string;
}

/** PORT (default 3001), HOST, SHUTDOWN_TIMEOUT_MS and STOCKS_DATA_FILE. */
export function tradingServiceConfig(env: Env, cwd: string = process.cwd()): TradingServiceConfig {
  return { ...serviceConfigFromEnv(env, DEFAULT_PORT), dataFile: filePathFromEnv(env, "STOCKS_DATA_FILE", DEFAULT_STOCKS_DATA_FILE, cwd) };
}
