import { createServer, IncomingMessage, RequestListener, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ReadinessState } from "@monorepo/health";
import { Logger } from "@monorepo/logger";

/** A configuration value a user can fix; the message names the variable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

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

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

export interface StartServerOptions {
  port: number;
  /** Interface to bind; all interfaces when unset. */
  host?: string;
  logger: Logger;
  /** Marked ready once listening and draining on shutdown. */
  readiness?: ReadinessState;
  /** How long shutdown waits for in-flight requests before cutting connections. */
  shutdownTimeoutMs?: number;
}

/** "graceful": every request finished; "forced": the timeout cut the remaining connections. */
export type ShutdownOutcome = "graceful" | "forced";

export interface RunningServer {
  readonly server: Server;
  readonly port: number;
  /** http://host:port to reach the server from this machine. */
  readonly url: string;
  /** Drains and closes the server; calling it again returns the same promise. */
  shutdown(): Promise<ShutdownOutcome>;
}

/**
 * Listens and marks the service ready. shutdown() then: flips readiness to
 * 503 "draining"; keeps the listener open while requests are in flight (so
 * probes see the 503 and those requests finish), answering with
 * "Connection: close"; then closes the listener and idle keep-alive
 * connections. After shutdownTimeoutMs it cuts whatever is left.
 */
export async function startServer(app: RequestListener, options: StartServerOptions): Promise<RunningServer> {
  const { logger } = options;
  const readiness = options.readiness ?? new ReadinessState();
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const server = createServer();
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  let closeRequested = false;
  // 'close' fires once the listener is closed and every connection has ended.
  const closed = new Promise<void>((resolve) => server.once("close", () => resolve()));
  const closeListener = (): void => {
    if (!closeRequested) {
      closeRequested = true;
      server.close();
    }
    server.closeIdleConnections();
  };

  // Registered before the app so the header can still be set on every response.
  server.on("request", (_req: IncomingMessage, res: ServerResponse) => {
    inFlight.add(res);
    if (draining) res.setHeader("Connection", "close");
    res.once("close", () => {
      inFlight.delete(res);
      if (draining && inFlight.size === 0) closeListener();
    });
  });
  server.on("request", app);

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: options.port, host: options.host }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${urlHost(options.host)}:${port}`;
  readiness.markReady();
  logger.info("Listening", { port, url });

  const drain = async (): Promise<ShutdownOutcome> => {
    readiness.markDraining();
    draining = true;
    logger.info("Draining", { inFlight: inFlight.size, timeoutMs: shutdownTimeoutMs });
    for (const res of inFlight) if (!res.headersSent) res.setHeader("Connection", "close");
    if (inFlight.size === 0) closeListener();

    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"forced">((resolve) => {
      timer = setTimeout(() => resolve("forced"), shutdownTimeoutMs);
    });
    const outcome = await Promise.race([closed.then(() => "graceful" as const), timedOut]);
    clearTimeout(timer);
    if (outcome === "forced") {
      logger.warn("Shutdown timed out; closing remaining connections", { inFlight: inFlight.size });
      closeListener();
      server.closeAllConnections();
      await closed;
    }
    logger.info("Stopped", { outcome });
    return outcome;
  };

  let shutdown: Promise<ShutdownOutcome> | undefined;
  return { server, port, url, shutdown: () => (shutdown ??= drain()) };
}

function urlHost(host: string | undefined): string {
  if (host === undefined || host === "" || host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

export interface RunServiceOptions {
  logger: Logger;
  /** Port when PORT is unset. */
  defaultPort: number;
  /** Builds the app; may throw (e.g. a DataFileError) to refuse to start. */
  createApp(readiness: ReadinessState): RequestListener;
  host?: string;
  env?: Env;
  signals?: NodeJS.Signals[];
}

/**
 * The whole life of a service process, for src/main.ts: read PORT and
 * SHUTDOWN_TIMEOUT_MS, build the app, listen, and on SIGTERM/SIGINT drain and
 * exit 0 (1 if the drain timed out). Any startup failure is logged and exits 1.
 * A second signal during the drain gets the default action: immediate exit.
 */
export async function runService(options: RunServiceOptions): Promise<RunningServer | undefined> {
  const { logger } = options;
  const env = options.env ?? process.env;
  let running: RunningServer;
  try {
    const port = portFromEnv(env, options.defaultPort);
    const shutdownTimeoutMs = integerFromEnv(env, "SHUTDOWN_TIMEOUT_MS", DEFAULT_SHUTDOWN_TIMEOUT_MS, 0, 3_600_000);
    const readiness = new ReadinessState();
    const app = options.createApp(readiness);
    running = await startServer(app, { port, host: options.host, logger, readiness, shutdownTimeoutMs });
  } catch (error) {
    logger.error(`Refusing to start: ${(error as Error).message}`, error);
    process.exitCode = 1;
    return undefined;
  }

  const signals = options.signals ?? ["SIGTERM", "SIGINT"];
  const onSignal = (signal: NodeJS.Signals): void => {
    for (const s of signals) process.off(s, onSignal);
    logger.info("Shutting down", { signal });
    running.shutdown().then(
      (outcome) => exitSoon(outcome === "graceful" ? 0 : 1),
      (error: unknown) => {
        logger.error("Shutdown failed", error);
        exitSoon(1);
      },
    );
  };
  for (const s of signals) process.on(s, onSignal);
  return running;
}

/**
 * Lets the event loop empty so buffered output is flushed, but exits anyway
 * if some stray handle would keep the process alive.
 */
function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 1000).unref();
}
