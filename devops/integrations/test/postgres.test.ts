import { type AddressInfo, createServer } from "node:net";
import { type PostgresServer, startPostgres } from "@monorepo/local-servers";
import { waitFor } from "@monorepo/testing";
import { Client, type ClientConfig } from "pg";
import {
  DEFAULT_SETTINGS,
  DeadlockDetectedError,
  type IntegrationSettings,
  MAINTENANCE_APPLICATION_NAME,
  NotConnectedError,
  PostgresDbClient,
} from "../src/index";

/** initdb writes a whole cluster: seconds on a busy machine. */
const START_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = 60_000;
/** Server statistics are flushed some time after the statement that changed them. */
const STATS_WAIT_MS = 30_000;

let server: PostgresServer;
let admin: Client;
let databaseCount = 0;
const opened: Client[] = [];
const maintenanceClients: PostgresDbClient[] = [];

beforeAll(async () => {
  server = await startPostgres();
  admin = new Client({ connectionString: server.url });
  await admin.connect();
}, START_TIMEOUT_MS);

afterEach(async () => {
  await Promise.all(maintenanceClients.splice(0).map((client) => client.close()));
  await Promise.all(opened.splice(0).map((client) => client.end().catch(() => undefined)));
});

afterAll(async () => {
  await admin?.end();
  await server?.stop();
});

/** A fresh database per test, so that each one sees only its own tables and sessions. */
async function freshDatabase(): Promise<string> {
  const name = `maintenance_test_${++databaseCount}`;
  await admin.query(`CREATE DATABASE ${name}`);
  return `postgres://postgres@127.0.0.1:${server.port}/${name}`;
}

async function session(url: string, config: ClientConfig = {}): Promise<Client> {
  const client = new Client({ connectionString: url, ...config });
  // A session the server terminates reports it here; the test asserts on its queries instead.
  client.on("error", () => undefined);
  await client.connect();
  opened.push(client);
  return client;
}

async function pidOf(client: Client): Promise<number> {
  return (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid;
}

function maintenance(url: string, settings: Partial<IntegrationSettings> = {}) {
  const log: Array<{ message: string; data?: Record<string, unknown> }> = [];
  const client = new PostgresDbClient({ connectionString: url }, { ...DEFAULT_SETTINGS, ...settings }, (message, data) =>
    log.push({ message, data }),
  );
  maintenanceClients.push(client);
  return { client, log };
}

async function one<Row>(client: Client, sql: string, params: unknown[] = []): Promise<Row> {
  return (await client.query(sql, params)).rows[0] as Row;
}

/** Polls the server until `sql` returns a row whose `ok` is true. */
function serverShows(client: Client, sql: string, params: unknown[] = [], timeoutMs = 10_000): Promise<unknown> {
  let pending = false;
  let seen = false;
  let failure: Error | undefined;
  return waitFor(() => {
    if (!seen && !pending) {
      pending = true;
      void client.query(sql, params).then(
        (result) => {
          seen = result.rows[0]?.ok === true;
          pending = false;
        },
        (error: Error) => {
          failure = error;
        },
      );
    }
    if (failure) throw failure;
    return seen;
  }, timeoutMs);
}

/** A row of pg_stat_activity for maintenance's own statement matching `pattern`, in `url`'s database. */
const MAINTENANCE_STATEMENT = `SELECT true AS ok FROM pg_stat_activity
  WHERE application_name = '${MAINTENANCE_APPLICATION_NAME}' AND datname = $1 AND state = 'active' AND query ILIKE $2 AND wait_event_type = 'Lock'`;

/** A port nothing listens on: one the system just handed out and took back. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

const databaseOf = (url: string) => new URL(url).pathname.slice(1);

describe("connecting", () => {
  it("logs the server version, and refuses work before initClient", async () => {
    const url = await freshDatabase();
    const { client, log } = maintenance(url);
    await expect(client.vacuumDatabase()).rejects.toBeInstanceOf(NotConnectedError);
    await client.initClient();
    await client.initClient();
    const version = (await one<{ server_version: string }>(admin, "SHOW server_version")).server_version;
    expect(log.filter((entry) => entry.message === "connected to PostgreSQL")).toEqual([
      { message: "connected to PostgreSQL", data: { serverVersion: version } },
    ]);
  });

  it("fails initClient with the reason when nothing listens", async () => {
    const port = await closedPort();
    const { client } = maintenance(`postgres://postgres@127.0.0.1:${port}/postgres`);
    await expect(client.initClient()).rejects.toThrow(/db.initClient: cannot connect to PostgreSQL \(.*ECONNREFUSED/);
  });
});

describe("vacuumDatabase", () => {
  it(
    "removes dead tuples and analyzes",
    async () => {
      const url = await freshDatabase();
      const user = await session(url);
      await user.query("CREATE TABLE events (id int, payload text) WITH (autovacuum_enabled = off)");
      await user.query("INSERT INTO events SELECT i, repeat('x', 50) FROM generate_series(1, 10000) i");
      await user.query("DELETE FROM events WHERE id % 2 = 0");
      await serverShows(user, "SELECT n_dead_tup >= 5000 AS ok FROM pg_stat_user_tables WHERE relname = 'events'", [], STATS_WAIT_MS);

      const { client } = maintenance(url);
      await client.initClient();
      await client.vacuumDatabase();

      await serverShows(
        user,
        "SELECT n_dead_tup = 0 AND last_vacuum IS NOT NULL AND last_analyze IS NOT NULL AS ok FROM pg_stat_user_tables WHERE relname = 'events'",
        [],
        STATS_WAIT_MS,
      );
      expect(await one(user, "SELECT reltuples FROM pg_class WHERE relname = 'events'")).toEqual({ reltuples: 5000 });
    },
    TEST_TIMEOUT_MS,
  );
});

describe("updateIndexes", () => {
  const indexState = (client: Client, name: string) =>
    one<{ node: number; bytes: string; valid: boolean }>(
      client,
      "SELECT c.relfilenode AS node, pg_relation_size(c.oid) AS bytes, i.indisvalid AS valid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid WHERE c.relname = $1",
      [name],
    );

  it(
    "rebuilds a bloated index concurrently: the table takes writes while the rebuild waits, and a fit index is left alone",
    async () => {
      const url = await freshDatabase();
      const user = await session(url);
      await user.query("CREATE TABLE trades (id int PRIMARY KEY, stock int) WITH (autovacuum_enabled = off)");
      await user.query("INSERT INTO trades SELECT i, i % 500 FROM generate_series(1, 200000) i");
      await user.query("CREATE INDEX trades_stock_idx ON trades (stock)");
      await user.query("CREATE TABLE users (id int PRIMARY KEY)");
      await user.query("INSERT INTO users SELECT generate_series(1, 100000)");
      await user.query("DELETE FROM trades WHERE id > 2000");
      // VACUUM leaves a btree's emptied pages in its file: the index stays its full size for 2,000 rows.
      await user.query("VACUUM (ANALYZE) trades, users");
      const bloated = await indexState(user, "trades_stock_idx");
      const fit = await indexState(user, "users_pkey");

      // An open transaction that wrote to the table: REINDEX CONCURRENTLY must wait for it to end.
      const writer = await session(url);
      await writer.query("BEGIN");
      await writer.query("INSERT INTO trades VALUES (300001, 7)");

      const { client, log } = maintenance(url);
      await client.initClient();
      const rebuilding = client.updateIndexes();
      rebuilding.catch(() => undefined);
      await serverShows(admin, MAINTENANCE_STATEMENT, [databaseOf(url), "REINDEX INDEX CONCURRENTLY%trades%"]);
      // While the rebuild is under way, other sessions still write (a plain REINDEX would block them).
      await user.query("INSERT INTO trades VALUES (300002, 7)");
      await writer.query("COMMIT");
      await rebuilding;

      const rebuilt = await indexState(user, "trades_stock_idx");
      expect(rebuilt.valid).toBe(true);
      expect(rebuilt.node).not.toBe(bloated.node);
      expect(Number(rebuilt.bytes)).toBeLessThan(Number(bloated.bytes) / 4);
      expect(await indexState(user, "users_pkey")).toEqual(fit);
      expect(log).toContainEqual({
        message: "rebuilding index",
        data: { index: "public.trades_stock_idx", reason: "bloated", bytes: Number(bloated.bytes) },
      });
      // Both writes are in the rebuilt index.
      await user.query("SET enable_seqscan = off");
      expect(await one(user, "SELECT count(*)::int AS n FROM trades WHERE stock = 7 AND id > 300000")).toEqual({ n: 2 });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "rebuilds an invalid index, drops the leftover of a cancelled concurrent reindex instead of rebuilding it, and a rerun changes nothing",
    async () => {
      const url = await freshDatabase();
      const user = await session(url);
      await user.query("CREATE TABLE accounts (id int, email text)");
      await user.query("INSERT INTO accounts VALUES (1, 'a@x'), (2, 'a@x'), (3, 'b@x')");
      // A unique index built concurrently over duplicates fails and stays behind, invalid.
      await expect(user.query("CREATE UNIQUE INDEX CONCURRENTLY accounts_email_key ON accounts (email)")).rejects.toThrow(
        /could not create unique index/,
      );
      await user.query("DELETE FROM accounts WHERE id = 2");
      await user.query("CREATE INDEX accounts_id_idx ON accounts (id)");
      // A concurrent reindex that gives up waiting for an open transaction leaves accounts_id_idx_ccnew.
      const writer = await session(url);
      await writer.query("BEGIN");
      await writer.query("INSERT INTO accounts VALUES (4, 'c@x')");
      await user.query("SET lock_timeout = '200ms'");
      await expect(user.query("REINDEX INDEX CONCURRENTLY accounts_id_idx")).rejects.toThrow(/lock timeout/);
      await writer.query("COMMIT");
      const indexes =
        "SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE 'accounts%' ORDER BY 1";
      expect((await user.query(indexes)).rows).toContainEqual({ name: "accounts_id_idx_ccnew", valid: false });
      expect((await user.query(indexes)).rows).toContainEqual({ name: "accounts_email_key", valid: false });
      const fit = await indexState(user, "accounts_id_idx");

      const { client, log } = maintenance(url);
      await client.initClient();
      await client.updateIndexes();

      expect((await user.query(indexes)).rows).toEqual([
        { name: "accounts_email_key", valid: true },
        { name: "accounts_id_idx", valid: true },
      ]);
      expect(await indexState(user, "accounts_id_idx")).toEqual(fit);
      expect(log.flatMap((entry) => entry.data?.index ?? [])).toEqual(["public.accounts_id_idx_ccnew", "public.accounts_email_key"]);
      await expect(user.query("INSERT INTO accounts VALUES (5, 'b@x')")).rejects.toThrow(/duplicate key/);

      const emailIndex = await indexState(user, "accounts_email_key");
      await client.updateIndexes();
      expect(await indexState(user, "accounts_email_key")).toEqual(emailIndex);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "modifyIndexTriggers drops only the leftovers of cancelled concurrent reindexes",
    async () => {
      const url = await freshDatabase();
      const user = await session(url);
      await user.query("CREATE TABLE quotes (id int)");
      await user.query("CREATE INDEX quotes_id_idx ON quotes (id)");
      const writer = await session(url);
      await writer.query("BEGIN");
      await writer.query("INSERT INTO quotes VALUES (1)");
      await user.query("SET lock_timeout = '200ms'");
      await expect(user.query("REINDEX INDEX CONCURRENTLY quotes_id_idx")).rejects.toThrow(/lock timeout/);
      await writer.query("COMMIT");

      const { client } = maintenance(url);
      await client.initClient();
      await client.modifyIndexTriggers();
      const names = (
        await user.query<{ name: string }>("SELECT indexrelid::regclass::text AS name FROM pg_index WHERE indrelid = 'quotes'::regclass")
      ).rows;
      expect(names).toEqual([{ name: "quotes_id_idx" }]);
    },
    TEST_TIMEOUT_MS,
  );
});

describe("stopHungQueries", () => {
  it(
    "stops a hung query and a forgotten transaction, and leaves idle sessions and maintenance's own alone",
    async () => {
      const url = await freshDatabase();
      const user = await session(url);
      await user.query("CREATE TABLE stocks (id int)");

      const hung = await session(url);
      const forgotten = await session(url);
      const [hungPid, forgottenPid] = await Promise.all([pidOf(hung), pidOf(forgotten)]);
      await hung.query("BEGIN");
      await hung.query("LOCK TABLE stocks IN ACCESS EXCLUSIVE MODE");
      const sleeping = hung.query("SELECT pg_sleep(3600)");
      sleeping.catch(() => undefined);
      await forgotten.query("BEGIN");
      await forgotten.query("SELECT 1");
      const idle = await session(url);
      const otherMaintenance = await session(url, { application_name: MAINTENANCE_APPLICATION_NAME });
      const otherMaintenancePid = await pidOf(otherMaintenance);
      const ownLongQuery = otherMaintenance.query("SELECT pg_sleep(3600)");
      ownLongQuery.catch(() => undefined);
      // Every candidate is past the age from the server's own clock before the step runs.
      await serverShows(
        admin,
        `SELECT count(*) = 3 AS ok FROM pg_stat_activity WHERE pid = ANY ($1) AND state_change < now() - interval '1 second'`,
        [[hungPid, forgottenPid, otherMaintenancePid]],
      );

      const { client, log } = maintenance(url, { hungQueryAgeSeconds: 1, hungQueryGraceSeconds: 0.5 });
      await client.initClient();
      await client.stopHungQueries();

      await expect(sleeping).rejects.toMatchObject({ code: "57014" });
      // The lock it held is free.
      await user.query("SET lock_timeout = '1s'");
      await user.query("INSERT INTO stocks VALUES (1)");
      await expect(forgotten.query("SELECT 1")).rejects.toThrow();
      await expect(idle.query("SELECT 1 AS alive")).resolves.toMatchObject({ rows: [{ alive: 1 }] });
      expect(await one(admin, "SELECT state FROM pg_stat_activity WHERE pid = $1", [otherMaintenancePid])).toEqual({ state: "active" });
      expect(log).toContainEqual({ message: "terminated sessions that outlived the cancel", data: { pids: [forgottenPid] } });
      expect(log.find((entry) => entry.message === "cancelled hung queries")?.data?.pids).toEqual(
        expect.arrayContaining([hungPid, forgottenPid]),
      );
      // Maintenance's own client still works.
      await client.vacuumDatabase();
      await admin.query("SELECT pg_cancel_backend($1)", [otherMaintenancePid]);
      await expect(ownLongQuery).rejects.toMatchObject({ code: "57014" });
    },
    TEST_TIMEOUT_MS,
  );
});

describe("checkForDeadlocks", () => {
  it(
    "passes when nobody waits, fails with DeadlockDetectedError when a session is blocked past the limit, passes after stopHungQueries",
    async () => {
      const url = await freshDatabase();
      const user = await session(url);
      await user.query("CREATE TABLE orders (id int)");
      const { client, log } = maintenance(url, { lockWaitLimitSeconds: 1, hungQueryAgeSeconds: 1, hungQueryGraceSeconds: 0.5 });
      await client.initClient();
      await client.checkForDeadlocks();

      const holder = await session(url);
      const holderPid = await pidOf(holder);
      await holder.query("BEGIN");
      await holder.query("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE");
      const waiter = await session(url);
      const waiterPid = await pidOf(waiter);
      const waiting = waiter.query("INSERT INTO orders VALUES (1)");
      waiting.catch(() => undefined);
      await serverShows(
        admin,
        "SELECT true AS ok FROM pg_locks WHERE pid = $1 AND NOT granted AND waitstart < now() - interval '1 second'",
        [waiterPid],
      );

      await expect(client.checkForDeadlocks()).rejects.toBeInstanceOf(DeadlockDetectedError);
      const blocked = log.find((entry) => entry.message === "sessions blocked by others beyond the lock-wait limit");
      expect(blocked?.data?.sessions).toEqual([expect.objectContaining({ pid: waiterPid, blockedBy: [holderPid] })]);

      await client.stopHungQueries();
      await client.checkForDeadlocks();
    },
    TEST_TIMEOUT_MS,
  );
});

describe("an aborted step", () => {
  it(
    "cancels its statement on the server, not only the promise",
    async () => {
      const url = await freshDatabase();
      const user = await session(url);
      await user.query("CREATE TABLE ledger (id int)");
      const holder = await session(url);
      await holder.query("BEGIN");
      await holder.query("LOCK TABLE ledger IN SHARE UPDATE EXCLUSIVE MODE");

      const { client } = maintenance(url);
      await client.initClient();
      const controller = new AbortController();
      const vacuum = client.vacuumDatabase({ signal: controller.signal });
      vacuum.catch(() => undefined);
      await serverShows(admin, MAINTENANCE_STATEMENT, [databaseOf(url), "VACUUM%"]);
      const reason = new Error("step timed out");
      controller.abort(reason);
      await expect(vacuum).rejects.toBe(reason);
      // Left alone, the VACUUM would wait for the lock for the lock-wait limit (a minute).
      await serverShows(
        admin,
        `SELECT count(*) = 0 AS ok FROM pg_stat_activity WHERE application_name = '${MAINTENANCE_APPLICATION_NAME}' AND datname = $1 AND state = 'active' AND query ILIKE 'VACUUM%'`,
        [databaseOf(url)],
      );
      await holder.query("COMMIT");
    },
    TEST_TIMEOUT_MS,
  );
});
