import type { Server } from "node:http";
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "@monorepo/logger";
import { ConfigError, DEFAULT_HOST, DEFAULT_SHUTDOWN_TIMEOUT_MS, type Env, type ServiceConfig } from "./config";
import { DataFileError } from "./files";
import { ServiceLifecycle } from "./lifecycle";

export interface StartServerOptions {
  port: number;
  /** Interface to bind (DEFAULT_HOST when unset); 0.0.0.0 or :: for every interface. */
  host?: string;
  logger: Logger;
  /** Marked ready once listening; drained, then given its deadline, on shutdown. */
  lifecycle?: ServiceLifecycle;
  /** How long shutdown waits for in-flight requests before abandoning them. */
  shutdownTimeoutMs?: number;
}

/** "graceful": every request finished; "forced": the drain limit was reached and the rest was cut. */
export type ShutdownOutcome = "graceful" | "forced";

export interface RunningServer {
  readonly server: Server;
  /** The address bound, as the OS reports it. */
  readonly host: string;
  readonly port: number;
  /** http://host:port to reach the server from this machine (loopback when bound to every interface). */
  readonly url: string;
  /** Drains and closes the server; calling it again returns the same promise. */
  shutdown(): Promise<ShutdownOutcome>;
}

/**
 * Listens and marks the service ready. shutdown() then: starts the lifecycle's drain (readiness
 * 503, queued work refused); keeps the listener open while requests are in flight (so probes see
 * the 503 and those requests finish), answering with "Connection: close"; then, once no request is
 * left unread, closes the listener and idle keep-alive connections. When shutdownTimeoutMs runs out, it passes the lifecycle's
 * deadline, waits for the commits in progress to settle and be answered, and cuts what is left.
 */
export async function startServer(app: RequestListener, options: StartServerOptions): Promise<RunningServer> {
  const { logger } = options;
  const lifecycle = options.lifecycle ?? new ServiceLifecycle();
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

  // Requests a client has already sent may still wait unread in the accept queue or a socket's
  // buffer; closing now would reset them. Two turns of the event loop let it accept them, then
  // read them; a request found that way is served, and this runs again when it is done.
  const closeWhenQuiet = (): void => {
    setImmediate(() =>
      setImmediate(() => {
        if (inFlight.size === 0) closeListener();
      }),
    );
  };

  // Registered before the app so the header can still be set on every response.
  server.on("request", (_req: IncomingMessage, res: ServerResponse) => {
    inFlight.add(res);
    if (draining) res.setHeader("Connection", "close");
    res.once("close", () => {
      inFlight.delete(res);
      if (draining && inFlight.size === 0) closeWhenQuiet();
    });
  });
  server.on("request", app);

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: options.port, host: options.host ?? DEFAULT_HOST }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { address: host, port } = server.address() as AddressInfo;
  const url = `http://${urlHost(host)}:${port}`;
  lifecycle.readiness.markReady();
  logger.info("Listening", { host, port, url });

  const drain = async (): Promise<ShutdownOutcome> => {
    lifecycle.startDraining();
    draining = true;
    logger.info("Draining", { inFlight: inFlight.size, timeoutMs: shutdownTimeoutMs });
    for (const res of inFlight) if (!res.headersSent) res.setHeader("Connection", "close");
    if (inFlight.size === 0) closeWhenQuiet();

    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"forced">((resolve) => {
      timer = setTimeout(() => resolve("forced"), shutdownTimeoutMs);
    });
    const outcome = await Promise.race([closed.then(() => "graceful" as const), timedOut]);
    clearTimeout(timer);
    if (outcome === "forced") {
      logger.warn("Drain limit reached; abandoning the work in progress", { inFlight: inFlight.size, timeoutMs: shutdownTimeoutMs });
      await lifecycle.reachDeadline();
      // Let the answers of the settled commits be written: they go out in the turn their task settled.
      await new Promise((resolve) => setImmediate(resolve));
      const unanswered = [...inFlight].filter((res) => !res.writableFinished).length;
      logger.warn("Closing the remaining connections", { unanswered });
      closeListener();
      server.closeAllConnections();
      await closed;
    }
    logger.info("Stopped", { outcome });
    return outcome;
  };

  let shutdown: Promise<ShutdownOutcome> | undefined;
  return { server, host, port, url, shutdown: () => (shutdown ??= drain()) };
}

function urlHost(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

/** How a service process ends; documented for operators in docs/api.md. */
export const ExitCode = {
  /** Stopped by SIGTERM/SIGINT after every request in flight was answered. */
  Stopped: 0,
  /** Could not start (data file, address in use, ...) or crashed. */
  Failed: 1,
  /** A configuration variable is invalid. */
  InvalidConfig: 2,
  /** Stopped, but the drain limit (SHUTDOWN_TIMEOUT_MS) was reached and requests in flight were cut. */
  DrainTimedOut: 3,
} as const;

export interface RunServiceOptions<C extends ServiceConfig> {
  logger: Logger;
  /** Reads the configuration; throws a ConfigError for a value the user can fix. */
  readConfig(env: Env): C;
  /** Builds the app; may throw (e.g. a DataFileError) to refuse to start. */
  createApp(config: C, lifecycle: ServiceLifecycle): RequestListener;
  env?: Env;
  signals?: NodeJS.Signals[];
}

/**
 * The whole life of a service process, for src/main.ts: read the configuration, build the app,
 * listen, and on SIGTERM/SIGINT drain and exit (ExitCode). A failure to start is one log line
 * that says what to fix, and an exit code.
 *
 * Signals after the first are logged and ignored: one Ctrl-C under `pnpm start:*` reaches the
 * service up to three times (from the terminal, then forwarded by pnpm as SIGINT and SIGTERM),
 * and a second signal must not cut the drain short. The drain is bounded by SHUTDOWN_TIMEOUT_MS;
 * SIGKILL still stops the process at once.
 */
export async function runService<C extends ServiceConfig>(options: RunServiceOptions<C>): Promise<RunningServer | undefined> {
  const { logger } = options;
  const env = options.env ?? process.env;
  let running: RunningServer | undefined;
  let stopSignal: NodeJS.Signals | undefined;
  const stop = (server: RunningServer): void => {
    server.shutdown().then(
      (outcome) => exitSoon(outcome === "graceful" ? ExitCode.Stopped : ExitCode.DrainTimedOut),
      (error: unknown) => {
        logger.error("Shutdown failed", error);
        exitSoon(ExitCode.Failed);
      },
    );
  };
  // Listening before the server is up: a signal that comes the moment it is (say, right after
  // its "Listening" line) must find a handler, not the default action.
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopSignal !== undefined) {
      logger.info("Already shutting down; signal ignored", { signal });
      return;
    }
    stopSignal = signal;
    logger.info("Shutting down", { signal });
    if (running) stop(running);
  };
  const signals = options.signals ?? ["SIGTERM", "SIGINT"];
  for (const s of signals) process.on(s, onSignal);

  try {
    const config = options.readConfig(env);
    const lifecycle = new ServiceLifecycle();
    const app = options.createApp(config, lifecycle);
    running = await startServer(app, {
      port: config.port,
      host: config.host,
      logger,
      lifecycle,
      shutdownTimeoutMs: config.shutdownTimeoutMs,
    });
  } catch (error) {
    for (const s of signals) process.off(s, onSignal);
    const failure = startFailure(error);
    logger.error(`Refusing to start: ${failure.message}`, failure.data);
    process.exitCode = failure.exitCode;
    return undefined;
  }
  if (stopSignal !== undefined) stop(running);
  return running;
}

interface StartFailure {
  exitCode: number;
  message: string;
  data: unknown;
}

/** What a user can fix gets a message that says what, and no stack; anything else is a bug and keeps its stack. */
function startFailure(error: unknown): StartFailure {
  if (error instanceof ConfigError) return { exitCode: ExitCode.InvalidConfig, message: error.message, data: { error: error.name } };
  if (error instanceof DataFileError) return { exitCode: ExitCode.Failed, message: error.message, data: { error: error.name } };
  const { code, address, port } = error as NodeJS.ErrnoException & { address?: string; port?: number };
  const where = `${address}:${port}`;
  const listenProblems: Record<string, string> = {
    EADDRINUSE: `${where} is already in use (EADDRINUSE): stop what listens there or set PORT`,
    EACCES: `no permission to listen on ${where} (EACCES): use a port above 1023 or set PORT`,
    EADDRNOTAVAIL: `${address} is not an address of this machine (EADDRNOTAVAIL): set HOST`,
    ENOTFOUND: `HOST ${JSON.stringify((error as { hostname?: string }).hostname)} does not resolve (ENOTFOUND): set HOST`,
  };
  if (typeof code === "string" && code in listenProblems) {
    return { exitCode: ExitCode.Failed, message: listenProblems[code], data: { error: code } };
  }
  return { exitCode: ExitCode.Failed, message: (error as Error).message, data: error };
}

/**
 * Lets the event loop empty so buffered output is flushed, but exits anyway
 * if some stray handle would keep the process alive.
 */
function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 1000).unref();
}
