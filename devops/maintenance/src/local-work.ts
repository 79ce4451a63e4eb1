import { setTimeout as sleep } from "node:timers/promises";
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import bytes from "bytes";
import { Client } from "pg";

/**
 * The work `pnpm maintenance:local` gives a throwaway PostgreSQL and S3 API, and what it reads back
 * from them: every "after" figure comes from the servers, never from maintenance's report.
 */

export const TABLE = "local_orders";
const ACCOUNTS = "local_accounts";
const ROWS = 200_000;
/** Rows kept: every tenth. The other nine tenths are deleted, the kept ones updated. */
const KEEP_EVERY = 10;

/** The seeded sessions, by the application_name they connect with. */
export const SESSIONS = {
  holder: "local-lock-holder",
  waiter: "local-lock-waiter",
  longQuery: "local-long-query",
} as const;

const SESSION_LABELS: Record<keyof typeof SESSIONS, string> = {
  holder: "session holding a row lock",
  waiter: "session waiting for that lock",
  longQuery: "query running pg_sleep(3600)",
};

export interface DbState {
  deadTuples: number;
  /** Index name to bytes. */
  indexBytes: Record<string, number>;
  /** Seeded session to what pg_stat_activity says it is doing ("gone" when it has no row). */
  sessions: Record<keyof typeof SESSIONS, string>;
}

export interface S3State {
  /** Key to storage class. */
  objects: Record<string, string>;
  uploads: string[];
}

/** Clients of the seeded sessions; they end when the server stops them or close() runs. */
export class SeededDb {
  private readonly sessions: Client[] = [];

  constructor(private readonly url: string) {}

  private async session(applicationName: string): Promise<Client> {
    const client = new Client({ connectionString: this.url, application_name: applicationName });
    // Maintenance terminating a seeded session is the point: its error is expected, not fatal.
    client.on("error", () => undefined);
    this.sessions.push(client);
    await client.connect();
    return client;
  }

  /**
   * A table with dead tuples and bloated indexes (autovacuum off for it, so they wait for
   * maintenance), then three sessions: one holds a row lock in an idle transaction, one waits for
   * it, one runs a query for an hour. The sessions start after the deletions, so that none of them
   * keeps the deleted rows visible.
   */
  async seed(): Promise<void> {
    const admin = await this.session("local-seed");
    await admin.query(
      `CREATE TABLE ${TABLE} (id int PRIMARY KEY, email text NOT NULL, status text NOT NULL) WITH (autovacuum_enabled = false)`,
    );
    await admin.query(`CREATE INDEX ${TABLE}_email ON ${TABLE} (email)`);
    await admin.query(`INSERT INTO ${TABLE} SELECT g, 'customer-' || g || '@example.com', 'pending' FROM generate_series(1, ${ROWS}) g`);
    await admin.query(`DELETE FROM ${TABLE} WHERE id % ${KEEP_EVERY} <> 0`);
    await admin.query(`UPDATE ${TABLE} SET status = 'shipped'`);
    // Statistics for the live rows, as autovacuum would have gathered; ANALYZE removes no dead tuple.
    await admin.query(`ANALYZE ${TABLE}`);
    await admin.query(`CREATE TABLE ${ACCOUNTS} (id int PRIMARY KEY, balance int NOT NULL)`);
    await admin.query(`INSERT INTO ${ACCOUNTS} VALUES (1, 100)`);
    await admin.end();
    this.sessions.splice(this.sessions.indexOf(admin), 1);

    const holder = await this.session(SESSIONS.holder);
    await holder.query("BEGIN");
    await holder.query(`UPDATE ${ACCOUNTS} SET balance = balance - 1 WHERE id = 1`);
    const waiter = await this.session(SESSIONS.waiter);
    waiter.query(`UPDATE ${ACCOUNTS} SET balance = balance + 1 WHERE id = 1`).catch(() => undefined);
    const longQuery = await this.session(SESSIONS.longQuery);
    longQuery.query("SELECT pg_sleep(3600)").catch(() => undefined);
  }

  async close(): Promise<void> {
    await Promise.all(this.sessions.splice(0).map((client) => client.end().catch(() => undefined)));
  }
}

/** Reads the table's dead tuples, its indexes' sizes and the seeded sessions from the server. */
export async function readDb(url: string, expect?: (state: DbState) => boolean): Promise<DbState> {
  const client = new Client({ connectionString: url, application_name: "local-observer" });
  await client.connect();
  try {
    // The statistics reach the shared counters up to a second after a transaction ends.
    for (let attempt = 0; ; attempt++) {
      await client.query("SELECT pg_stat_clear_snapshot()");
      const state = await readDbOnce(client);
      if (!expect || expect(state) || attempt === 20) return state;
      await sleep(250);
    }
  } finally {
    await client.end();
  }
}

async function readDbOnce(client: Client): Promise<DbState> {
  const dead = await client.query<{ n: string }>("SELECT n_dead_tup AS n FROM pg_stat_user_tables WHERE relname = $1", [TABLE]);
  const indexes = await client.query<{ name: string; bytes: string }>(
    `SELECT c.relname AS name, pg_relation_size(c.oid) AS bytes FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = $1::regclass ORDER BY c.relname`,
    [TABLE],
  );
  const activity = await client.query<{ name: string; state: string; wait: string | null }>(
    "SELECT application_name AS name, state, wait_event_type AS wait FROM pg_stat_activity WHERE application_name = ANY ($1)",
    [Object.values(SESSIONS)],
  );
  const sessions = {} as DbState["sessions"];
  for (const [key, name] of Object.entries(SESSIONS) as [keyof typeof SESSIONS, string][]) {
    const row = activity.rows.find((entry) => entry.name === name);
    sessions[key] = !row ? "gone" : row.wait === "Lock" ? `${row.state}, waiting for a lock` : row.state;
  }
  return {
    deadTuples: Number(dead.rows[0]?.n ?? 0),
    indexBytes: Object.fromEntries(indexes.rows.map((row) => [row.name, Number(row.bytes)])),
    sessions,
  };
}

/** Seeded means: dead tuples counted, the waiter waiting and the long query running. */
export function dbSeeded(state: DbState): boolean {
  return state.deadTuples > 0 && state.sessions.waiter.includes("waiting") && state.sessions.longQuery === "active";
}

export const BUCKET = "acme-local";
export const LARGE_BLOB = "new/report-archive.bin";
/** The --large-blob-size the local run passes; LARGE_BLOB is twice as large. */
export const LARGE_BLOB_SIZE = "1MB";

/** An S3 client for the local server only, whatever the user's AWS variables say. */
export function localS3Client(endpoint: string): S3Client {
  // As AwsS3Client does: the SDK's warning about its future Node versions tells this run nothing.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  return new S3Client({
    endpoint,
    forcePathStyle: true,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
}

/**
 * Old and new blobs, a large new one, and a multipart upload left open. moto stamps LastModified at
 * upload (to the second) and cannot be told otherwise, so "old" means uploaded before a split
 * second; the run then measures ages as of one retention period after that second, which puts the
 * old blobs past retention and keeps the new ones. Returns the split.
 */
export async function seedS3(s3: S3Client): Promise<Date> {
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  for (let i = 1; i <= 5; i++) {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `old/invoice-${i}.pdf`, Body: Buffer.alloc(2048, i) }));
  }
  await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "uploads/abandoned.bin" }));
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  const newestOld = Math.max(...(listed.Contents ?? []).map((object) => object.LastModified!.getTime()));
  const split = new Date(Math.floor(newestOld / 1000) * 1000 + 1000);
  // Until the server's clock, which truncates to the second, can only stamp the split or later.
  await sleep(Math.max(0, split.getTime() - Date.now() + 50));
  for (let i = 1; i <= 5; i++) {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `new/invoice-${i}.pdf`, Body: Buffer.alloc(2048, i) }));
  }
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: LARGE_BLOB, Body: Buffer.alloc(2 * bytes.parse(LARGE_BLOB_SIZE)!, 7) }));
  return split;
}

export async function readS3(s3: S3Client): Promise<S3State> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
  return {
    objects: Object.fromEntries((listed.Contents ?? []).map((object) => [object.Key!, object.StorageClass ?? "STANDARD"])),
    uploads: (uploads.Uploads ?? []).map((upload) => upload.Key!),
  };
}

const size = (value: number) => bytes.format(value, { unitSeparator: " " }) ?? `${value} B`;

/** The before/after lines, two columns wide. */
export function describeChanges(db: { before: DbState; after: DbState }, s3?: { before: S3State; after: S3State }): string {
  const rows: [string, string][] = [];
  rows.push([`dead tuples in ${TABLE}`, `${db.before.deadTuples} -> ${db.after.deadTuples}`]);
  for (const [name, before] of Object.entries(db.before.indexBytes)) {
    rows.push([`index ${name}`, `${size(before)} -> ${size(db.after.indexBytes[name] ?? 0)}`]);
  }
  for (const key of Object.keys(SESSIONS) as (keyof typeof SESSIONS)[]) {
    rows.push([SESSION_LABELS[key], `${db.before.sessions[key]} -> ${db.after.sessions[key]}`]);
  }
  if (s3) {
    const before = Object.keys(s3.before.objects);
    const deleted = before.filter((key) => !(key in s3.after.objects));
    const moved = before.filter((key) => s3.before.objects[key] !== s3.after.objects[key] && key in s3.after.objects);
    rows.push([`objects in ${BUCKET}`, `${before.length} -> ${Object.keys(s3.after.objects).length}`]);
    rows.push(["  deleted", deleted.length === 0 ? "none" : deleted.join(", ")]);
    for (const key of moved) rows.push([`  ${key}`, `${s3.before.objects[key]} -> ${s3.after.objects[key]}`]);
    rows.push(["multipart uploads in progress", `${s3.before.uploads.length} -> ${s3.after.uploads.length}`]);
  }
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}\n`).join("");
}
