import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type NodeRun, waitFor } from "@monorepo/testing";
import type { Health } from "../src";
import {
  cacheBytes,
  evictorPid,
  freePorts,
  health,
  liveProcesses,
  refusesConnections,
  request,
  runCli,
  seededBytes,
  sha256,
  waitForAnswer,
} from "./helpers";

/** A fresh machine installs nginx with apt-get inside the first start. */
const START_TIMEOUT_MS = 10 * 60_000;

/** The bound these servers run with: large enough that nothing here is evicted. */
const MAX_SIZE = "64M";

/** Fails with the CLI's whole output: a missing nginx must be loud, not a bare "1 !== 0". */
function expectSuccess(result: NodeRun): void {
  if (result.code !== 0) {
    throw new Error(`CLI exited ${result.code}\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}`);
  }
}

describe("remote cache server (real nginx, Bazel's HTTP cache protocol)", () => {
  let dir: string;
  let readWritePort: number;
  let readOnlyPort: number;
  let readWrite: string;
  let readOnly: string;
  let startArgs: string[];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "remote-cache-test-"));
    [readWritePort, readOnlyPort] = await freePorts(2);
    readWrite = `http://127.0.0.1:${readWritePort}`;
    readOnly = `http://127.0.0.1:${readOnlyPort}`;
    startArgs = ["--dir", dir, "--port", String(readWritePort), "--read-only-port", String(readOnlyPort), "--max-size", MAX_SIZE];
    const started = await runCli(["start", ...startArgs], { timeoutMs: START_TIMEOUT_MS - 10_000 });
    expectSuccess(started);
    expect(started.stdout).toContain(`started: nginx pid`);
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await runCli(["stop", "--dir", dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("stores a CAS blob under its sha256 and serves the same bytes on both ports", async () => {
    const blob = seededBytes("cas blob", 3 * 1024 * 1024 + 17);
    const url = `/cas/${sha256(blob)}`;

    expect((await request("GET", readWrite + url)).status).toBe(404);
    expect((await request("PUT", readWrite + url, { body: blob })).status).toBe(201);
    // Bazel uploads a blob again when it does not know the cache has it.
    expect((await request("PUT", readWrite + url, { body: blob })).status).toBe(204);

    for (const base of [readWrite, readOnly]) {
      const got = await request("GET", base + url);
      expect(got.status).toBe(200);
      expect(got.body.length).toBe(blob.length);
      expect(sha256(got.body)).toBe(sha256(blob));
      const head = await request("HEAD", base + url);
      expect(head.status).toBe(200);
      expect(head.headers["content-length"]).toBe(String(blob.length));
    }
  });

  it("stores an action-cache entry under the action's hash and lets a rerun overwrite it", async () => {
    const actionKey = sha256(seededBytes("action digest input", 512));
    const first = seededBytes("serialized ActionResult v1", 300);
    const second = seededBytes("serialized ActionResult v2", 280);
    const url = `/ac/${actionKey}`;

    expect((await request("PUT", readWrite + url, { body: first })).status).toBe(201);
    expect((await request("GET", readOnly + url)).body.equals(first)).toBe(true);
    expect((await request("PUT", readWrite + url, { body: second })).status).toBe(204);
    const got = await request("GET", readOnly + url);
    expect(got.status).toBe(200);
    expect(got.body.equals(second)).toBe(true);
  });

  it("answers 404 for a miss in either namespace and for paths outside the protocol", async () => {
    const missing = sha256(Buffer.from("never uploaded"));
    for (const base of [readWrite, readOnly]) {
      expect((await request("GET", `${base}/ac/${missing}`)).status).toBe(404);
      expect((await request("GET", `${base}/cas/${missing}`)).status).toBe(404);
      expect((await request("HEAD", `${base}/cas/${missing}`)).status).toBe(404);
      expect((await request("GET", `${base}/cas/`)).status).toBe(404);
    }
    expect((await request("PUT", `${readWrite}/elsewhere/${missing}`, { body: Buffer.from("x") })).status).toBe(404);
  });

  it("takes 8 concurrent uploads of one blob, all succeeding, and keeps its bytes intact", async () => {
    const blob = seededBytes("raced blob", 2 * 1024 * 1024);
    const url = `${readWrite}/cas/${sha256(blob)}`;

    const uploads = await Promise.all(Array.from({ length: 8 }, () => request("PUT", url, { body: blob })));

    const statuses = uploads.map((upload) => upload.status);
    expect(statuses.every((status) => status === 201 || status === 204)).toBe(true);
    const got = await request("GET", url);
    expect(got.status).toBe(200);
    expect(got.body.length).toBe(blob.length);
    expect(sha256(got.body)).toBe(sha256(blob));
    // Every upload went through a temp file renamed into place: none is left behind.
    expect(fs.readdirSync(path.join(dir, "run", "tmp", "body"))).toEqual([]);
  });

  it("refuses writes on the read-only port with 403 and stores nothing, while reads there succeed", async () => {
    const stored = seededBytes("stored through the write port", 1000);
    const storedUrl = `/cas/${sha256(stored)}`;
    expect((await request("PUT", readWrite + storedUrl, { body: stored })).status).toBe(201);

    const refused = seededBytes("a developer's local result", 1000);
    const refusedUrl = `/cas/${sha256(refused)}`;
    expect((await request("PUT", readOnly + refusedUrl, { body: refused })).status).toBe(403);
    expect((await request("PUT", `${readOnly}/ac/${sha256(refused)}`, { body: refused })).status).toBe(403);
    expect((await request("PUT", readOnly + storedUrl, { body: refused })).status).toBe(403);

    expect((await request("GET", readWrite + refusedUrl)).status).toBe(404);
    const read = await request("GET", readOnly + storedUrl);
    expect(read.status).toBe(200);
    expect(read.body.equals(stored)).toBe(true);
  });

  it("answers GET /healthz on both ports with the size used against the bound, and status reports the same", async () => {
    const onDisk = cacheBytes(dir);
    expect(onDisk).toBeGreaterThan(5 * 1024 * 1024);
    // The evictor records the uploads of the tests above a moment after nginx logs them.
    let last: Health | undefined;
    const answer = await waitForAnswer(
      async () => {
        last = await health(readOnly);
        return last.usedBytes === onDisk ? last : undefined;
      },
      30_000,
      () => `/healthz to report the ${onDisk} bytes on disk; last answer ${JSON.stringify(last)}`,
    );
    expect(answer).toMatchObject({
      status: "up",
      maxBytes: 64 * 2 ** 20,
      lowWaterBytes: Math.floor(0.9 * 64 * 2 ** 20),
      evictedEntries: 0,
    });
    expect(answer.entries).toBe(
      fs.readdirSync(path.join(dir, "cache", "cas")).length + fs.readdirSync(path.join(dir, "cache", "ac")).length,
    );
    expect(answer.used).toMatch(/^[\d.]+ MiB of 64 MiB \(\d+%\)$/);
    expect(await health(readWrite)).toEqual(await health(readOnly));
    expect(evictorPid(dir)).toBe(answer.evictorPid);

    const status = await runCli(["status", "--dir", dir]);
    expectSuccess(status);
    expect(status.stdout).toContain(`size: ${answer.used}, ${answer.entries} entries`);
    expect(status.stdout).toContain(`evictor: pid ${answer.evictorPid}`);
    expect(status.stdout).toContain("evicted: 0 entries (0 B)");
  });

  it("treats a second start with the same settings as a no-op and refuses other settings", async () => {
    const pid = fs.readFileSync(path.join(dir, "run", "nginx.pid"), "utf8").trim();

    const again = await runCli(["start", ...startArgs]);
    expectSuccess(again);
    expect(again.stdout).toContain(`already running: nginx pid ${pid}`);

    const [otherPort] = await freePorts(1);
    const changed = await runCli(["start", "--dir", dir, "--port", String(otherPort), "--read-only-port", String(readOnlyPort)]);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain("stop it first");

    const status = await runCli(["status", "--dir", dir]);
    expectSuccess(status);
    expect(status.stdout).toContain(`running: nginx pid ${pid}`);
    expect(status.stdout).toContain(`${readWrite}  answers`);
    expect(status.stdout).toContain(`${readOnly}  answers`);
  });

  it("reports an evictor that died, and a start restarts it while nginx serves on", async () => {
    const evictor = evictorPid(dir);
    process.kill(evictor, "SIGKILL");
    await waitFor(() => liveProcesses(`evictor --dir ${dir}`).length === 0);

    const degraded = await runCli(["status", "--dir", dir]);
    expect(degraded.code).toBe(1);
    expect(degraded.stdout).toContain("evictor: NOT RUNNING");

    const restarted = await runCli(["start", ...startArgs]);
    expectSuccess(restarted);
    expect(restarted.stdout).toContain("already running");
    expect(restarted.stdout).toContain("(restarted: it was not running)");
    const replacement = evictorPid(dir);
    expect(replacement).not.toBe(evictor);
    expect((await health(readOnly)).evictorPid).toBe(replacement);
    expectSuccess(await runCli(["status", "--dir", dir]));

    const second = await runCli(["evictor", "--dir", dir]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`an evictor for ${dir} already runs (pid ${replacement})`);
  });

  it("stops every nginx process it started, frees both ports, and stops idempotently", async () => {
    const master = Number(fs.readFileSync(path.join(dir, "run", "nginx.pid"), "utf8"));
    const evictor = evictorPid(dir);
    const processes = liveProcesses(dir, [master]);
    expect(processes).toContain(master);
    expect(processes).toContain(evictor);
    expect(processes.length).toBeGreaterThanOrEqual(3);

    const stopped = await runCli(["stop", "--dir", dir]);
    expectSuccess(stopped);
    expect(stopped.stdout).toContain(`stopped: nginx pid ${master}, evictor pid ${evictor}`);

    expect(liveProcesses(dir, processes)).toEqual([]);
    expect(await refusesConnections(readWritePort)).toBe(true);
    expect(await refusesConnections(readOnlyPort)).toBe(true);
    expect(fs.existsSync(path.join(dir, "run", "nginx.pid"))).toBe(false);

    const status = await runCli(["status", "--dir", dir]);
    expect(status.code).toBe(3);
    expect(status.stdout).toContain("not running");
    const again = await runCli(["stop", "--dir", dir]);
    expectSuccess(again);
    expect(again.stdout).toContain("not running");
  });
});

describe("remote cache server with --htpasswd", () => {
  let dir: string;
  let readWrite: string;
  let readOnly: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "remote-cache-auth-test-"));
    const [readWritePort, readOnlyPort] = await freePorts(2);
    readWrite = `http://127.0.0.1:${readWritePort}`;
    readOnly = `http://127.0.0.1:${readOnlyPort}`;
    // The {SHA} scheme is what `htpasswd -s` writes.
    const hash = crypto.createHash("sha1").update("ci-password").digest("base64");
    const htpasswd = path.join(dir, "htpasswd");
    fs.writeFileSync(htpasswd, `ci:{SHA}${hash}\n`);
    const started = await runCli(["start", "--dir", dir, "--port", String(readWritePort), "--read-only-port", String(readOnlyPort)], {
      timeoutMs: START_TIMEOUT_MS - 10_000,
      env: { REMOTE_CACHE_HTPASSWD: htpasswd },
    });
    expectSuccess(started);
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await runCli(["stop", "--dir", dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const basic = (user: string, password: string) => ({
    authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
  });

  it("writes only with the right password, and developers still read without one", async () => {
    const blob = seededBytes("authenticated upload", 4096);
    const url = `/cas/${sha256(blob)}`;

    expect((await request("PUT", readWrite + url, { body: blob })).status).toBe(401);
    expect((await request("PUT", readWrite + url, { body: blob, headers: basic("ci", "wrong") })).status).toBe(401);
    expect((await request("GET", readOnly + url)).status).toBe(404);

    expect((await request("PUT", readWrite + url, { body: blob, headers: basic("ci", "ci-password") })).status).toBe(201);
    const read = await request("GET", readOnly + url);
    expect(read.status).toBe(200);
    expect(read.body.equals(blob)).toBe(true);
  });

  it("answers /healthz on the guarded port without a password, for a load balancer", async () => {
    expect((await health(readWrite)).status).toBe("up");
  });
});
