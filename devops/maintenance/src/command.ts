import { BaseCommand, type CliContext, listOption } from "@monorepo/cli";
import {
  DEFAULT_S3_THRESHOLD_TEXT,
  type IntegrationOptions,
  type Integrations,
  parseBlobSize,
  parseDuration,
  type S3Thresholds,
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
} from "./maintenance";
import { LiveProgress, LogProgress, type Progress } from "./progress";
import { formatPlan, formatSummary } from "./report";
import { SUBSYSTEMS, type Subsystem } from "./steps";

/** `signal` (SIGINT, SIGTERM, a closed stdout): the run stops, cleans up in-flight subsystems, saves the journal. */
export interface MaintenanceContext extends CliContext {
  /** Where relative paths resolve when not under `bazel run`. */
  cwd: string;
  /** Builds the clients; validates SIMULATION_* (SimulationConfigError). `options` carries the thresholds of real S3. */
  createClients: (env: Record<string, string | undefined>, options: IntegrationOptions) => Integrations;
}

/** Everything the command needs, checked before anything runs. */
interface Request {
  plan: MaintenancePlan;
  clients: Integrations;
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

      S3 is real when MAINTENANCE_S3_BUCKET names a bucket: the AWS SDK reads its own variables (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL for an S3-compatible store, addressed path-style; AWS_REGION; AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile). It deletes blobs older than --blob-retention-days, moves blobs of at least --large-blob-size to Glacier by copying each in place (blobs over 5 GiB are refused by name), and aborts multipart uploads older than --hung-upload-age. Without the variable, S3 is simulated.

      SIMULATION_TIME_SCALE scales every simulated wait, SIMULATION_FAULTS overrides failures per operation (\`db.checkForDeadlocks=0.5\`, \`kafka.validateCleaned=2x\`), SIMULATION_SEED makes them reproducible.
    `,
    examples: [
      ["Run (or resume) all maintenance", "$0"],
      ["Show the graph, waves and critical path without running anything", "$0 --dry-run"],
      ["Run only db and Kafka, at most 2 steps at a time", "$0 --only db,kafka --concurrency 2"],
      ["Skip S3 and write a machine-readable report", "$0 --skip s3 --json report.json"],
      ["Run the cleanup steps of every subsystem, concurrently", "$0 --cleanup"],
      ["Ignore saved progress and start over, with debug logs", "$0 --fresh --verbose"],
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

  blobRetentionDays = Option.String("--blob-retention-days", {
    description: `Real S3: delete blobs last modified more than this many days ago (default: ${DEFAULT_S3_THRESHOLD_TEXT.blobRetentionDays})`,
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isAtLeast(1)]),
  });

  largeBlobSize = Option.String("--large-blob-size", {
    description: `Real S3: move blobs of at least this size to Glacier, such as 100MB or 1.5GB (KB = 1024 bytes; default: ${DEFAULT_S3_THRESHOLD_TEXT.largeBlobSize})`,
  });

  hungUploadAge = Option.String("--hung-upload-age", {
    description: `Real S3: abort multipart uploads started longer ago than this, such as 90m, 24h or 2d (default: ${DEFAULT_S3_THRESHOLD_TEXT.hungUploadAge})`,
  });

  async execute(): Promise<number> {
    let request: Request;
    try {
      request = this.prepare();
    } catch (error) {
      // A bad SIMULATION_* variable or a journal it cannot use is the caller's to fix before anything runs.
      if (error instanceof SimulationConfigError || error instanceof JournalError) throw new UsageError(error.message);
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
    const clients = this.context.createClients(env, { s3: this.s3Thresholds() });
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
      const plan = planMaintenance({ mode, subsystems, concurrency: this.concurrency, journal });
      if (!this.dryRun) journal?.save("running");
      return { plan, clients, jsonPath, lock };
    } catch (error) {
      lock?.release();
      throw error;
    }
  }

  /** The thresholds given on the command line; the others keep their defaults. */
  private s3Thresholds(): Partial<S3Thresholds> {
    const thresholds: Partial<S3Thresholds> = {};
    if (this.blobRetentionDays !== undefined) thresholds.blobRetentionDays = this.blobRetentionDays;
    if (this.largeBlobSize !== undefined) {
      thresholds.largeBlobBytes = parseBlobSize(this.largeBlobSize);
      if (thresholds.largeBlobBytes === undefined) {
        throw new UsageError(`--large-blob-size: "${this.largeBlobSize}" is not a size such as 100MB, 1.5GB or 2048 (bytes)`);
      }
    }
    if (this.hungUploadAge !== undefined) {
      thresholds.hungUploadAgeMs = parseDuration(this.hungUploadAge);
      if (thresholds.hungUploadAgeMs === undefined) {
        throw new UsageError(`--hung-upload-age: "${this.hungUploadAge}" is not a duration such as 90m, 24h or 2d`);
      }
    }
    return thresholds;
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

  private printPlan({ plan, jsonPath }: Request): number {
    const concurrency = Number.isFinite(plan.concurrency) ? String(plan.concurrency) : "unlimited";
    const journal = plan.journal ? `; journal ${plan.journal.path}` : "";
    const header = `Plan: ${plan.mode} of ${plan.subsystems.join(", ")}, concurrency ${concurrency}${journal}; times are simulated seconds (SIMULATION_TIME_SCALE=${timeScale(this.context.env)}).`;
    this.context.stdout.write(formatPlan(plan.description, header));
    if (jsonPath) writeJsonFile(jsonPath, { version: 1, mode: "dry-run", plan: plan.description });
    return EXIT_CODES.succeeded;
  }

  private async run({ plan, clients, jsonPath }: Request): Promise<number> {
    const { stdout, env } = this.context;
    const live = (stdout as { isTTY?: boolean }).isTTY === true;
    const logger = new Logger("maintenance", { stream: stdout });
    const progress: Progress = live
      ? new LiveProgress(stdout, { verbose: this.verbose, maxAttempts: MAX_ATTEMPTS })
      : new LogProgress(logger, this.verbose);
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
        env,
        signal: this.context.signal,
        onEvent: (event) => progress.onEvent(event),
        onJournalError: (error) => progress.warn(`${error.message}; the run goes on, and its summary says what the journal holds`),
      });
    } finally {
      progress.close();
    }
    stdout.write(formatSummary(report));
    if (jsonPath) writeJsonFile(jsonPath, report);
    return report.exitCode;
  }
}
