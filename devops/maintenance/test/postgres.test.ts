import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createIntegrations } from "@monorepo/integrations";
import { type PostgresServer, startPostgres } from "@monorepo/local-servers";
import { waitFor } from "@monorepo/testing";
import { Client } from "pg";
import type { JournalContent, MaintenanceReport } from "../src/index";
import { runInProcess, spawnCli, tempDir } from "./helpers";

/** initdb writes a whole cluster: seconds on a busy machine. */
const START_TIMEOUT_MS = 120_000;
/** A failing step is tried seven times with backoff up to 4 s, then its subsystem's cleanup is too. */
const FAILING_RUN_TIMEOUT_MS = 180_000;
/** Two runs of every db step plus an interrupt and its cleanup, on a busy machine. */
const RERUN_TIMEOUT_MS = 180_000;

async function connect(url: string): Promise<Client> {
  const client = new Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

/** Polls the server until `sql` returns a row (statistics, say, which the server updates some time after the change). */
function serverShows(client: Client, sql: string, timeoutMs = 30_000): Promise<unknown> {
  let found = false;
  let asking = false;
  return waitFor(() => {
    if (!found && !asking) {
      asking = true;
      void client.query(sql).then(
        (result) => {
          found = result.rows.length > 0;
          asking = false;
        },
        () => undefined,
      );
    }
    return found;
  }, timeoutMs);
}

describe("maintenance against a real PostgreSQL (DATABASE_URL)", () => {
  let server: PostgresServer;
  let admin: Client;

  beforeAll(async () => {
    server = await startPostgres();
    admin = await connect(server.url);
    await admin.query("CREATE TABLE positions (id int, stock int) WITH (autovacuum_enabled = off)");
    await admin.query("INSERT INTO positions SELECT i, i % 10 FROM generate_series(1, 5000) i");
    await admin.query("DELETE FROM positions WHERE id % 2 = 0");
    await serverShows(admin, "SELECT 1 FROM pg_stat_user_tables WHERE relname = 'positions' AND n_dead_tup >= 2500");
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await admin?.end();
    await server?.stop();
  });

  it("--dry-run names the real and the simulated subsystems", async () => {
    const result = await runInProcess(
      ["--dry-run"],
      { DATABASE_URL: server.url, XDG_STATE_HOME: tempDir() },
      { createClients: createIntegrations },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `Backends: db real (PostgreSQL at 127.0.0.1:${server.port}/postgres); kafka simulated (no real client); s3 simulated (set MAINTENANCE_S3_BUCKET with the AWS SDK's variables for a real one).`,
    );
  });

  it(
    "runs the db steps for real in a child process, says so in its summary, and vacuums the table",
    async () => {
      const state = tempDir();
      const result = await spawnCli(["--only", "db", "--json", join(state, "report.json")], {
        DATABASE_URL: server.url,
        XDG_STATE_HOME: state,
      });
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Backends: db real (PostgreSQL at 127.0.0.1:${server.port}/postgres).`);
      expect(result.stdout).toMatch(/"message":"connected to PostgreSQL","data":\{"serverVersion":"\d+/);
      const report = JSON.parse(readFileSync(join(state, "report.json"), "utf8")) as MaintenanceReport;
      expect(report.backends).toEqual({ db: { real: true, description: `PostgreSQL at 127.0.0.1:${server.port}/postgres` } });
      await serverShows(
        admin,
        "SELECT 1 FROM pg_stat_user_tables WHERE relname = 'positions' AND n_dead_tup = 0 AND last_vacuum IS NOT NULL",
      );
    },
    START_TIMEOUT_MS,
  );

  it("rejects a DATABASE_URL that is not a postgres URL as a usage error, before anything runs", async () => {
    const state = tempDir();
    const result = await runInProcess([], { DATABASE_URL: "mysql://db/app", XDG_STATE_HOME: state }, { createClients: createIntegrations });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^maintenance: DATABASE_URL is a mysql:\/\/ URL: use postgres:\/\/user:password@host:port\/database/);
  });
});

describe("a PostgreSQL server that goes away mid-step", () => {
  it(
    "fails the step after its retries, runs the db cleanup, and does not record the step as done",
    async () => {
      const server = await startPostgres();
      try {
        const holder = await connect(server.url);
        const observer = await connect(server.url);
        await holder.query("CREATE TABLE ledger (id int)");
        // VACUUM waits for this lock, so the server goes away while the step is running.
        await holder.query("BEGIN");
        await holder.query("LOCK TABLE ledger IN SHARE UPDATE EXCLUSIVE MODE");

        const state = tempDir();
        const journal = join(state, "journal.json");
        const run = runInProcess(
          ["--only", "db", "--journal", journal, "--json", join(state, "report.json")],
          { DATABASE_URL: server.url, XDG_STATE_HOME: state },
          { createClients: createIntegrations },
        );
        await serverShows(
          observer,
          "SELECT 1 FROM pg_stat_activity WHERE application_name = 'acme-maintenance' AND query LIKE 'VACUUM%' AND wait_event_type = 'Lock'",
        );
        await server.stop();

        const result = await run;
        expect(result.code).toBe(1);
        const report = JSON.parse(readFileSync(join(state, "report.json"), "utf8")) as MaintenanceReport;
        const step = (id: string) => report.steps.find((candidate) => candidate.id === id)!;
        expect(step("db.vacuumDatabase")).toMatchObject({ status: "failed", attempts: 7 });
        expect(step("db.vacuumDatabase").errors.at(-1)).toMatch(/cannot connect to PostgreSQL .*ECONNREFUSED/);
        expect(step("db.checkForDeadlocks").status).toBe("blocked");
        expect(report.results.db).toMatchObject({ status: "failed", failedStep: "db.vacuumDatabase", cleanup: { status: "failed" } });
        const saved = JSON.parse(readFileSync(journal, "utf8")) as { completed: Record<string, unknown> };
        expect(Object.keys(saved.completed).sort()).toEqual(["db.initClient", "db.modifyIndexTriggers", "db.updateIndexes"]);
      } finally {
        await server.stop();
      }
    },
    FAILING_RUN_TIMEOUT_MS,
  );
});

describe("a run interrupted by Ctrl-C and run again", () => {
  let server: PostgresServer | undefined;
  let child: ChildProcess | undefined;
  const clients: Client[] = [];

  afterEach(async () => {
    // A run left behind by a failed assertion.
    if (child?.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    for (const client of clients.splice(0)) await client.end();
    await server?.stop();
  });

  it(
    "resumes from the journal: the rerun repeats none of the vacuum and reindex the first run did, and runs the rest",
    async () => {
      server = await startPostgres();
      const admin = await connect(server.url);
      const holder = await connect(server.url);
      clients.push(admin, holder);
      const counters = async () =>
        (
          await admin.query<{ vacuums: string; analyzes: string; relfilenode: number; valid: boolean }>(
            `SELECT t.vacuum_count AS vacuums, t.analyze_count AS analyzes, c.relfilenode, i.indisvalid AS valid
               FROM pg_stat_user_tables t, pg_class c JOIN pg_index i ON i.indexrelid = c.oid
              WHERE t.relname = 'accounts' AND c.relname = 'accounts_id_key'`,
          )
        ).rows[0];

      // A unique index whose concurrent build failed on a duplicate stays behind invalid: updateIndexes rebuilds it.
      await admin.query("CREATE TABLE accounts (id int) WITH (autovacuum_enabled = off)");
      await admin.query("INSERT INTO accounts VALUES (1), (2), (2)");
      await expect(admin.query("CREATE UNIQUE INDEX CONCURRENTLY accounts_id_key ON accounts (id)")).rejects.toThrow(
        /could not create unique index/,
      );
      await admin.query("DELETE FROM accounts WHERE ctid = '(0,3)'");
      const before = await counters();
      expect(before).toMatchObject({ vacuums: "0", analyzes: "0", valid: false });

      // checkForDeadlocks reads pg_locks: while this lock is held its statement waits, so the run is
      // certain to be inside that step, with every earlier one done, when it is interrupted.
      await holder.query("BEGIN");
      await holder.query("LOCK TABLE pg_catalog.pg_locks IN ACCESS EXCLUSIVE MODE");

      const state = tempDir();
      const journal = join(state, "journal.json");
      const env = { DATABASE_URL: server.url, XDG_STATE_HOME: state };
      const readReport = (name: string) => JSON.parse(readFileSync(join(state, name), "utf8")) as MaintenanceReport;
      let output = "";
      const interrupted = spawnCli(["--only", "db", "--journal", journal, "--json", join(state, "first.json")], env, (started) => {
        child = started;
        started.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
      });
      await serverShows(
        admin,
        `SELECT 1 FROM pg_stat_activity WHERE application_name = 'acme-maintenance' AND query LIKE '%pg_blocking_pids%' AND wait_event_type = 'Lock'`,
      );
      const saved = JSON.parse(readFileSync(journal, "utf8")) as JournalContent;
      expect(Object.keys(saved.completed).sort()).toEqual([
        "db.initClient",
        "db.modifyIndexTriggers",
        "db.updateIndexes",
        "db.vacuumDatabase",
      ]);
      child!.kill("SIGINT");
      // The step is over once the cleanup starts; the cleanup's own deadlock check needs the lock back.
      await waitFor(() => output.includes('"message":"cleanup started"'), 60_000);
      await holder.query("COMMIT");

      const first = await interrupted;
      expect(first.code).toBe(130);
      const firstReport = readReport("first.json");
      expect(firstReport.steps.find((step) => step.id === "db.checkForDeadlocks")?.status).toBe("interrupted");
      const left = JSON.parse(readFileSync(journal, "utf8")) as JournalContent;
      expect(left.lastRun).toBe("interrupted");
      // The first run vacuumed and analyzed the table once and rebuilt the index (a new file, now valid).
      await serverShows(admin, "SELECT 1 FROM pg_stat_user_tables WHERE relname = 'accounts' AND vacuum_count = 1 AND analyze_count = 1");
      const afterFirst = await counters();
      expect(afterFirst).toMatchObject({ vacuums: "1", analyzes: "1", valid: true });
      expect(afterFirst.relfilenode).not.toBe(before.relfilenode);

      const rerun = await spawnCli(["--only", "db", "--journal", journal, "--json", join(state, "rerun.json")], env);
      expect(rerun.stderr).toBe("");
      expect(rerun.code).toBe(0);
      expect(rerun.stdout).toContain(`"message":"resuming the journal ${journal} from ${left.startedAt} (--fresh starts over)"`);
      const rerunReport = readReport("rerun.json");
      const resumed = ["db.modifyIndexTriggers", "db.updateIndexes", "db.vacuumDatabase"];
      // Only the db subsystem ran, so the cycle stays open: the journal keeps the first run's entries and adds the rest.
      expect(rerunReport.journal).toMatchObject({ resumed, closed: false });
      expect(Object.fromEntries(rerunReport.steps.map((step) => [step.id, step.status]))).toEqual({
        "db.initClient": "succeeded",
        "db.modifyIndexTriggers": "resumed",
        "db.updateIndexes": "resumed",
        "db.vacuumDatabase": "resumed",
        "db.checkForDeadlocks": "succeeded",
      });
      const kept = JSON.parse(readFileSync(journal, "utf8")) as JournalContent;
      expect(kept).toMatchObject({ lastRun: "succeeded", startedAt: left.startedAt });
      expect(kept.completed).toEqual({
        ...left.completed,
        "db.initClient": kept.completed["db.initClient"],
        "db.checkForDeadlocks": kept.completed["db.checkForDeadlocks"],
      });
      // The server's own counters: no second vacuum or analyze, no second rebuild.
      expect(await counters()).toEqual(afterFirst);
    },
    RERUN_TIMEOUT_MS,
  );
});
