import { isIP } from "node:net";
import * as path from "node:path";
import { callerDirectory as callerDirectoryOf } from "@monorepo/files";

/** Environment variables, as process.env holds them. */
export type Env = Record<string, string | undefined>;

/** A configuration value a user can fix; the message names the variable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** An integer environment variable within [min, max], or `fallback` when unset. */
export function integerFromEnv(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is invalid: expected an integer from ${min} to ${max}`);
  }
  return value;
}

/** PORT, or `defaultPort` when unset; 0 asks the OS for a free port. */
export function portFromEnv(env: Env, defaultPort: number): number {
  return integerFromEnv(env, "PORT", defaultPort, 0, 65535);
}

/** Loopback only unless HOST says otherwise: a service started on a laptop is not exposed to its network. */
export const DEFAULT_HOST = "127.0.0.1";

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** HOST (an IP address or a host name; 0.0.0.0 or :: for every interface), or DEFAULT_HOST when unset. */
export function hostFromEnv(env: Env): string {
  const raw = env.HOST;
  if (raw === undefined || raw.trim() === "") return DEFAULT_HOST;
  const host = raw.trim();
  if (isIP(host) === 0 && !HOST_NAME.test(host)) {
    throw new ConfigError(
      `HOST=${JSON.stringify(raw)} is invalid: expected an IP address (0.0.0.0 or :: for every interface) or a host name`,
    );
  }
  return host;
}

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
export const MAX_SHUTDOWN_TIMEOUT_MS = 3_600_000;

/** What every service reads from its environment. */
export interface ServiceConfig {
  port: number;
  host: string;
  /** How long a shutdown waits for requests in flight before it abandons them. */
  shutdownTimeoutMs: number;
}

/** PORT (default `defaultPort`), HOST and SHUTDOWN_TIMEOUT_MS; a bad value throws a ConfigError naming it. */
export function serviceConfigFromEnv(env: Env, defaultPort: number): ServiceConfig {
  return {
    port: portFromEnv(env, defaultPort),
    host: hostFromEnv(env),
    shutdownTimeoutMs: integerFromEnv(env, "SHUTDOWN_TIMEOUT_MS", DEFAULT_SHUTDOWN_TIMEOUT_MS, 0, MAX_SHUTDOWN_TIMEOUT_MS),
  };
}

/**
 * The folder the user started the service from: see @monorepo/files' callerDirectory; pnpm's INIT_CWD
 * counts under a start script (`start`, `start:*`).
 */
export function callerDirectory(env: Env, cwd: string): string {
  return callerDirectoryOf(env, cwd, (script) => script === "start" || script.startsWith("start:"));
}

/** The file named by variable `name`, a relative path taken from the caller's folder; `fallback` when unset or empty. */
export function filePathFromEnv(env: Env, name: string, fallback: string, cwd: string = process.cwd()): string {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  return path.resolve(callerDirectory(env, cwd), raw);
}
