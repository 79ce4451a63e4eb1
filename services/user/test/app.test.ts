import { promises as fsp, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { DataFileError, type RunningServer, startServer } from "@monorepo/service";
import { memoryLogger } from "@monorepo/testing";
import { createApp, DEFAULT_USER_DATA_FILE, parseUsers, type Users } from "../src";

const users: Users = {
  "1": { id: "1", name: "Ada", email: "ada@example.com", role: "admin" },
  "7": { id: "7", name: "Grace", email: "grace@example.com", role: "trader" },
};

let running: RunningServer;
const { logger, records } = memoryLogger("user-test");

beforeAll(async () => {
  running = await startServer(createApp({ users, logger }), { port: 0, host: "127.0.0.1", logger });
});
afterAll(() => running.shutdown());

const get = (route: string) => fetch(`${running.url}${route}`);

describe("user service routes", () => {
  it("GET / describes the API", async () => {
    const response = await get("/");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ message: "User Service API" });
  });

  it("GET /users returns the whole object keyed by id", async () => {
    const response = await get("/users");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(users);
  });

  it("GET /users/:id returns that user", async () => {
    const response = await get("/users/7");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(users["7"]);
  });

  it.each(["999", "__proto__", "constructor", "hasOwnProperty"])("GET /users/%s is 404 User not found", async (id) => {
    const response = await get(`/users/${id}`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: "User not found" });
  });

  it("answers the health probes", async () => {
    const ready = await get("/readiness");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });
    const alive = await get("/liveness");
    expect(alive.status).toBe(200);
    expect(await alive.json()).toEqual({ status: "alive" });
  });

  it("answers unknown routes with 404 JSON", async () => {
    for (const method of ["GET", "POST"]) {
      const response = await fetch(`${running.url}/accounts`, { method });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: "Not found" });
    }
  });

  it.each([
    ["DELETE", "/users/1"],
    ["PUT", "/users/1"],
    ["POST", "/users"],
    ["POST", "/"],
  ])("answers %s %s with 405 and Allow: GET, HEAD, OPTIONS, before reading any body", async (method, route) => {
    // Neither malformed nor oversized: the body is never parsed.
    for (const body of ["{not json", JSON.stringify({ blob: "x".repeat(200_000) })]) {
      const response = await fetch(`${running.url}${route}`, { method, headers: { "content-type": "application/json" }, body });
      expect(response.status).toBe(405);
      expect(response.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
      expect(await response.json()).toEqual({ error: `Method ${method} is not allowed on ${route}; allowed: GET, HEAD, OPTIONS` });
    }
  });

  it("answers a path it cannot decode with 400 JSON", async () => {
    const response = await get("/users/%E0%A4%A");
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "Bad Request" });
  });

  it("logs requests through the injected logger", async () => {
    await (await get("/users/1")).text();
    expect(records().some((r) => r.message === "Request" && r.data.path === "/users/1" && r.data.status === 200)).toBe(true);
  });
});

describe("createApp with a data file", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "user-service-"));
  });
  afterEach(() => fsp.rm(dir, { recursive: true, force: true }));

  it("serves the users of the file", async () => {
    const file = path.join(dir, "user.json");
    writeFileSync(file, JSON.stringify(users));
    const { logger: fileLogger, records: fileRecords } = memoryLogger();
    const server = await startServer(createApp({ dataFile: file, logger: fileLogger }), {
      port: 0,
      host: "127.0.0.1",
      logger: fileLogger,
    });
    try {
      expect(await (await fetch(`${server.url}/users/1`)).json()).toEqual(users["1"]);
      expect(fileRecords().find((r) => r.message === "Loaded users")?.data).toEqual({ file, count: 2 });
    } finally {
      await server.shutdown();
    }
  });

  it.each([
    ["is missing", undefined, /does not exist/],
    ["is corrupt", '{"1": {"id": "1", ', /is not valid JSON/],
    ["is not keyed by id", JSON.stringify({ "1": { ...users["7"] } }), /has id "7"; the key must be its id/],
  ])("refuses a file that %s with a DataFileError", (_case, content, reason) => {
    const file = path.join(dir, "user.json");
    if (content !== undefined) writeFileSync(file, content);
    expect(() => createApp({ dataFile: file, logger })).toThrow(DataFileError);
    expect(() => createApp({ dataFile: file, logger })).toThrow(reason);
  });
});

describe("parseUsers", () => {
  it.each([
    ["an array", [], /expected an object of users keyed by id/],
    ["a non-object user", { "1": "Ada" }, /user "1" is not an object/],
    ["a user without email", { "1": { id: "1", name: "Ada", role: "admin" } }, /user "1" has no string email/],
  ])("rejects %s", (_case, value, message) => {
    expect(() => parseUsers(value)).toThrow(message);
  });
});

describe("the package's user.json", () => {
  it("is the package's own file and holds users 1..5 with id, name, email, role", () => {
    // As the module resolver finds it: under Bazel the test runs from the runfiles tree while the module is loaded from the output tree.
    expect(DEFAULT_USER_DATA_FILE).toBe(require.resolve("../../user.json"));
    const { logger: quiet } = memoryLogger();
    expect(() => createApp({ dataFile: DEFAULT_USER_DATA_FILE, logger: quiet })).not.toThrow();
    const bundled = parseUsers(require(DEFAULT_USER_DATA_FILE));
    expect(Object.keys(bundled)).toEqual(["1", "2", "3", "4", "5"]);
  });
});
