/**
 * Kubernetes-style probes shared by every service. Liveness says the process
 * runs; readiness says it should get traffic, which is false while it starts
 * and while it drains for shutdown.
 */

import { Logger } from "@monorepo/logger";
import type { IRouter, RequestHandler } from "express";

export const READINESS_PATH = "/readiness";
export const LIVENESS_PATH = "/liveness";
export const HEALTH_PATHS: readonly string[] = [READINESS_PATH, LIVENESS_PATH];

export type ReadinessStatus = "starting" | "ready" | "draining";

/** The one switch a service flips as it starts and stops; /readiness reports it. */
export class ReadinessState {
  private current: ReadinessStatus;

  constructor(initial: ReadinessStatus = "starting") {
    this.current = initial;
  }

  get status(): ReadinessStatus {
    return this.current;
  }

  get isReady(): boolean {
    return this.current === "ready";
  }

  /** Starting -> ready. A draining service stays draining: it is on its way out. */
  markReady(): void {
    if (this.current === "starting") this.current = "ready";
  }

  markDraining(): void {
    this.current = "draining";
  }
}

/**
 * GET /readiness: 200 {"status":"ready"}, or 503 {"status":"starting"|"draining"}.
 * GET /liveness: always 200 {"status":"alive"} (a draining process is still alive;
 * restarting it would cut its in-flight requests).
 * Without a state the service counts as ready.
 */
export function registerHealthChecks(app: IRouter, state: ReadinessState = new ReadinessState("ready")): void {
  app.get(READINESS_PATH, (_req, res) => {
    res.set("Cache-Control", "no-store");
    res.status(state.isReady ? 200 : 503).json({ status: state.status });
  });
  app.get(LIVENESS_PATH, (_req, res) => {
    res.set("Cache-Control", "no-store");
    res.status(200).json({ status: "alive" });
  });
}

/** Logs every health probe with its status and duration; other requests pass untouched. */
export function healthLoggingMiddleware(logger: Logger = new Logger("health")): RequestHandler {
  return (req, res, next) => {
    if (!HEALTH_PATHS.includes(req.path)) return next();
    const started = process.hrtime.bigint();
    res.once("finish", () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info("Health check", {
        method: req.method,
        path: req.path,
        status: res.statusCode,
        durationMs: Math.round(durationMs * 1000) / 1000,
      });
    });
    next();
  };
}
