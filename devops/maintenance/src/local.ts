import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BaseCommand, type CliContext, OperationalError, runCli } from "@monorepo/cli";
import { AwsS3Client, type ClientContext, createIntegrations, type Integrations, PostgresDbClient } from "@monorepo/integrations";
import { LocalServerError, type PostgresServer, type S3Server, startPostgres, startS3Server } from "@monorepo/local-servers";
import { Command, Option } from "clipanion";
import { MAINTENANCE_CLI } from "./cli";
import { BUCKET, dbSeeded, describeChanges, LARGE_BLOB_SIZE, localS3Client, readDb, readS3, SeededDb, seedS3, TABLE } from "./local-work";

type Env = Record<string, string | undefined>;

const DAY_MS = 24 * 60 * 60 * 1000;

/** Short thresholds, so that the seeded sessions count as hung and blocked within seconds. */
const LOCAL_OPTIONS = [
  "--hung-query-age",
  "5s",
  "--lock-wait-limit",
  "2s",
  "--blob-retention-days",
  "1",
  "--large-blob-size",
  LARGE_BLOB_SIZE,
];

/** The variables through which the user's own database or bucket could be selected: the local run sets its own. */
const BACKEND_VARIABLES = /^(DATABASE_URL|PG[A-Z]+|MAINTENANCE_S3_BUCKET|AWS_[A-Z_]+)$/;

export class LocalMaintenanceCommand extends BaseCommand<CliContext> {
  static paths = [Command.Default];

  static interruptible = true;

  static usage = Command.Usage({
    description: "Run maintenance against a throwaway PostgreSQL and S3 API seeded with work, and show what changed.",
    details: `
      Starts a PostgreSQL server from the host's binaries (a temp cluster on 127.0.0.1) and moto's S3 server (moto_server), seeds them with work, runs maintenance of db and s3 against them with live progress, then its cleanup steps (which abort hung uploads), prints what changed as the servers report it, and stops and removes everything it started, also on Ctrl-C and on failure.

      The work: the table ${TABLE}, nine tenths of its rows deleted and the rest updated, with autovacuum off (dead tuples, bloated indexes); a session holding a row lock in an idle transaction with another waiting for it; a query running pg_sleep(3600); in the bucket ${BUCKET}, old and new blobs, a large new blob and an abandoned multipart upload.

      moto stamps a blob's LastModified when it is uploaded, so old blobs are uploaded a second before the new ones, and the run measures ages as of one day after that second with --blob-retention-days 1. Kafka has no real client, so it is left out.

      Without moto_server (MOTO_SERVER, PATH or pyenv's shims), S3 runs simulated and the line saying so says how to install it; without PostgreSQL the command stops and says how to install it (apt-get install postgresql). As root, PostgreSQL runs as the postgres user.

      Exit codes: maintenance's own (0 every step of both runs done, 1 a subsystem failed; the first run's code when it is not 0); 1 a server could not start; 130 interrupted.
    `,
    examples: [
      ["Run it (after pnpm build)", "pnpm maintenance:local"],
      ["With maintenance's debug logs", "pnpm maintenance:local --verbose"],
      ["Use a moto_server that is not on PATH", "MOTO_SERVER=/opt/moto/bin/moto_server pnpm maintenance:local"],
    ],
  });

  verbose = Option.Boolean("--verbose", false, { description: "Pass --verbose to maintenance: log every step and each failure's details" });

  async execute(): Promise<number> {
    const { stdout, stderr, signal } = this.context;
    const say = (line: string) => stdout.write(`${line}\n`);
    const teardown: Array<() => Promise<void> | void> = [];
    try {
      const workDir = mkdtempSync(join(tmpdir(), "maintenance-local-"));
      teardown.push(() => rmSync(workDir, { recursive: true, force: true }));
      say(`Journal in ${workDir}`);

      let postgres: PostgresServer;
      try {
        postgres = await startPostgres();
      } catch (error) {
        if (error instanceof LocalServerError) throw new OperationalError(`PostgreSQL is needed for the local run: ${error.message}`);
        throw error;
      }
      teardown.push(() => postgres.stop());
      say(`PostgreSQL at ${postgres.host}:${postgres.port} (pid ${postgres.pid}, files in ${postgres.dir})`);
      signal?.throwIfAborted();

      let s3Server: S3Server | undefined;
      try {
        s3Server = await startS3Server();
        teardown.push(() => s3Server?.stop());
        say(`moto S3 API at ${s3Server.endpoint} (pid ${s3Server.pid})`);
      } catch (error) {
        if (!(error instanceof LocalServerError)) throw error;
        say(`S3 stays simulated: ${error.message}`);
      }
      signal?.throwIfAborted();

      const db = new SeededDb(postgres.url);
      teardown.push(() => db.close());
      await db.seed();
      const dbBefore = await readDb(postgres.url, dbSeeded);
      say(`Seeded PostgreSQL: ${TABLE} with dead tuples and bloated indexes, a row lock held with a session waiting, a long query`);

      let s3: { client: ReturnType<typeof localS3Client>; before: Awaited<ReturnType<typeof readS3>>; now: Date } | undefined;
      if (s3Server) {
        const client = localS3Client(s3Server.endpoint);
        teardown.push(() => client.destroy());
        const split = await seedS3(client);
        s3 = { client, before: await readS3(client), now: new Date(split.getTime() + DAY_MS) };
        say(`Seeded S3: bucket ${BUCKET} with blobs uploaded before and after ${split.toISOString()}, one large, one abandoned upload`);
        say(`Ages are measured as of ${s3.now.toISOString()} (one day after that second), so the blobs before it are past retention`);
      }
      signal?.throwIfAborted();

      const env = localEnv(this.context.env, postgres, s3Server);
      const journal = ["--journal", join(workDir, "journal.json")];
      const extra = [...LOCAL_OPTIONS, ...(this.verbose ? ["--verbose"] : [])];
      const clients: Integrations[] = [];
      const createClients = (clientEnv: Env, context: ClientContext) => {
        const created = createIntegrations(clientEnv, { ...context, now: s3?.now });
        clients.push(created);
        return created;
      };
      teardown.push(() => closeClients(clients));
      // The AWS SDK reads its endpoint and credentials from process.env, not from the env maintenance is given.
      const restoreEnv = replaceProcessEnv(env);
      teardown.push(restoreEnv);
      const maintenance = async (argv: string[]) => {
        say(`\nRunning maintenance ${argv.join(" ")}\n`);
        return runCli(MAINTENANCE_CLI, argv, { stdout, stderr, env, signal, cwd: process.cwd(), createClients });
      };
      // Maintenance proper, then the cleanup steps, which are where hung uploads are aborted.
      const maintained = await maintenance(["--only", "db,s3", ...journal, ...extra]);
      signal?.throwIfAborted();
      const cleaned = await maintenance(["--cleanup", "--only", "db,s3", ...journal, ...extra]);
      const code = maintained !== 0 ? maintained : cleaned;
      restoreEnv();
      signal?.throwIfAborted();

      const dbAfter = await readDb(postgres.url, (state) => state.deadTuples === 0);
      const s3After = s3 && { before: s3.before, after: await readS3(s3.client) };
      say(`\nWhat changed, as the servers report it${s3 ? "" : " (S3 was simulated: nothing to observe)"}:`);
      stdout.write(describeChanges({ before: dbBefore, after: dbAfter }, s3After));
      return code;
    } finally {
      for (const step of teardown.reverse()) await step();
      say("Stopped every server this run started and removed their files.");
    }
  }
}

/** The user's environment without anything that could select their own database or bucket, plus the local servers'. */
function localEnv(base: Env, postgres: PostgresServer, s3Server: S3Server | undefined): Env {
  const env: Env = Object.fromEntries(Object.entries(base).filter(([name]) => !BACKEND_VARIABLES.test(name)));
  env.DATABASE_URL = postgres.url;
  if (s3Server) Object.assign(env, s3Server.env, { MAINTENANCE_S3_BUCKET: BUCKET });
  return env;
}

/** Sets process.env to `env` until the returned function runs (once). */
function replaceProcessEnv(env: Env): () => void {
  const saved = { ...process.env };
  for (const name of Object.keys(process.env)) delete process.env[name];
  Object.assign(process.env, env);
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    for (const name of Object.keys(process.env)) delete process.env[name];
    Object.assign(process.env, saved);
  };
}

async function closeClients(clients: Integrations[]): Promise<void> {
  for (const { db, s3 } of clients) {
    if (db instanceof PostgresDbClient) await db.close();
    if (s3 instanceof AwsS3Client) s3.destroy();
  }
}
