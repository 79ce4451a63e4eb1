import * as path from "node:path";
import { type Env, filePathFromEnv, type ServiceConfig, serviceConfigFromEnv } from "@monorepo/service";

export const DEFAULT_PORT = 3000;

/**
 * The package's own user.json. The one line that knows where the compiled code sits in the
 * package (dist/src/config.js, so two folders up); nothing else derives paths from __dirname.
 */
export const DEFAULT_USER_DATA_FILE = path.join(__dirname, "..", "..", "user.json");

export interface UserServiceConfig extends ServiceConfig {
  /** USER_DATA_FILE (a relative path is taken from the folder the service was started from), else the package's user.json. */
  dataFile: string;
}

/** PORT (default 3000), HOST, SHUTDOWN_TIMEOUT_MS and USER_DATA_FILE. */
export function userServiceConfig(env: Env, cwd: string = process.cwd()): UserServiceConfig {
  return { ...serviceConfigFromEnv(env, DEFAULT_PORT), dataFile: filePathFromEnv(env, "USER_DATA_FILE", DEFAULT_USER_DATA_FILE, cwd) };
}
