import { Agent, request } from "node:http";
import { createServer } from "node:net";
import type { Logger } from "@monorepo/logger";
import { logMessage, memoryLogger, startNode, waitFor } from "@monorepo/testing";
import express from "express";
import { createServiceApp, ServiceLifecycle, ShuttingDownError, startServer } from "../src";

/**
 * An app whose GET /hold waits until release() is called, so a request stays in flight on demand,
 * and whose GET /commit runs a lifecycle commit that ends when finishCommit() is called.
 */
function holdingApp(logger: Logger, lifecycle: ServiceLifecycle) {
  const held: Array<() => void> = [];
  let onHeld: (() => void) | undefined;
  let finishCommit: (() => void) | undefined;
  const app = createServiceApp({
    logger,
    readiness: lifecycle.readiness,
    routes: {
      "/hold": {
        get: async (_req, res) => {
          await new Promise<void>((resolve) => {
            held.push(resolve);
            onHeld?.();
          });
          res.json({ released: true });
        },
      },
      "/commit": {
        get: async (_req, res) => {
          await lifecycle.commit(() => new Promise<void>((resolve) => (finishCommit = resolve)));
          res.json({ committed: true });
        },
      },
    },
  });
  return {
    app,
    committing: () => finishCommit !== undefined,
    finishCommit: () => finishCommit!(),
    /** Resolves once a /hold request is being held. */
    nextHeld: () => new Promise<void>((resolve) => (onHeld = resolve)),
    release: () => {
      for (const release of held.splice(0)) release();
    },
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

describe("startServer", () => {
  it("marks the service ready once listening and reports its URL", async () => {
    const { logger, records } = memoryLogger("server-test");
    const lifecycle = new ServiceLifecycle();
    const { app } = holdingApp(logger, lifecycle);
    const running = await startServer(app, { port: 0, host: "127.0.0.1", logger, lifecycle });
    try {
      expect(lifecycle.readiness.status).toBe("ready");
      expect(running.url).toBe(`http://127.0.0.1:${running.port}`);
      expect(records().find((r) => r.message === "Listening")?.data).toEqual({ host: "127.0.0.1", port: running.port, url: running.url });
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

  it("listens on loopback only when no host is given", async () => {
    const { logger } = memoryLogger("server-test");
    const running = await startServer(express(), { port: 0, logger });
    try {
      expect(running.host).toBe("127.0.0.1");
      expect(running.server.address()).toMatchObject({ address: "127.0.0.1", port: running.port });
    } finally {
      await running.shutdown();
    }
  });

  it("drains: readiness 503, the in-flight request finishes, idle keep-alive connections close, then it stops", async () => {
    const { logger } = memoryLogger("server-test");
    const lifecycle = new ServiceLifecycle();
    const { app, nextHeld, release } = holdingApp(logger, lifecycle);
    const running = await startServer(app, { port: 0, host: "127.0.0.1", logger, lifecycle, shutdownTimeoutMs: 30_000 });
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
      expect(lifecycle.draining.aborted).toBe(true);
      expect(lifecycle.draining.reason).toBeInstanceOf(ShuttingDownError);
      expect(lifecycle.deadline.aborted).toBe(false);

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
    const lifecycle = new ServiceLifecycle();
    const { app, nextHeld } = holdingApp(logger, lifecycle);
    const running = await startServer(app, { port: 0, host: "127.0.0.1", logger, lifecycle, shutdownTimeoutMs: 50 });
    const held = nextHeld();
    const inFlight = get(`${running.url}/hold`, new Agent());
    await held;
    expect(await running.shutdown()).toBe("forced");
    expect(lifecycle.deadline.aborted).toBe(true);
    await expect(inFlight).rejects.toThrow(/socket hang up/);
    expect(records().find((r) => r.message === "Closing the remaining connections")?.data).toEqual({ unanswered: 1 });
  });

  it("at the drain limit, waits for the commit in progress and delivers its answer before cutting the rest", async () => {
    const { logger } = memoryLogger("server-test");
    const lifecycle = new ServiceLifecycle();
    const { app, nextHeld, committing, finishCommit } = holdingApp(logger, lifecycle);
    const running = await startServer(app, { port: 0, host: "127.0.0.1", logger, lifecycle, shutdownTimeoutMs: 50 });
    const held = nextHeld();
    const plain = get(`${running.url}/hold`, new Agent());
    plain.catch(() => undefined);
    await held;
    const commit = get(`${running.url}/commit`, new Agent());
    await waitFor(committing);

    let stopped = false;
    const shutdown = running.shutdown().then((outcome) => {
      stopped = true;
      return outcome;
    });
    // The deadline has passed, yet the server waits for the commit rather than cutting its connection.
    await waitFor(() => lifecycle.deadline.aborted);
    expect(stopped).toBe(false);
    finishCommit();

    const answered = await commit;
    expect(answered.status).toBe(200);
    expect(JSON.parse(answered.body)).toEqual({ committed: true });
    expect(await shutdown).toBe("forced");
    await expect(plain).rejects.toThrow(/socket hang up/);
  });
});

describe("ServiceLifecycle", () => {
  it("refuses a commit once the deadline has passed, with a ShuttingDownError", async () => {
    const lifecycle = new ServiceLifecycle();
    let ran = false;
    await lifecycle.reachDeadline();
    expect(lifecycle.readiness.status).toBe("draining");
    await expect(lifecycle.commit(async () => (ran = true))).rejects.toBeInstanceOf(ShuttingDownError);
    expect(ran).toBe(false);
  });
});

describe("runService in a real process", () => {
  const fixture = require.resolve("./fixtures/held-request-service");

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
      const stopped = service
        .lines()
        .map((line) => JSON.parse(line))
        .find((r) => r.message === "Stopped");
      expect(stopped.data).toEqual({ outcome: "graceful" });
    },
    15_000,
  );

  it("ignores further signals during the drain, so the request in flight still completes and it exits 0", async () => {
    const { service, url } = await startFixture();
    const inFlight = fetch(`${url}/hold`);
    await service.waitForLine(logMessage("Holding request"));
    // What one Ctrl-C under pnpm delivers: the terminal's SIGINT, then pnpm's SIGINT and SIGTERM.
    // One at a time: two pending signals of one kind would merge into one.
    const ignored = () => service.lines().filter(logMessage("Already shutting down; signal ignored")).length;
    service.child.kill("SIGINT");
    await service.waitForLine(logMessage("Draining"));
    service.child.kill("SIGINT");
    await waitFor(() => ignored() === 1);
    service.child.kill("SIGTERM");
    await waitFor(() => ignored() === 2);

    expect((await fetch(`${url}/release`)).status).toBe(200);
    expect((await inFlight).status).toBe(200);
    expect(await service.exited).toEqual({ code: 0, signal: null });
  }, 15_000);

  it("exits 3 when the drain limit (SHUTDOWN_TIMEOUT_MS) cuts a request", async () => {
    const { service, url } = await startFixture({ SHUTDOWN_TIMEOUT_MS: "50" });
    const inFlight = fetch(`${url}/hold`);
    inFlight.catch(() => undefined);
    await service.waitForLine(logMessage("Holding request"));
    service.child.kill("SIGTERM");
    expect(await service.exited).toEqual({ code: 3, signal: null });
    await expect(inFlight).rejects.toThrow("fetch failed");
  }, 15_000);

  it("listens on 127.0.0.1 when HOST is unset, and on the given address otherwise", async () => {
    const unset = await startFixture({ HOST: "" });
    expect(JSON.parse(unset.service.lines().find(logMessage("Listening"))!).data.host).toBe("127.0.0.1");
    unset.service.child.kill("SIGTERM");
    expect((await unset.service.exited).code).toBe(0);

    const every = await startFixture({ HOST: "0.0.0.0" });
    const listening = JSON.parse(every.service.lines().find(logMessage("Listening"))!).data;
    expect(listening).toMatchObject({ host: "0.0.0.0", url: `http://127.0.0.1:${listening.port}` });
    expect((await fetch(`${every.url}/liveness`)).status).toBe(200);
    every.service.child.kill("SIGTERM");
    expect((await every.service.exited).code).toBe(0);
  }, 15_000);

  /** A start that fails: the exit code, and the one line it printed (and nothing on stderr). */
  async function failedStart(env: Record<string, string>) {
    const service = startNode(fixture, [], { PORT: "0", ...env });
    // "close", not "exit": only then has all of its output been read.
    await new Promise((resolve) => service.child.once("close", resolve));
    const exit = await service.exited;
    const lines = service.lines();
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]);
    expect(record.level).toBe("ERROR");
    expect(JSON.stringify(record)).not.toContain("    at ");
    return { exit, record, stderr: service.stderr() };
  }

  it("refuses to start with one clear line and exit code 1 when the app cannot be built", async () => {
    const { exit, record, stderr } = await failedStart({ FIXTURE_REFUSE: "1" });
    expect(exit).toEqual({ code: 1, signal: null });
    expect(record.message).toBe("Refusing to start: Data file /nowhere/data.json does not exist");
    expect(record.data).toEqual({ error: "DataFileError" });
    expect(stderr).toBe("");
  }, 15_000);

  it.each([
    ["PORT", "http", 'Refusing to start: PORT="http" is invalid: expected an integer from 0 to 65535'],
    [
      "HOST",
      "not a host",
      'Refusing to start: HOST="not a host" is invalid: expected an IP address (0.0.0.0 or :: for every interface) or a host name',
    ],
    ["SHUTDOWN_TIMEOUT_MS", "soon", 'Refusing to start: SHUTDOWN_TIMEOUT_MS="soon" is invalid: expected an integer from 0 to 3600000'],
  ])(
    "refuses to start on an invalid %s with one line and exit code 2",
    async (name, value, message) => {
      const { exit, record } = await failedStart({ [name]: value });
      expect(exit).toEqual({ code: 2, signal: null });
      expect(record.message).toBe(message);
    },
    15_000,
  );

  it("refuses to start with one line naming the address when the port is taken", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const { exit, record } = await failedStart({ PORT: String(port) });
      expect(exit).toEqual({ code: 1, signal: null });
      expect(record.message).toBe(
        `Refusing to start: 127.0.0.1:${port} is already in use (EADDRINUSE): stop what listens there or set PORT`,
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  }, 15_000);
});
