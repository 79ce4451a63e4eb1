import { setTimeout as sleep } from "node:timers/promises";
import { escapeIdentifier, Pool, type PoolClient, type PoolConfig } from "pg";
import type { DbClient } from "./db";
import { DeadlockDetectedError, IntegrationError, NotConnectedError } from "./errors";
import type { OperationName, OperationOptions } from "./operations";
import type { IntegrationSettings, LogSink } from "./settings";

/** Every session maintenance opens says so; stopHungQueries never stops one of them. */
export const MAINTENANCE_APPLICATION_NAME = "acme-maintenance";

/** How long connecting may take before initClient fails (and is retried). */
const CONNECT_TIMEOUT_MS = 10_000;

/** Indexes below this size are never rebuilt for bloat: a rebuild would gain nothing worth its locks. */
export const MIN_BLOATED_INDEX_BYTES = 1024 * 1024;

/** A btree index is bloated when it is this many times larger than its table's live rows need. */
export const INDEX_BLOAT_FACTOR = 4;

/** Per btree entry beyond its key: tuple header (8), line pointer (4), alignment (4). */
const BTREE_ENTRY_OVERHEAD_BYTES = 16;

/** Key width assumed for a column without statistics (an expression, or a table never analyzed). */
const DEFAULT_KEY_WIDTH_BYTES = 8;

/** btree's default fillfactor: a fresh index leaves this share of each leaf page free. */
const BTREE_FILL = 0.9;

/**
 * The leftovers of a REINDEX CONCURRENTLY that was cancelled or failed: `<name>_ccnew[N]` (the copy
 * being built) or `<name>_ccold[N]` (the old one being swapped out). They are invalid, yet every write
 * still maintains a ready one, and reindexing one would only build another copy of a copy.
 */
const LEFTOVER_INDEX = "_cc(new|old)[0-9]*$";

/** What the connection needs: a postgres URL, or the PG* variables' values (pg reads any left out). */
export type PostgresConnection = { connectionString: string } | Pick<PoolConfig, "host" | "port" | "user" | "password" | "database">;

interface IndexRow {
  schema: string;
  index: string;
  valid: boolean;
  bytes: string;
  needed_bytes: number | null;
}

/**
 * The db client on a real PostgreSQL server (12 or newer, for REINDEX CONCURRENTLY). Every statement
 * runs with a server-side statement_timeout (the hung-query age: maintenance holds itself to the rule
 * it enforces on others) and lock_timeout (the lock-wait limit), and an aborted operation cancels its
 * statement on the server with pg_cancel_backend from a second pooled connection.
 */
export class PostgresDbClient implements DbClient {
  private pool: Pool | undefined;
  private connecting: Promise<void> | undefined;
  private serverVersionNum = 0;
  private deadlocksAtConnect = 0;
  /** Backend pids of this client's own sessions, in case the URL overrides application_name. */
  private readonly ownPids = new Set<number>();
  private readonly pids = new WeakMap<PoolClient, number>();

  constructor(
    private readonly connection: PostgresConnection,
    private readonly settings: IntegrationSettings,
    private readonly log: LogSink = () => undefined,
  ) {}

  /** Opens the pool and reads the server's version the first time; later calls check that the server still answers. */
  async initClient(options: OperationOptions = {}): Promise<void> {
    if (!this.pool) {
      const pool = new Pool({
        ...this.connection,
        application_name: MAINTENANCE_APPLICATION_NAME,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        statement_timeout: this.settings.hungQueryAgeSeconds * 1000,
        lock_timeout: this.settings.lockWaitLimitSeconds * 1000,
        // A statement that is being cancelled, the one doing the cancelling, and a spare.
        max: 3,
        // Idle pooled connections do not keep a finished run's process alive.
        allowExitOnIdle: true,
      });
      // A pooled connection the server closes while idle must not crash the process: the next query fails instead.
      pool.on("error", () => undefined);
      this.pool = pool;
    }
    this.connecting ??= this.query<{ version: string; num: string; deadlocks: string }>(
      "db.initClient",
      `SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS num,
              (SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()) AS deadlocks`,
      [],
      options.signal,
    ).then(
      ([row]) => {
        this.serverVersionNum = Number(row.num);
        this.deadlocksAtConnect = Number(row.deadlocks);
        this.log("connected to PostgreSQL", { serverVersion: row.version });
      },
      (error: unknown) => {
        this.connecting = undefined;
        throw error;
      },
    );
    await this.connecting;
    await this.query("db.initClient", "SELECT 1", [], options.signal);
  }

  /** Closes the pool; the client can connect again with initClient. */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    this.connecting = undefined;
    await pool?.end();
  }

  /**
   * PostgreSQL has no index triggers to switch: each write maintains every index that is ready. What
   * it needs before a rebuild is that no leftover of an earlier cancelled REINDEX CONCURRENTLY remains
   * (see LEFTOVER_INDEX): those are invalid copies that every write still maintains and that a new
   * rebuild would only copy again. This step drops them (DROP INDEX CONCURRENTLY, never blocking writes).
   */
  async modifyIndexTriggers(options: OperationOptions = {}): Promise<void> {
    await this.dropLeftoverIndexes("db.modifyIndexTriggers", options.signal);
  }

  /**
   * Rebuilds with REINDEX INDEX CONCURRENTLY (the table stays writable) every index that is invalid
   * (pg_index.indisvalid false: a failed CREATE INDEX CONCURRENTLY) and every btree index larger than
   * MIN_BLOATED_INDEX_BYTES and INDEX_BLOAT_FACTOR times what its table's live rows need (reltuples x
   * (key width from pg_stats + BTREE_ENTRY_OVERHEAD_BYTES) / BTREE_FILL). Leftovers of a cancelled
   * rebuild (its own earlier attempt included) are dropped first, never rebuilt.
   */
  async updateIndexes(options: OperationOptions = {}): Promise<void> {
    const operation = "db.updateIndexes";
    await this.dropLeftoverIndexes(operation, options.signal);
    const indexes = await this.query<IndexRow>(
      operation,
      `SELECT n.nspname AS schema, c.relname AS index, i.indisvalid AS valid, pg_relation_size(c.oid) AS bytes,
              CASE WHEN am.amname = 'btree' AND t.reltuples >= 0 THEN
                t.reltuples * ($1 + coalesce((
                  SELECT sum(s.avg_width) FROM pg_attribute a
                  JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = t.relname AND s.attname = a.attname
                  WHERE a.attrelid = t.oid AND a.attnum = ANY (i.indkey::int2[])), $2)) / $3
              END::float8 AS needed_bytes
         FROM pg_index i
         JOIN pg_class c ON c.oid = i.indexrelid
         JOIN pg_class t ON t.oid = i.indrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_am am ON am.oid = c.relam
        WHERE c.relkind = 'i' AND c.relpersistence = 'p'
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
          AND c.relname !~ $4
        ORDER BY n.nspname, c.relname`,
      [BTREE_ENTRY_OVERHEAD_BYTES, DEFAULT_KEY_WIDTH_BYTES, BTREE_FILL, LEFTOVER_INDEX],
      options.signal,
    );
    for (const index of indexes) {
      // pg returns bigint as a string: sizes beyond 2^53 bytes are not a concern here.
      const bytes = Number(index.bytes);
      const bloated = index.needed_bytes !== null && bytes > MIN_BLOATED_INDEX_BYTES && bytes > INDEX_BLOAT_FACTOR * index.needed_bytes;
      if (index.valid && !bloated) continue;
      const name = `${escapeIdentifier(index.schema)}.${escapeIdentifier(index.index)}`;
      this.log("rebuilding index", { index: `${index.schema}.${index.index}`, reason: index.valid ? "bloated" : "invalid", bytes });
      // Not in a transaction block: REINDEX CONCURRENTLY refuses to run inside one.
      await this.query(operation, `REINDEX INDEX CONCURRENTLY ${name}`, [], options.signal);
    }
  }

  /** VACUUM (ANALYZE) of the whole database: removes dead tuples and refreshes the planner's statistics. */
  async vacuumDatabase(options: OperationOptions = {}): Promise<void> {
    await this.query("db.vacuumDatabase", "VACUUM (ANALYZE)", [], options.signal);
  }

  /**
   * Rejects with DeadlockDetectedError when a session of this database has waited longer than the
   * lock-wait limit for a lock another session holds (pg_blocking_pids): sessions stuck on each other,
   * which the server's own deadlock detector leaves alone when they are a chain rather than a cycle.
   * Deadlocks the server broke since maintenance connected (pg_stat_database.deadlocks, which the
   * server updates only some time after) are logged, not failed on: the server already resolved them.
   */
  async checkForDeadlocks(options: OperationOptions = {}): Promise<void> {
    const operation = "db.checkForDeadlocks";
    const waitStart = this.serverVersionNum >= 140000 ? "coalesce(l.waitstart, a.state_change)" : "a.state_change";
    const stuck = await this.query<{ pid: number; blockers: number[]; waited_seconds: number }>(
      operation,
      `SELECT a.pid, pg_blocking_pids(a.pid) AS blockers, extract(epoch FROM now() - min(${waitStart}))::float8 AS waited_seconds
         FROM pg_stat_activity a
         JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted
        WHERE a.datname = current_database() AND cardinality(pg_blocking_pids(a.pid)) > 0
        GROUP BY a.pid
       HAVING extract(epoch FROM now() - min(${waitStart})) > $1`,
      [this.settings.lockWaitLimitSeconds],
      options.signal,
    );
    const [counter] = await this.query<{ deadlocks: string }>(
      operation,
      "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()",
      [],
      options.signal,
    );
    const broken = Number(counter.deadlocks) - this.deadlocksAtConnect;
    if (broken > 0) this.log("the server broke deadlocks in this database since maintenance connected", { deadlocks: broken });
    if (stuck.length > 0) {
      this.log("sessions blocked by others beyond the lock-wait limit", {
        sessions: stuck.map((row) => ({ pid: row.pid, blockedBy: row.blockers, waitedSeconds: Math.round(row.waited_seconds) })),
      });
      throw new DeadlockDetectedError();
    }
  }

  /**
   * Stops the sessions of this database whose query has been active, or whose transaction has sat
   * idle, for longer than the hung-query age: pg_cancel_backend first, then pg_terminate_backend for
   * those still in the same state after the grace period. Never maintenance's own sessions (its
   * application_name, its pids) nor the server's own processes.
   */
  async stopHungQueries(options: OperationOptions = {}): Promise<void> {
    const operation = "db.stopHungQueries";
    const { signal } = options;
    const candidates = `SELECT pid, backend_start::text AS started, state_change::text AS since FROM pg_stat_activity
        WHERE datname = current_database() AND backend_type = 'client backend'
          AND pid <> pg_backend_pid() AND NOT pid = ANY ($1::int[]) AND application_name <> $2
          AND ((state = 'active' AND query_start < now() - make_interval(secs => $3))
            OR (state IN ('idle in transaction', 'idle in transaction (aborted)') AND state_change < now() - make_interval(secs => $3)))`;
    const params = () => [[...this.ownPids], MAINTENANCE_APPLICATION_NAME, this.settings.hungQueryAgeSeconds];
    const hung = await this.query<{ pid: number; started: string; since: string }>(
      operation,
      `SELECT pid, started, since, pg_cancel_backend(pid) AS cancelled FROM (${candidates}) hung`,
      params(),
      signal,
    );
    if (hung.length === 0) return;
    this.log("cancelled hung queries", { pids: hung.map((row) => row.pid) });
    await sleep(this.settings.hungQueryGraceSeconds * 1000, undefined, { signal });
    // The same session (pid and start) still in the same state since before the cancel: it did not end it.
    const wait = this.serverVersionNum >= 140000 ? ", 5000" : "";
    const terminated = await this.query<{ pid: number }>(
      operation,
      `SELECT pid, pg_terminate_backend(pid${wait}) AS terminated FROM (${candidates}) still
        WHERE (pid, started, since) IN (SELECT * FROM unnest($4::int[], $5::text[], $6::text[]))`,
      [...params(), hung.map((row) => row.pid), hung.map((row) => row.started), hung.map((row) => row.since)],
      signal,
    );
    if (terminated.length > 0) this.log("terminated sessions that outlived the cancel", { pids: terminated.map((row) => row.pid) });
  }

  private async dropLeftoverIndexes(operation: OperationName, signal: AbortSignal | undefined): Promise<void> {
    const leftovers = await this.query<{ schema: string; index: string }>(
      operation,
      `SELECT n.nspname AS schema, c.relname AS index
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT i.indisvalid AND c.relname ~ $1`,
      [LEFTOVER_INDEX],
      signal,
    );
    for (const leftover of leftovers) {
      this.log("dropping the leftover of a cancelled concurrent reindex", { index: `${leftover.schema}.${leftover.index}` });
      await this.query(
        operation,
        `DROP INDEX CONCURRENTLY IF EXISTS ${escapeIdentifier(leftover.schema)}.${escapeIdentifier(leftover.index)}`,
        [],
        signal,
      );
    }
  }

  /**
   * One statement on a pooled connection. When `signal` aborts, the statement is cancelled on the
   * server from another connection, and this rejects with the signal's reason once it has stopped.
   */
  private async query<Row>(operation: OperationName, sql: string, params: unknown[], signal: AbortSignal | undefined): Promise<Row[]> {
    if (!this.pool) throw new NotConnectedError(operation);
    signal?.throwIfAborted();
    const pool = this.pool;
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw new IntegrationError(operation, `${operation}: cannot connect to PostgreSQL (${(error as Error).message})`);
    }
    let failed: unknown;
    let cancelling: Promise<unknown> | undefined;
    const cancel = () => {
      const pid = this.pids.get(client);
      if (pid !== undefined) cancelling = pool.query("SELECT pg_cancel_backend($1)", [pid]).catch(() => undefined);
    };
    try {
      if (!this.pids.has(client)) {
        const [{ pid }] = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows;
        this.pids.set(client, pid);
        this.ownPids.add(pid);
      }
      signal?.throwIfAborted();
      signal?.addEventListener("abort", cancel, { once: true });
      return (await client.query(sql, params)).rows as Row[];
    } catch (error) {
      failed = error;
      if (signal?.aborted) throw signal.reason;
      throw new IntegrationError(operation, `${operation} failed: ${(error as Error).message}`);
    } finally {
      signal?.removeEventListener("abort", cancel);
      await cancelling;
      // A connection that saw an error is not reused: the server may have closed it.
      client.release(failed !== undefined);
      if (failed !== undefined) this.ownPids.delete(this.pids.get(client) ?? -1);
    }
  }
}
