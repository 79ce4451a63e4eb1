import { get as httpGet } from "node:http";
import { memoryLogger, waitFor } from "@monorepo/testing";
import { createServiceApp, HttpError, jsonObjectBody, type RouteTable, type RunningServer, ServiceLifecycle, startServer } from "../src";

const { logger, records, clear } = memoryLogger("app-test");

const routes: RouteTable = {
  "/echo": {
    post: (req, res) => {
      res.json({ body: jsonObjectBody(req) });
    },
  },
  "/thrown": {
    get: () => {
      throw new Error("sync failure");
    },
  },
  "/rejected": {
    get: async () => {
      throw new Error("async failure");
    },
  },
  "/refused": {
    get: () => {
      throw new HttpError(409, "Already done");
    },
  },
  "/stall": {
    get: (_req, res) => {
      res.write("partial");
    },
  },
  "/items/:id": {
    get: (req, res) => {
      res.json({ id: req.params.id });
    },
    put: (req, res) => {
      res.json({ id: req.params.id, body: req.body });
    },
  },
};

let running: RunningServer;
const lifecycle = new ServiceLifecycle();

beforeAll(async () => {
  const app = createServiceApp({ logger, routes, readiness: lifecycle.readiness, jsonLimit: 1024 });
  running = await startServer(app, { port: 0, host: "127.0.0.1", logger, lifecycle });
});
afterAll(() => running.shutdown());
beforeEach(clear);

const post = (path: string, body: string, contentType = "application/json") =>
  fetch(`${running.url}${path}`, { method: "POST", headers: { "content-type": contentType }, body });

describe("createServiceApp", () => {
  it("mounts the health probes and reports readiness from the given state", async () => {
    const ready = await fetch(`${running.url}/readiness`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });
    const alive = await fetch(`${running.url}/liveness`);
    expect(await alive.json()).toEqual({ status: "alive" });
  });

  it("parses JSON bodies for the service's routes", async () => {
    const response = await post("/echo", JSON.stringify({ a: [1, 2] }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ body: { a: [1, 2] } });
  });

  it("answers malformed JSON with 400 JSON, not 500", async () => {
    const response = await post("/echo", '{"a": ');
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    expect(await response.json()).toEqual({ error: "Malformed JSON body" });
  });

  it.each([
    ["null", "null"],
    ["[1]", "an array"],
    ['"just a string"', "a string"],
    ["42", "a number"],
  ])("answers the well-formed JSON %s where an object is expected with a 400 that names what came", async (body, what) => {
    const response = await post("/echo", body);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: `Request body must be a JSON object, not ${what}` });
  });

  it("answers a request without a body with 400 Request body is missing", async () => {
    const response = await fetch(`${running.url}/echo`, { method: "POST" });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "Request body is missing: expected a JSON object" });
  });

  it("answers a body that is not declared as JSON with 415 naming the content type", async () => {
    const plain = await post("/echo", '{"a": 1}', "text/plain");
    expect(plain.status).toBe(415);
    expect(await plain.json()).toEqual({ error: "Content-Type text/plain is not supported: send the body as application/json" });
    // fetch labels a string body text/plain; a Blob without a type goes out with no Content-Type at all.
    const untyped = await fetch(`${running.url}/echo`, { method: "POST", body: new Blob(['{"a": 1}']) });
    expect(untyped.status).toBe(415);
    expect(await untyped.json()).toEqual({ error: "Content-Type is missing: send the body as application/json" });
  });

  it("answers a body over the limit with 413 JSON", async () => {
    const response = await post("/echo", JSON.stringify({ padding: "x".repeat(4096) }));
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error: "Request body too large" });
  });

  it("answers an unsupported body encoding with a 4xx JSON", async () => {
    const response = await fetch(`${running.url}/echo`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "bogus" },
      body: "{}",
    });
    expect(response.status).toBe(415);
    expect(await response.json()).toEqual({ error: 'unsupported content encoding "bogus"' });
  });

  it("answers unknown routes with 404 JSON", async () => {
    for (const method of ["GET", "POST", "DELETE"]) {
      const response = await fetch(`${running.url}/nowhere`, { method });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: "Not found" });
    }
  });

  it("answers an unknown route before reading its body: 404, not 413 or 400", async () => {
    for (const body of [JSON.stringify({ padding: "x".repeat(4096) }), '{"a": ']) {
      const response = await post("/nowhere", body);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: "Not found" });
    }
  });

  it.each([
    ["DELETE", "/echo", "POST, OPTIONS"],
    ["GET", "/echo", "POST, OPTIONS"],
    ["POST", "/items/1", "GET, HEAD, PUT, OPTIONS"],
    ["POST", "/readiness", "GET, HEAD, OPTIONS"],
    ["DELETE", "/liveness", "GET, HEAD, OPTIONS"],
  ])("answers %s %s, a known path with another method, with 405 and Allow: %s", async (method, path, allow) => {
    const response = await fetch(`${running.url}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: method === "GET" ? undefined : "{",
    });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe(allow);
    expect(await response.json()).toEqual({ error: `Method ${method} is not allowed on ${path}; allowed: ${allow}` });
  });

  it("answers OPTIONS on a known path with 204 and Allow, and HEAD like GET without a body", async () => {
    const options = await fetch(`${running.url}/items/1`, { method: "OPTIONS" });
    expect(options.status).toBe(204);
    expect(options.headers.get("allow")).toBe("GET, HEAD, PUT, OPTIONS");
    const head = await fetch(`${running.url}/items/1`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("answers an undecodable path parameter with 400 JSON", async () => {
    const response = await fetch(`${running.url}/items/%E0%A4%A`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "Bad Request" });
  });

  it("turns thrown and rejected errors into 500 JSON without leaking the message, and logs the stack", async () => {
    for (const path of ["/thrown", "/rejected"]) {
      const response = await fetch(`${running.url}${path}`);
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({ error: "Internal server error" });
    }
    const failures = records().filter((r) => r.message === "Request failed");
    expect(failures.map((r) => [r.level, r.data.path, r.data.error.message])).toEqual([
      ["ERROR", "/thrown", "sync failure"],
      ["ERROR", "/rejected", "async failure"],
    ]);
    expect(failures[0].data.error.stack).toContain("app.test");
  });

  it("answers an HttpError with its status and message", async () => {
    const response = await fetch(`${running.url}/refused`);
    expect(response.status).toBe(409);
    expect(await response.json()).toEqual({ error: "Already done" });
  });

  it("logs each request with method, path, status and duration, and health probes as health checks", async () => {
    await (await post("/echo", "{}")).text();
    await (await fetch(`${running.url}/liveness`)).text();
    const logged = records();
    const request = logged.find((r) => r.message === "Request");
    expect(request).toMatchObject({ level: "INFO", data: { method: "POST", path: "/echo", status: 200 } });
    expect(typeof request!.data.durationMs).toBe("number");
    expect(logged.filter((r) => r.message === "Health check").map((r) => r.data.path)).toEqual(["/liveness"]);
    expect(logged.filter((r) => r.message === "Request").map((r) => r.data.path)).toEqual(["/echo"]);
    expect("aborted" in request!.data).toBe(false);
  });

  it("logs a request whose client hung up before the response ended, marked aborted", async () => {
    await new Promise<void>((resolve, reject) => {
      httpGet(`${running.url}/stall`, (res) =>
        res.once("data", () => {
          res.destroy();
          resolve();
        }),
      ).on("error", reject);
    });
    const aborted = await waitFor(() => records().find((r) => r.message === "Request" && r.data.path === "/stall"));
    expect(aborted.data).toMatchObject({ method: "GET", status: 200, aborted: true });
  });
});
