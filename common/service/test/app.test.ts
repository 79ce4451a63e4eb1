import express from "express";
import { get as httpGet } from "node:http";
import { memoryLogger, waitFor } from "@monorepo/testing";
import { createServiceApp, HttpError, ReadinessState, RunningServer, startServer } from "../src";

const { logger, records, clear } = memoryLogger("app-test");

function testRoutes(): express.Router {
  const routes = express.Router();
  routes.post("/echo", (req, res) => {
    res.json({ body: req.body ?? null });
  });
  routes.get("/thrown", () => {
    throw new Error("sync failure");
  });
  routes.get("/rejected", async () => {
    throw new Error("async failure");
  });
  routes.get("/refused", () => {
    throw new HttpError(409, "Already done");
  });
  routes.get("/stall", (_req, res) => {
    res.write("partial");
  });
  routes.get("/items/:id", (req, res) => {
    res.json({ id: req.params.id });
  });
  return routes;
}

let running: RunningServer;
const readiness = new ReadinessState();

beforeAll(async () => {
  const app = createServiceApp({ logger, routes: testRoutes(), readiness, jsonLimit: 1024 });
  running = await startServer(app, { port: 0, host: "127.0.0.1", logger, readiness });
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

  it("rejects a bare JSON string (not an object or array) as malformed", async () => {
    const response = await post("/echo", '"just a string"');
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "Malformed JSON body" });
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

  it("answers unknown routes and methods with 404 JSON", async () => {
    for (const [method, path] of [
      ["GET", "/nowhere"],
      ["DELETE", "/echo"],
    ]) {
      const response = await fetch(`${running.url}${path}`, { method });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: "Not found" });
    }
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
      httpGet(`${running.url}/stall`, (res) => res.once("data", () => (res.destroy(), resolve()))).on("error", reject);
    });
    const aborted = await waitFor(() => records().find((r) => r.message === "Request" && r.data.path === "/stall"));
    expect(aborted.data).toMatchObject({ method: "GET", status: 200, aborted: true });
  });
});
