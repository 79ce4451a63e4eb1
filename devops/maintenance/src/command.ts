import { BaseCommand, type CliContext, listOption } from "@monorepo/cli";
import {
  type BackendChoice,
  BackendConfigError,
  type ClientContext,
  DEFAULT_SETTINGS,
  describeBackendRules,
  type IntegrationName,
  type IntegrationSettings,
  type Integrations,
  selectBackends,
} from "@monorepo/integrations";
import { Logger } from "@monorepo/logger";
import { SimulationConfigError, timeScale } from "@monorepo/simulation";
import { Command, Option, UsageError } from "clipanion";
import * as t from "typanion";
import { checkWritableFilePath, defaultJournalPath, resolveUserPath, writeJsonFile } from "./files";
import { Journal, JournalError } from "./journal";
import { LockHeldError, lockPathFor, RunLock } from "./lock";
import {
  EXIT_CODES,
  MAX_ATTEMPTS,
  type MaintenancePlan,
  type MaintenanceReport,
  type Mode,
  planMaintenance,
  runMaintenance,
  type StepTimeouts,
} from "./maintenance";
import { LiveProgress, LogProgress, type Progress } from "./progress";
import { formatBackends, formatPlan, formatSummary } from "./report";
import { formatDuration, formatSize, isDuration, isSize, settingsFrom } from "./settings";
import { SUBSYSTEMS, type Subsystem } from "./steps";

/** `signal` (SIGINT, SIGTERM, a closed stdout): the run stops, cleans up in-flight subsystems, saves the journal. */
export interface MaintenanceContext extends CliContext {
  /** Where relative paths resolve when not under `bazel run`. */
  cwd: string;
  /**
   * Builds the clients the environment selects (real where configured, simulated elsewhere); validates
   * SIMULATION_* (SimulationConfigError) and the real backends' variables (BackendConfigError).
   */
  createClients: (env: Record<string, string | undefined>, context: ClientContext) => Integrations;
}

/** Everything the command needs, checked before anything runs. */
interface Request {
  plan: MaintenancePlan;
  clients: Integrations;
  /** Which subsystems run for real, and against what. */
  backends: Record<IntegrationName, BackendChoice>;
  jsonPath?: string;
  /** Held from before the journal is read until the run has ended; none for --dry-run. */
  lock?: RunLock;
}

export class MaintenanceCommand extends BaseCommand<MaintenanceContext> {
  static paths = [Command.Default];

  static interruptible = true;

  static usage = Command.Usage({
    description: "Database, Kafka and S3 maintenance that runs as fast as its dependencies allow and heals itself.",
    details: `
      Runs the maintenance steps as a dependency graph: db, kafka and s3 concurrently, Kafka topics concurrently, the db steps in the order their table locks require. A failed step runs its recovery (a deadlock: stop hung queries) and is retried with exponential backoff and jitter, up to ${MAX_ATTEMPTS} attempts. A subsystem that still fails runs its own cleanup and is reported failed while the others finish.

      Completed steps are saved in a journal (default $XDG_STATE_HOME/acme-maintenance/journal.json, or ~/.local/state/...), so the next run resumes where a failed or interrupted run stopped. A run that completes every step closes the journal.

      One run at a time: a run (and --cleanup, whose steps would break a run) holds the lock file beside the journal, <journal>.lock, and a second one exits 3 naming the holder. A lock whose process has ended on this host is taken over, with a line saying so; one from another host is never judged from here: delete it once that run has stopped. --dry-run takes no lock. Runs with different --journal files do not exclude each other.

      A journal that cannot be written mid-run (disk full, its folder gone) does not stop the run or fail its steps: the run goes on, retries the journal at each step, and its summary and --json report say whether the journal ended out of date and what that means for the next run.

      Exit codes: 0 every step done; 1 a subsystem failed after recovery (its cleanup ran); 2 usage error (nothing ran); 3 another run holds the lock (nothing ran); 4 the journal ended out of date (the summary says why and what to do; it takes precedence over 1); 130 interrupted by SIGINT or SIGTERM (in-flight subsystems cleaned up, journal saved).

      Real backends: ${describeBackendRules()}; a subsystem that is not configured runs simulated. --dry-run and the summary say which subsystems are real and what they talk to. On PostgreSQL (12 or newer, as a role that may vacuum, reindex and signal sessions, such as a superuser): modifyIndexTriggers drops the invalid leftovers (*_ccnew, *_ccold) of cancelled concurrent reindexes; updateIndexes runs REINDEX INDEX CONCURRENTLY on invalid indexes and on btree indexes over 1 MB and four times what their table's live rows need; vacuumDatabase runs VACUUM (ANALYZE); checkForDeadlocks fails when a session has waited on another's lock longer than --lock-wait-limit; stopHungQueries cancels, then after a grace terminates, queries active (or transactions idle) longer than --hung-query-age, never maintenance's own sessions (application_name acme-maintenance). Maintenance's own statements run with statement_timeout = --hung-query-age and lock_timeout = --lock-wait-limit, each real db step may take twice --hung-query-age, and a step that times out or is interrupted cancels its statement on the server.

      On S3 (MAINTENANCE_S3_BUCKET names the bucket; the AWS SDK reads AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL for an S3-compatible store, addressed path-style, AWS_REGION, and AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or a profile): cleanUpOldBlobs deletes blobs last modified more than --blob-retention-days ago; moveLargeBlobsToGlacier moves blobs of at least --large-blob-size to Glacier by copying each in place (blobs over 5 GiB are refused by name, for a lifecycle rule); stopHungUploads aborts multipart uploads started more than --hung-upload-age ago. Each real S3 step may take as long as --hung-upload-age.

      SIMULATION_TIME_SCALE scales every simulated wait, SIMULATION_FAULTS overrides failures per operation (\`db.checkForDeadlocks=0.5\`, \`kafka.validateCleaned=2x\`), SIMULATION_SEED makes them reproducible.
    `,
    examples: [
      ["Run (or resume) all maintenance", "$0"],
      ["Show the graph, waves and critical path without running anything", "$0 --dry-run"],
      ["Run only db and Kafka, at most 2 steps at a time", "$0 --only db,kafka --concurrency 2"],
      ["Skip S3 and write a machine-readable report", "$0 --skip s3 --json report.json"],
      ["Run the cleanup steps of every subsystem, concurrently", "$0 --cleanup"],
      ["Ignore saved progress and start over, with debug logs", "$0 --fresh --verbose"],
      ["Maintain a real PostgreSQL database (Kafka and S3 simulated)", "DATABASE_URL=postgres://maintenance@db.internal/app $0 --only db"],
      ["Stop queries running over 10 minutes", "PGHOST=db.internal PGDATABASE=app $0 --cleanup --only db --hung-query-age 10m"],
      [
        "Clean a real bucket, keeping blobs for 90 days",
        "MAINTENANCE_S3_BUCKET=acme-blobs AWS_REGION=eu-west-1 $0 --only s3 --blob-retention-days 90",
      ],
      ["Rehearse a failure quickly", "SIMULATION_TIME_SCALE=0.05 SIMULATION_FAULTS=db.checkForDeadlocks=1 $0"],
    ],
  });

  // --cleanup keeps no journal.
  static schema = [t.hasKeyRelationship("cleanup", t.KeyRelationship.Forbids, ["fresh"], { missingIf: "falsy" })];

  cleanup = Option.Boolean("--cleanup", false, {
    description:
      "Run only the cleanup steps (db: stop hung queries, check deadlocks; kafka: cleanupTopics, stopConsumers; s3: stopHungUploads); keeps no journal, so not with --fresh (--journal names the lock it takes)",
  });

  dryRun = Option.Boolean("--dry-run", false, { description: "Print the plan (graph, waves, critical path) and run nothing" });

  only = listOption("--only", SUBSYSTEMS, { description: "Subsystems to run" });

  skip = listOption("--skip", SUBSYSTEMS, { description: "Subsystems to leave out" });

  concurrency = Option.String("--concurrency", {
    description: "Most steps running at once (default: no limit)",
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isAtLeast(1)]),
  });

  journal = Option.String("--journal", {
    description:
      "Journal file (default: $XDG_STATE_HOME/acme-maintenance/journal.json), locked by <journal>.lock; --cleanup uses only its lock",
  });

  fresh = Option.Boolean("--fresh", false, { description: "Ignore the journal's saved progress and start over" });

  json = Option.String("--json", { description: "Write a machine-readable report to this file" });

  verbose = Option.Boolean("--verbose", false, { description: "Log every step and the details of each failure" });

  hungQueryAge = Option.String("--hung-query-age", formatDuration(DEFAULT_SETTINGS.hungQueryAgeSeconds), {
    description: `Real db: a query active (or a transaction idle) longer than this is hung, and stopped; also maintenance's own statement timeout (default ${formatDuration(DEFAULT_SETTINGS.hungQueryAgeSeconds)}; 90s, 5m, 1h)`,
    validator: isDuration,
  });

  lockWaitLimit = Option.String("--lock-wait-limit", formatDuration(DEFAULT_SETTINGS.lockWaitLimitSeconds), {
    description: `Real db: a session blocked by another's lock longer than this fails the deadlock check; also maintenance's own lock timeout (default ${formatDuration(DEFAULT_SETTINGS.lockWaitLimitSeconds)})`,
    validator: isDuration,
  });

  blobRetentionDays = Option.String("--blob-retention-days", String(DEFAULT_SETTINGS.blobRetentionDays), {
    description: `Real S3: delete blobs last modified more than this many days ago (default ${DEFAULT_SETTINGS.blobRetentionDays})`,
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isAtLeast(1)]),
  });

  largeBlobSize = Option.String("--large-blob-size", formatSize(DEFAULT_SETTINGS.largeBlobBytes), {
    description: `Real S3: move blobs of at least this size to Glacier (default ${formatSize(DEFAULT_SETTINGS.largeBlobBytes)}; 512KB, 1.5GB, 2048 bytes; KB = 1024 bytes)`,
    validator: isSize,
  });

  hungUploadAge = Option.String("--hung-upload-age", formatDuration(DEFAULT_SETTINGS.hungUploadAgeSeconds), {
    description: `Real S3: abort multipart uploads started longer ago than this; also how long each real S3 step may take (default ${formatDuration(DEFAULT_SETTINGS.hungUploadAgeSeconds)}; 90m, 2d)`,
    validator: isDuration,
  });

  /** Where real clients' notes go: the run's progress once it exists. */
  private progress: Progress | undefined;

  async execute(): Promise<number> {
    let request: Request;
    try {
      request = this.prepare();
    } catch (error) {
      // A bad SIMULATION_* or backend variable, or a journal it cannot use, is the caller's to fix before anything runs.
      if (error instanceof SimulationConfigError || error instanceof BackendConfigError || error instanceof JournalError) {
        throw new UsageError(error.message);
      }
      throw error;
    }
    try {
      return this.dryRun ? this.printPlan(request) : await this.run(request);
    } finally {
      request.lock?.release();
    }
  }

  private prepare(): Request {
    const { env, cwd } = this.context;
    const skipped: readonly Subsystem[] = this.skip ?? [];
    const subsystems = (this.only ?? SUBSYSTEMS).filter((subsystem) => !skipped.includes(subsystem));
    if (subsystems.length === 0) throw new UsageError("--only and --skip leave no subsystem to run");
    const mode: Mode = this.cleanup ? "cleanup" : "maintenance";
    const backends = selectBackends(env);
    const settings = settingsFrom(this);
    const clients = this.context.createClients(env, {
      settings,
      log: (message, data) => this.progress?.info(message, data),
    });
    const journalPath = this.journal === undefined ? defaultJournalPath(env) : resolveUserPath(this.journal, env, cwd);
    const jsonPath = this.json === undefined ? undefined : resolveUserPath(this.json, env, cwd);
    // Paths that cannot be written fail now, as usage errors, instead of after (or in the middle of) the work.
    if (jsonPath !== undefined) {
      try {
        checkWritableFilePath(jsonPath);
      } catch (error) {
        throw new UsageError(`--json: cannot write a report to ${jsonPath} (${(error as Error).message})`);
      }
    }
    // A dry run changes nothing, so it takes no lock: it can show the plan while a run goes on.
    const lock = this.dryRun ? undefined : this.takeLock(journalPath);
    try {
      // Read under the lock: a run that holds it may be changing the journal.
      const journal = mode === "maintenance" ? Journal.open(journalPath, { fresh: this.fresh }) : undefined;
      const plan = planMaintenance({
        mode,
        subsystems,
        concurrency: this.concurrency,
        journal,
        stepTimeouts: realStepTimeouts(backends, settings),
      });
      if (!this.dryRun) journal?.save("running");
      return { plan, clients, backends, jsonPath, lock };
    } catch (error) {
      lock?.release();
      throw error;
    }
  }

  /**
   * Takes the lock beside the journal. --cleanup takes it too, though it keeps no journal: its
   * cleanup steps (stopping hung queries and consumers) would break a run that is going on.
   */
  private takeLock(journalPath: string): RunLock {
    const path = lockPathFor(journalPath);
    try {
      return RunLock.acquire(path, (previous, why) => {
        this.context.stderr.write(
          `maintenance: taking over the lock ${path} of pid ${previous.pid} (started ${previous.startedAt}): ${why}.\n`,
        );
      });
    } catch (error) {
      if (error instanceof LockHeldError) throw error;
      throw new JournalError(`cannot create the lock ${path} (${(error as Error).message}); pass --journal <path> to use another file`);
    }
  }

  private printPlan({ plan, backends, jsonPath }: Request): number {
    const concurrency = Number.isFinite(plan.concurrency) ? String(plan.concurrency) : "unlimited";
    const journal = plan.journal ? `; journal ${plan.journal.path}` : "";
    const header = `Plan: ${plan.mode} of ${plan.subsystems.join(", ")}, concurrency ${concurrency}${journal}; times are simulated seconds (SIMULATION_TIME_SCALE=${timeScale(this.context.env)}).`;
    const chosen = pick(backends, plan.subsystems);
    this.context.stdout.write(formatPlan(plan.description, `${header}\n${formatBackends(chosen)}`));
    if (jsonPath) writeJsonFile(jsonPath, { version: 1, mode: "dry-run", backends: chosen, plan: plan.description });
    return EXIT_CODES.succeeded;
  }

  private async run({ plan, clients, backends, jsonPath }: Request): Promise<number> {
    const { stdout, env } = this.context;
    const live = (stdout as { isTTY?: boolean }).isTTY === true;
    const logger = new Logger("maintenance", { stream: stdout });
    const progress: Progress = live
      ? new LiveProgress(stdout, { verbose: this.verbose, maxAttempts: MAX_ATTEMPTS })
      : new LogProgress(logger, this.verbose);
    this.progress = progress;
    const { journal } = plan;
    if (journal && journal.completed.size > 0) {
      const note = `resuming the journal ${journal.path} from ${journal.startedAt} (--fresh starts over)`;
      if (live) stdout.write(`${note}\n`);
      else logger.info(note, { completedSteps: [...journal.completed] });
    }
    let report: MaintenanceReport;
    try {
      report = await runMaintenance(plan, {
        clients,
        backends: pick(backends, plan.subsystems),
        env,
        signal: this.context.signal,
        onEvent: (event) => progress.onEvent(event),
        onJournalError: (error) => progress.warn(`${error.message}; the run goes on, and its summary says what the journal holds`),
      });
    } finally {
      progress.close();
      this.progress = undefined;
    }
    stdout.write(formatSummary(report));
    if (jsonPath) writeJsonFile(jsonPath, report);
    return report.exitCode;
  }
}

/**
 * The simulated steps' timeouts (10 to 24 s) are far too short for real work on a large database or
 * bucket. Each real db statement is bounded on the server by statement_timeout (the hung-query age), so
 * a real db step may use that bound once for its longest statement and as much again for the rest.
 * A real S3 step is a stream of small calls whose number grows with the bucket, with no server-side
 * bound to derive from: it is held to the rule it applies to uploads, so a step running longer than
 * the hung-upload age counts as hung.
 */
function realStepTimeouts(backends: Record<IntegrationName, BackendChoice>, settings: IntegrationSettings): StepTimeouts {
  return {
    ...(backends.db.real && { db: 2 * settings.hungQueryAgeSeconds }),
    ...(backends.s3.real && { s3: settings.hungUploadAgeSeconds }),
  };
}

function pick(
  backends: Record<IntegrationName, BackendChoice>,
  subsystems: readonly Subsystem[],
): Partial<Record<Subsystem, BackendChoice>> {
  return Object.fromEntries(subsystems.map((subsystem) => [subsystem, backends[subsystem]]));
}
