import express, { ErrorRequestHandler, Express, RequestHandler, Router } from "express";
import { STATUS_CODES } from "node:http";
import { healthLoggingMiddleware, HEALTH_PATHS, ReadinessState, registerHealthChecks } from "@monorepo/health";
import { Logger } from "@monorepo/logger";

/** An error a route throws to answer with this status and {"error": message}. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export interface ServiceAppOptions {
  logger: Logger;
  /** The service's own routes; mounted after health checks and body parsing, before the 404 and error handlers. */
  routes: Router;
  /** What /readiness reports. Without one the app counts as ready (no lifecycle owner to flip it). */
  readiness?: ReadinessState;
  /** Largest accepted JSON body, in bytes or as "100kb"/"1mb". */
  jsonLimit?: number | string;
}

/**
 * The frame every service shares: health probes, request logging, JSON bodies,
 * a JSON 404 and the one error handler, so each service only adds its routes.
 */
export function createServiceApp(options: ServiceAppOptions): Express {
  const { logger } = options;
  const app = express();
  app.disable("x-powered-by");
  app.use(healthLoggingMiddleware(logger));
  registerHealthChecks(app, options.readiness);
  app.use(requestLoggingMiddleware(logger));
  app.use(express.json({ limit: options.jsonLimit ?? "100kb" }));
  app.use(options.routes);
  app.use((_req, res) => {
    res.status(404).json({ error: "Not found" });
  });
  app.use(errorHandler(logger));
  return app;
}

/**
 * Logs every request except health probes, which healthLoggingMiddleware already
 * logs. Logged on "close" so a request whose client went away is logged too, as aborted.
 */
function requestLoggingMiddleware(logger: Logger): RequestHandler {
  return (req, res, next) => {
    if (HEALTH_PATHS.includes(req.path)) return next();
    const started = process.hrtime.bigint();
    res.once("close", () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info("Request", {
        method: req.method,
        path: req.originalUrl,
        status: res.statusCode,
        durationMs: Math.round(durationMs * 1000) / 1000,
        ...(res.writableFinished ? {} : { aborted: true }),
      });
    });
    next();
  };
}

/** The error middleware: every error becomes {"error": ...} with a status; bad input is a 4xx, never a 500. */
function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    const status = statusOf(err);
    const context = { method: req.method, path: req.originalUrl, status };
    if (status >= 500) logger.error("Request failed", { ...context, error: err });
    else logger.warn("Request rejected", { ...context, reason: err instanceof Error ? err.message : String(err) });
    // Once headers are out no JSON can follow; express's default handler ends the connection.
    if (res.headersSent) return next(err);
    res.status(status).json({ error: publicMessage(err, status) });
  };
}

/** Errors from express and body-parser carry `status`/`type`; anything else is our fault. */
interface LibraryError {
  status?: unknown;
  statusCode?: unknown;
  type?: unknown;
  expose?: unknown;
  message?: unknown;
}

function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  const { status, statusCode } = (err ?? {}) as LibraryError;
  const candidate = typeof status === "number" ? status : statusCode;
  return typeof candidate === "number" && Number.isInteger(candidate) && candidate >= 400 && candidate <= 599
    ? candidate
    : 500;
}

function publicMessage(err: unknown, status: number): string {
  if (status >= 500) return "Internal server error";
  if (err instanceof HttpError) return err.message;
  const { type, expose, message } = (err ?? {}) as LibraryError;
  if (type === "entity.parse.failed") return "Malformed JSON body";
  if (type === "entity.too.large") return "Request body too large";
  if (expose === true && typeof message === "string") return message;
  return STATUS_CODES[status] ?? "Bad request";
}
