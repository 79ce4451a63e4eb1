import express from "express";
import { Agent, request } from "node:http";
import * as path from "node:path";
import { Logger } from "@monorepo/logger";
import { logMessage, memoryLogger, startNode } from "@monorepo/testing";
import { ConfigError, createServiceApp, integerFromEnv, portFromEnv, ReadinessState, startServer } from "../src";

/** An app whose GET /hold waits until release() is called, so a request stays in flight on demand. */
function holdingApp(logger: Logger, readiness: ReadinessState) {
  const held: Array<() => void> = [];
  let onHeld: (() => void) | undefined;
  const routes = express.Router();
  routes.get("/hold", async (_req, res) => {
    await new Promise<void>((resolve) => {
      held.push(resolve);
      onHeld?.();
    });
    res.json({ released: true });
  });
  return {
    app: createServiceApp({ logger, routes, readiness }),
    /** Resolves once a /hold request is being held. */
    nextHeld: () => new Promise<void>((resolve) => (onHeld = resolve)),
    release: () => held.splice(0).forEach((release) => release()),
  };
}

/** One GET over a given agent, resolving with status, body and the Connection header. */
function get(url: string, agent: Agent): Promise<{ status: number; body: string; connection?: string }> {
  return new Promise((resolve, reject) => {
    request(url, { agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, body, connection: res.headers.connection }));
    })
      .on("error", reject)
      .end();
  });
}

describe("portFromEnv / integerFromEnv", () => {
  it("reads PORT, defaults when unset and rejects bad values by name", () => {
    expect(portFromEnv({}, 3000)).toBe(3000);
    expect(portFromEnv({ PORT: "" }, 3000)).toBe(3000);
    expect(portFromEnv({ PORT: "0" }, 3000)).toBe(0);
    expect(portFromEnv({ PORT: " 8080 " }, 3000)).toBe(8080);
    for (const bad of ["abc", "-1", "65536", "80.5", "1e3"]) {
      expect(() => portFromEnv({ PORT: bad }, 3000)).toThrow(ConfigError);
      expect(() => portFromEnv({ PORT: bad }, 3000)).toThrow(/^PORT=.* is invalid: expected an integer from 0 to 65535$/);
    }
    expect(integerFromEnv({ N: "7" }, "N", 1, 0, 10)).toBe(7);
  });
});

describe("startServer", () => {
  it("marks the service ready once listening and reports its URL", async () => {
    const { logger, records } = memoryLogger("server-test");
    const readiness = new ReadinessState();
    const { app } = holdingApp(logger, readiness);
    const running = await startServer(app, { port: 0, host: "127.0.0.1", logger, readiness });
    try {
      expect(readiness.status).toBe("ready");
      expect(running.url).toBe(`http://127.0.0.1:${running.port}`);
      expect(records().find((r) => r.message === "Listening")?.data).toEqual({ port: running.port, url: running.url });
    } finally {
      await running.shutdown();
    }
  });

  it("rejects when the port is taken", async () => {
    const { logger } = memoryLogger("server-test");
    const first = await startServer(express(), { port: 0, host: "127.0.0.1", logger });
    try {
      await expect(startServer(express(), { port: first.port, host: "127.0.0.1", logger })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.shutdown();
    }
  });

  it("drains: readiness 503, the in-flight request finishes, idle keep-alive connections close, then it stops", async () => {
    const { logger } = memoryLogger("server-test");
    const readiness = new ReadinessState();
    const { app, nextHeld, release } = holdingApp(logger, readiness);
    const running = await startServer(app, { port: 0, host: "127.0.0.1", logger, readiness, shutdownTimeoutMs: 30_000 });
    const agent = new Agent({ keepAlive: true, maxSockets: 10 });
    try {
      // One keep-alive connection left idle, one carrying a request in flight.
      expect((await get(`${running.url}/liveness`, agent)).connection).toBe("keep-alive");
      const held = nextHeld();
      const inFlight = get(`${running.url}/hold`, agent);
      await held;

      let stopped = false;
      const shutdown = running.shutdown().then((outcome) => {
        stopped = true;
        return outcome;
      });
      expect(running.shutdown()).toBe(running.shutdown());

      const probe = await get(`${running.url}/readiness`, new Agent());
      expect(probe.status).toBe(503);
      expect(JSON.parse(probe.body)).toEqual({ status: "draining" });
      expect(probe.connection).toBe("close");
      expect(stopped).toBe(false);

      release();
      const finished = await inFlight;
      expect(finished.status).toBe(200);
      expect(JSON.parse(finished.body)).toEqual({ released: true });
      expect(finished.connection).toBe("close");
      expect(await shutdown).toBe("graceful");
      expect(running.server.listening).toBe(false);
    } finally {
      agent.destroy();
    }
  });

  it("stops at once when nothing is in flight", async () => {
    const { logger } = memoryLogger("server-test");
    const running = await startServer(express(), { port: 0, host: "127.0.0.1", logger, shutdownTimeoutMs: 30_000 });
    const agent = new Agent({ keepAlive: true });
    try {
      await get(`${running.url}/`, agent);
      // The idle keep-alive socket would otherwise hold close() for the 5 s keep-alive timeout, past the test timeout.
      expect(await running.shutdown()).toBe("graceful");
    } finally {
      agent.destroy();
    }
  });

  it("cuts the remaining connections when the drain times out", async () => {
    const { logger, records } = memoryLogger("server-test");
    const readiness = new ReadinessState();
    const { app, nextHeld } = holdingApp(logger, readiness);
    const running = await startServer(app, { port: 0, host: "127.0.0.1", logger, readiness, shutdownTimeoutMs: 50 });
    const held = nextHeld();
    const inFlight = get(`${running.url}/hold`, new Agent());
    await held;
    expect(await running.shutdown()).toBe("forced");
    await expect(inFlight).rejects.toThrow(/socket hang up/);
    expect(records().some((r) => r.message === "Shutdown timed out; closing remaining connections")).toBe(true);
  });
});

describe("runService in a real process", () => {
  const fixture = path.join(__dirname, "fixtures", "held-request-service.js");

  async function startFixture(env: Record<string, string> = {}) {
    const service = startNode(fixture, [], { PORT: "0", ...env });
    const listening = JSON.parse(await service.waitForLine(logMessage("Listening")));
    return { service, url: listening.data.url as string };
  }

  it.each(["SIGTERM", "SIGINT"] as const)(
    "on %s: readiness 503 while draining, the in-flight request completes 200, exit code 0",
    async (signal) => {
      const { service, url } = await startFixture();
      expect((await fetch(`${url}/readiness`)).status).toBe(200);

      const inFlight = fetch(`${url}/hold`);
      await service.waitForLine(logMessage("Holding request"));
      service.child.kill(signal);
      await service.waitForLine(logMessage("Draining"));

      const probe = await fetch(`${url}/readiness`);
      expect(probe.status).toBe(503);
      expect(await probe.json()).toEqual({ status: "draining" });

      expect((await fetch(`${url}/release`)).status).toBe(200);
      const finished = await inFlight;
      expect(finished.status).toBe(200);
      expect(await finished.json()).toEqual({ released: true });

      expect(await service.exited).toEqual({ code: 0, signal: null });
      const stopped = service.lines().map((line) => JSON.parse(line)).find((r) => r.message === "Stopped");
      expect(stopped.data).toEqual({ outcome: "graceful" });
    },
    15_000,
  );

  it("exits 1 when the drain times out (SHUTDOWN_TIMEOUT_MS)", async () => {
    const { service, url } = await startFixture({ SHUTDOWN_TIMEOUT_MS: "50" });
    const inFlight = fetch(`${url}/hold`);
    inFlight.catch(() => undefined);
    await service.waitForLine(logMessage("Holding request"));
    service.child.kill("SIGTERM");
    expect(await service.exited).toEqual({ code: 1, signal: null });
    await expect(inFlight).rejects.toThrow("fetch failed");
  }, 15_000);

  it("refuses to start with a clear logged error and exit code 1 when the app cannot be built", async () => {
    const service = startNode(fixture, [], { PORT: "0", FIXTURE_REFUSE: "1" });
    expect(await service.exited).toEqual({ code: 1, signal: null });
    const [record] = service.lines().map((line) => JSON.parse(line));
    expect(record.level).toBe("ERROR");
    expect(record.message).toBe("Refusing to start: Data file /nowhere/data.json does not exist");
    expect(record.data.name).toBe("DataFileError");
  }, 15_000);

  it("refuses to start on an invalid PORT", async () => {
    const service = startNode(fixture, [], { PORT: "http" });
    expect(await service.exited).toEqual({ code: 1, signal: null });
    expect(JSON.parse(service.lines()[0]).message).toBe(
      'Refusing to start: PORT="http" is invalid: expected an integer from 0 to 65535',
    );
  }, 15_000);
});
