import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { waitFor } from "@monorepo/testing";
import type { Health } from "../src";
import { cacheBytes, freePorts, health, request, runCli, seededBytes, sha256, waitForAnswer } from "./helpers";

/** A fresh machine installs nginx with apt-get inside the first start. */
const START_TIMEOUT_MS = 10 * 60_000;
const KIB = 1024;
const ENTRY_BYTES = 64 * KIB;
/** 32 entries fit; a sweep leaves at most 90%, 28 entries. */
const MAX_BYTES = 2 * 1024 * KIB;
/** How long the evictor may take to catch up with what the test did: a bound on waiting, not a speed asserted. */
const CATCH_UP_MS = 60_000;

interface Entry {
  name: string;
  bytes: Buffer;
}

/** Every fourth an action-cache entry (keyed by an action's hash), the others CAS blobs (keyed by their sha256). */
function entries(label: string, count: number): Entry[] {
  return Array.from({ length: count }, (_, index) => {
    const bytes = seededBytes(`${label} ${index}`, ENTRY_BYTES);
    return { name: index % 4 === 0 ? `ac/${sha256(Buffer.from(`action ${label} ${index}`))}` : `cas/${sha256(bytes)}`, bytes };
  });
}

describe("a cache filled past its bound (real nginx, real uploads)", () => {
  let dir: string;
  let readWrite: string;
  let readOnly: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "remote-cache-eviction-test-"));
    const [readWritePort, readOnlyPort] = await freePorts(2);
    readWrite = `http://127.0.0.1:${readWritePort}`;
    readOnly = `http://127.0.0.1:${readOnlyPort}`;
    const started = await runCli(
      ["start", "--dir", dir, "--port", String(readWritePort), "--read-only-port", String(readOnlyPort), "--max-size", `${MAX_BYTES}`],
      { timeoutMs: START_TIMEOUT_MS - 10_000 },
    );
    if (started.code !== 0) throw new Error(`start exited ${started.code}\n${started.stdout}${started.stderr}`);
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await runCli(["stop", "--dir", dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const file = (entry: Entry) => path.join(dir, "cache", entry.name);
  const mtime = (entry: Entry) => fs.statSync(file(entry)).mtimeMs;

  /** Resolves once /healthz satisfies `done`, failing with the last answer if it never does. */
  async function healthWhen(done: (answer: Health) => boolean, what: string): Promise<Health> {
    let last: Health | undefined;
    return waitForAnswer(
      async () => {
        last = await health(readOnly);
        return done(last) ? last : undefined;
      },
      CATCH_UP_MS,
      () => `${what}; last /healthz: ${JSON.stringify(last)}; on disk: ${cacheBytes(dir)} bytes`,
    );
  }

  it(
    "evicts the least recently used entries, keeps the ones read since, and answers throughout",
    async () => {
      // 24 entries (1.5 MiB), uploaded one after the other.
      const old = entries("old", 24);
      for (const entry of old) expect((await request("PUT", `${readWrite}/${entry.name}`, { body: entry.bytes })).status).toBe(201);
      await healthWhen((answer) => answer.entries === old.length, "the evictor to record the 24 uploads");

      // Six of them read again, the very oldest among them; nginx logs times in milliseconds, so the
      // reads come in a later millisecond than the last upload.
      const newestUpload = Math.max(...old.map(mtime));
      await waitFor(() => Date.now() > newestUpload + 1);
      const read = [0, 5, 10, 13, 17, 22].map((index) => old[index]);
      const unread = old.filter((entry) => !read.includes(entry));
      for (const entry of read) {
        const got = await request("GET", `${readOnly}/${entry.name}`);
        expect(got.status).toBe(200);
        expect(got.body.equals(entry.bytes)).toBe(true);
      }
      const newestUnread = Math.max(...unread.map(mtime));
      await waitFor(() => read.every((entry) => mtime(entry) > newestUnread), CATCH_UP_MS);
      const lastUseOfUnread = new Map(unread.map((entry) => [entry, mtime(entry)]));
      const newestRead = Math.max(...read.map(mtime));
      await waitFor(() => Date.now() > newestRead + 1);

      // While 16 more entries (1 MiB) take the cache to 2.5 MiB, past its 2 MiB bound, a reader keeps
      // asking both ports for their health and a recently read blob.
      let filling = true;
      const answers: string[] = [];
      const reader = (async () => {
        while (filling) {
          const [readOnlyHealth, readWriteHealth, blob] = await Promise.all([
            request("GET", `${readOnly}/healthz`),
            request("GET", `${readWrite}/healthz`),
            request("GET", `${readOnly}/${read[0].name}`),
          ]);
          answers.push(`${readOnlyHealth.status} ${readWriteHealth.status} ${blob.status} ${blob.body.equals(read[0].bytes)}`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })();
      const fresh = entries("fresh", 16);
      try {
        for (const entry of fresh) expect((await request("PUT", `${readWrite}/${entry.name}`, { body: entry.bytes })).status).toBe(201);
        const settled = await healthWhen(
          (answer) => answer.evictedEntries > 0 && answer.usedBytes <= MAX_BYTES && answer.usedBytes === cacheBytes(dir),
          "the cache back under its bound, as measured on disk",
        );
        expect(settled.maxBytes).toBe(MAX_BYTES);
      } finally {
        filling = false;
        await reader;
      }

      expect(answers.length).toBeGreaterThan(0);
      expect(answers.filter((answer) => answer !== "200 200 200 true")).toEqual([]);
      expect(cacheBytes(dir)).toBeLessThanOrEqual(MAX_BYTES);
      // Every entry read since it was uploaded, and every new one, survived; only unread ones went.
      expect([...read, ...fresh].filter((entry) => !fs.existsSync(file(entry)))).toEqual([]);
      const evicted = unread.filter((entry) => !fs.existsSync(file(entry)));
      const kept = unread.filter((entry) => fs.existsSync(file(entry)));
      const final = await health(readOnly);
      expect(evicted.length).toBe(final.evictedEntries);
      expect(final.entries).toBe(old.length + fresh.length - evicted.length);
      // They were the least recently used: none of them was used after any unread entry that stayed.
      expect(Math.max(...evicted.map((entry) => lastUseOfUnread.get(entry)!))).toBeLessThanOrEqual(
        Math.min(...kept.map((entry) => lastUseOfUnread.get(entry)!)),
      );
      for (const entry of evicted) expect((await request("GET", `${readOnly}/${entry.name}`)).status).toBe(404);
      for (const entry of [...read, ...fresh]) {
        const got = await request("GET", `${readOnly}/${entry.name}`);
        expect(got.status).toBe(200);
        expect(got.body.equals(entry.bytes)).toBe(true);
      }
    },
    3 * CATCH_UP_MS,
  );
});
