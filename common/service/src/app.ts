import { STATUS_CODES } from "node:http";
import { HEALTH_PATHS, healthLoggingMiddleware, type ReadinessState, registerHealthChecks } from "@monorepo/health";
import type { Logger } from "@monorepo/logger";
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler, type Response } from "express";
import { HttpError } from "./errors";

/** A route's handler; it may be async (express 5 passes a rejection to the error handler). */
export type RouteHandler = (req: Request, res: Response) => unknown;

/** The methods one path answers. The body of POST, PUT and PATCH is parsed as JSON first. */
export type RouteMethods = Partial<Record<"get" | "post" | "put" | "patch" | "delete", RouteHandler>>;

/** Every path a service answers, e.g. {"/users/:id": {get: ...}}. */
export type RouteTable = Record<string, RouteMethods>;

export interface ServiceAppOptions {
  logger: Logger;
  /** The service's own routes; mounted after the health checks, before the 404 and error handlers. */
  routes: RouteTable;
  /** What /readiness reports. Without one the app counts as ready (no lifecycle owner to flip it). */
  readiness?: ReadinessState;
  /** Largest accepted JSON body, in bytes or as "100kb"/"1mb". */
  jsonLimit?: number | string;
}

const BODY_METHODS = new Set(["post", "put", "patch"]);

/**
 * The frame every service shares: health probes, request logging, a JSON 404 for unknown paths,
 * a 405 with Allow for a known path asked with another method, JSON bodies parsed only for the
 * routes that take one (so an unknown route is answered before any body is read), and the one
 * error handler, so each service only adds its routes.
 */
export function createServiceApp(options: ServiceAppOptions): Express {
  const { logger } = options;
  const app = express();
  app.disable("x-powered-by");
  app.use(healthLoggingMiddleware(logger));
  registerHealthChecks(app, options.readiness);
  for (const path of HEALTH_PATHS) app.all(path, methodNotAllowed(["GET", "HEAD"]));
  app.use(requestLoggingMiddleware(logger));

  const jsonBody = jsonBodyParser(options.jsonLimit ?? "100kb");
  const router = express.Router();
  for (const [path, methods] of Object.entries(options.routes)) {
    const route = router.route(path);
    const allowed: string[] = [];
    for (const [method, handler] of Object.entries(methods) as Array<[keyof RouteMethods, RouteHandler]>) {
      route[method](...(BODY_METHODS.has(method) ? [jsonBody] : []), handler);
      allowed.push(...(method === "get" ? ["GET", "HEAD"] : [method.toUpperCase()]));
    }
    route.all(methodNotAllowed(allowed));
  }
  app.use(router);
  app.use((_req, res) => {
    res.status(404).json({ error: "Not found" });
  });
  app.use(errorHandler(logger));
  return app;
}

/** For a known path: OPTIONS lists the methods it answers; any other method is a 405 that lists them too. */
function methodNotAllowed(methods: string[]): RequestHandler {
  const allow = [...methods, "OPTIONS"].join(", ");
  return (req, res) => {
    res.set("Allow", allow);
    if (req.method === "OPTIONS") {
      res.status(204).end();
      return;
    }
    res.status(405).json({ error: `Method ${req.method} is not allowed on ${req.path}; allowed: ${allow}` });
  };
}

/**
 * Parses a JSON body into req.body, any JSON value (the route says which it takes). A body must say
 * it is JSON (415 otherwise). Without a body req.body stays undefined; body-parser alone would turn
 * an empty body into {} and so hide that it is missing.
 */
function jsonBodyParser(limit: number | string): RequestHandler {
  const parse = express.json({ limit, strict: false });
  return (req, res, next) => {
    const hasBody = req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"]) > 0;
    if (!hasBody) return next();
    if (req.is("application/json") === false) {
      const given = req.get("content-type");
      const problem = given === undefined ? "Content-Type is missing" : `Content-Type ${given} is not supported`;
      return next(new HttpError(415, `${problem}: send the body as application/json`));
    }
    parse(req, res, next);
  };
}

/** The JSON object a route's body must be, or a 400 that says what came instead. */
export function jsonObjectBody(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  if (body === undefined) throw new HttpError(400, "Request body is missing: expected a JSON object");
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(400, `Request body must be a JSON object, not ${describeJson(body)}`);
  }
  return body as Record<string, unknown>;
}

/** "null", "an array", "a string", ... for messages about a JSON value of the wrong kind. */
export function describeJson(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  const type = typeof value;
  return type === "object" ? "an object" : `a ${type}`;
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
    if (status >= 500 && !(err instanceof HttpError)) logger.error("Request failed", { ...context, error: err });
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
  return typeof candidate === "number" && Number.isInteger(candidate) && candidate >= 400 && candidate <= 599 ? candidate : 500;
}

function publicMessage(err: unknown, status: number): string {
  if (err instanceof HttpError) return err.message;
  if (status >= 500) return "Internal server error";
  const { type, expose, message } = (err ?? {}) as LibraryError;
  if (type === "entity.parse.failed") return "Malformed JSON body";
  if (type === "entity.too.large") return "Request body too large";
  if (expose === true && typeof message === "string") return message;
  return STATUS_CODES[status] ?? "Bad request";
}
