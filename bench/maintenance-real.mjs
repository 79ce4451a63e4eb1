// The real-backend case of bench/maintenance.mjs: the graph runner against a seeded PostgreSQL and
// moto S3 (from @monorepo/local-servers), timed against the critical path of the same plan with the
// step durations it measured, and against the same steps run one after another (--concurrency 1)
// on a freshly seeded copy of the same work. Kafka has no real client and is left out.
import { createRequire } from "node:module";
import { setTimeout as sleep } from "node:timers/promises";

const require = createRequire(import.meta.url);
const { startPostgres, startS3Server } = require("../devops/local-servers");
const { createIntegrations, DEFAULT_SETTINGS, PostgresDbClient, AwsS3Client } = require("../devops/integrations");
const { criticalPath, planMaintenance, runMaintenance } = require("../devops/maintenance");
const maintenanceRequire = createRequire(require.resolve("../devops/maintenance/package.json"));
const { Client } = maintenanceRequire("pg");
const s3sdk = maintenanceRequire("@aws-sdk/client-s3");

const DAY_MS = 24 * 60 * 60 * 1000;
const LARGE_BYTES = 64 * 1024;
/** Uploads in flight at once while seeding the bucket. */
const PUT_CONCURRENCY = 32;

async function seedDb(url, rows) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("DROP TABLE IF EXISTS bench_orders");
    await client.query(
      "CREATE TABLE bench_orders (id int PRIMARY KEY, email text NOT NULL, status text NOT NULL) WITH (autovacuum_enabled = false)",
    );
    await client.query("CREATE INDEX bench_orders_email ON bench_orders (email)");
    await client.query(
      `INSERT INTO bench_orders SELECT g, 'customer-' || g || '@example.com', 'pending' FROM generate_series(1, ${rows}) g`,
    );
    await client.query("DELETE FROM bench_orders WHERE id % 4 <> 0");
    await client.query("UPDATE bench_orders SET status = 'shipped'");
    await client.query("ANALYZE bench_orders");
  } finally {
    await client.end();
  }
}

async function putAll(s3, bucket, keys, body) {
  for (let i = 0; i < keys.length; i += PUT_CONCURRENCY) {
    await Promise.all(
      keys.slice(i, i + PUT_CONCURRENCY).map((Key) => s3.send(new s3sdk.PutObjectCommand({ Bucket: bucket, Key, Body: body(Key) }))),
    );
  }
}

/** Half the objects old, half new, one in a hundred of the new ones large; returns the moment ages are measured from. */
async function seedBucket(s3, bucket, objects) {
  await s3.send(new s3sdk.CreateBucketCommand({ Bucket: bucket }));
  const half = Math.floor(objects / 2);
  const small = Buffer.alloc(1024, 1);
  await putAll(
    s3,
    bucket,
    Array.from({ length: half }, (_, i) => `old/${i}`),
    () => small,
  );
  // moto stamps LastModified at upload, to the second: the next second splits old from new.
  const split = Math.floor(Date.now() / 1000) * 1000 + 1000;
  await sleep(split - Date.now() + 50);
  const large = Buffer.alloc(LARGE_BYTES, 2);
  await putAll(
    s3,
    bucket,
    Array.from({ length: objects - half }, (_, i) => `new/${i}`),
    (key) => (Number(key.slice(4)) % 100 === 0 ? large : small),
  );
  return new Date(split + DAY_MS);
}

async function timedRun(servers, options, concurrency, round) {
  const bucket = `bench-${round}`;
  const s3 = new s3sdk.S3Client({ forcePathStyle: true, endpoint: servers.s3.endpoint });
  const seedStarted = performance.now();
  await seedDb(servers.postgres.url, options.rows);
  const now = await seedBucket(s3, bucket, options.objects);
  s3.destroy();
  const seedMs = performance.now() - seedStarted;
  const env = { DATABASE_URL: servers.postgres.url, ...servers.s3.env, MAINTENANCE_S3_BUCKET: bucket };
  const settings = { ...DEFAULT_SETTINGS, blobRetentionDays: 1, largeBlobBytes: LARGE_BYTES };
  const clients = createIntegrations(env, { settings, log: () => undefined, now });
  const plan = planMaintenance({
    subsystems: ["db", "s3"],
    concurrency,
    stepTimeouts: { db: 2 * settings.hungQueryAgeSeconds, s3: settings.hungUploadAgeSeconds },
  });
  try {
    const report = await runMaintenance(plan, { clients, env: {} });
    if (report.exitCode !== 0) throw new Error(`maintenance failed: ${report.steps.flatMap((step) => step.errors).join("; ")}`);
    return { report, plan, seedMs };
  } finally {
    if (clients.db instanceof PostgresDbClient) await clients.db.close();
    if (clients.s3 instanceof AwsS3Client) clients.s3.destroy();
  }
}

export async function benchRealBackends(options) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const fmt = (ms) => `${(ms / 1000).toFixed(2)}s`;
  const servers = {};
  try {
    servers.postgres = await startPostgres();
    servers.s3 = await startS3Server();
    // The AWS SDK reads its region and credentials from process.env.
    Object.assign(process.env, servers.s3.env);
    console.log(
      `Real backends: ${options.rows} rows (three quarters deleted or updated), ${options.objects} objects (half past retention, 1% of the rest over ${LARGE_BYTES / 1024} KB)`,
    );
    const graph = await timedRun(servers, options, Infinity, 1);
    const serial = await timedRun(servers, options, 1, 2);
    const measured = graph.plan.graph.steps.map((step) => ({
      ...step,
      estimateSeconds: (graph.report.steps.find((result) => result.id === step.id)?.durationMs ?? 0) / 1000,
    }));
    const critical = criticalPath(measured);
    const graphMs = graph.report.durationMs;
    const serialMs = serial.report.durationMs;
    console.log(`  seeding (each run)    : ${fmt(graph.seedMs)}, ${fmt(serial.seedMs)}`);
    console.log(`  graph runner          : ${fmt(graphMs)}`);
    for (const step of graph.report.steps) console.log(`    ${step.id.padEnd(28)} ${fmt(step.durationMs ?? 0)}`);
    console.log(`  critical path         : ${fmt(critical.seconds * 1000)} of measured durations (${critical.steps.join(" -> ")})`);
    console.log(`  one after another     : ${fmt(serialMs)} (--concurrency 1, on a fresh copy of the same work)`);
    console.log(`  new / critical path   : ${(graphMs / (critical.seconds * 1000)).toFixed(3)}`);
    console.log(`  new / one after another: ${(graphMs / serialMs).toFixed(3)}`);
  } finally {
    await servers.s3?.stop();
    await servers.postgres?.stop();
  }
}
