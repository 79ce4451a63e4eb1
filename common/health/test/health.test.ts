import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { memoryLogger } from "@monorepo/testing";
import express from "express";
import { healthLoggingMiddleware, ReadinessState, registerHealthChecks } from "../src";

interface Started {
  url: string;
  close(): Promise<void>;
}

async function listen(app: express.Express): Promise<Started> {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

describe("ReadinessState", () => {
  it("starts as starting, becomes ready, then draining for good", () => {
    const state = new ReadinessState();
    expect(state.status).toBe("starting");
    expect(state.isReady).toBe(false);
    state.markReady();
    expect(state.status).toBe("ready");
    expect(state.isReady).toBe(true);
    state.markDraining();
    state.markReady();
    expect(state.status).toBe("draining");
    expect(state.isReady).toBe(false);
  });
});

describe("registerHealthChecks", () => {
  let server: Started;
  const state = new ReadinessState();

  beforeAll(async () => {
    const app = express();
    registerHealthChecks(app, state);
    server = await listen(app);
  });
  afterAll(() => server.close());

  it("answers 503 starting, 200 ready, 503 draining as the state flips", async () => {
    const starting = await fetch(`${server.url}/readiness`);
    expect(starting.status).toBe(503);
    expect(await starting.json()).toEqual({ status: "starting" });

    state.markReady();
    const ready = await fetch(`${server.url}/readiness`);
    expect(ready.status).toBe(200);
    expect(ready.headers.get("content-type")).toMatch(/application\/json/);
    expect(ready.headers.get("cache-control")).toBe("no-store");
    expect(await ready.json()).toEqual({ status: "ready" });

    state.markDraining();
    const draining = await fetch(`${server.url}/readiness`);
    expect(draining.status).toBe(503);
    expect(await draining.json()).toEqual({ status: "draining" });
  });

  it("keeps liveness 200 alive whatever readiness says", async () => {
    const response = await fetch(`${server.url}/liveness`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "alive" });
  });

  it("counts a service without a state as ready", async () => {
    const app = express();
    registerHealthChecks(app);
    const plain = await listen(app);
    try {
      const response = await fetch(`${plain.url}/readiness`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: "ready" });
    } finally {
      await plain.close();
    }
  });
});

describe("healthLoggingMiddleware", () => {
  it("logs each health request with status and duration, and nothing else", async () => {
    const { logger, records } = memoryLogger("health-test");
    const app = express();
    app.use(healthLoggingMiddleware(logger));
    registerHealthChecks(app, new ReadinessState("starting"));
    app.get("/other", (_req, res) => {
      res.json({ ok: true });
    });
    const server = await listen(app);
    try {
      await (await fetch(`${server.url}/liveness`)).text();
      await (await fetch(`${server.url}/readiness`)).text();
      await (await fetch(`${server.url}/other`)).text();
    } finally {
      await server.close();
    }

    const logged = records();
    expect(logged.map((r) => [r.message, r.data.path, r.data.status])).toEqual([
      ["Health check", "/liveness", 200],
      ["Health check", "/readiness", 503],
    ]);
    for (const record of logged) {
      expect(record).toMatchObject({ level: "INFO", context: "health-test", data: { method: "GET" } });
      expect(typeof record.data.durationMs).toBe("number");
      expect(record.data.durationMs).toBeGreaterThanOrEqual(0);
    }
  });
});
