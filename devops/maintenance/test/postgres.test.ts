import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createIntegrations } from "@monorepo/integrations";
import { type PostgresServer, startPostgres } from "@monorepo/local-servers";
import { waitFor } from "@monorepo/testing";
import { Client } from "pg";
import type { MaintenanceReport } from "../src/index";
import { runInProcess, spawnCli, tempDir } from "./helpers";

/** initdb writes a whole cluster: seconds on a busy machine. */
const START_TIMEOUT_MS = 120_000;
/** A failing step is tried seven times with backoff up to 4 s, then its subsystem's cleanup is too. */
const FAILING_RUN_TIMEOUT_MS = 180_000;

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
