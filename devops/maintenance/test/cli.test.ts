import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createSimulatedIntegrations } from "@monorepo/integrations";
import { type NodeRun, waitFor } from "@monorepo/testing";
import * as graph from "../src/graph";
import { Journal, type MaintenanceReport } from "../src/index";
import { mockIntegrations, runInProcess, spawnCli, tempDir } from "./helpers";

const FAST = { SIMULATION_TIME_SCALE: "0.01", SIMULATION_SEED: "5", SIMULATION_FAULTS: "db.checkForDeadlocks=0" };
/** Tests that start several CLI processes one after another; each start takes a second or more on a busy machine. */
const SPAWNING_TEST_TIMEOUT_MS = 60_000;

describe("usage errors: exit 2, a clear message, and nothing runs", () => {
  it.each([
    [["--bogus"], {}, /Unsupported option name \("--bogus"\)/],
    [["--only", "db,redis"], {}, /Invalid value for --only\[1\]: expected one of "db", "kafka", or "s3" \(got "redis"\)/],
    [["--only", "db", "--only", "kafka"], {}, /--only: given 2 times; list the values once, comma-separated: --only db,kafka/],
    [["--skip", "s4"], {}, /Invalid value for --skip\[0\]: expected one of "db", "kafka", or "s3" \(got "s4"\)/],
    [["--only", "db", "--skip", "db"], {}, /leave no subsystem to run/],
    [["--concurrency", "0"], {}, /Invalid value for --concurrency: expected to be at least 1/],
    [["--concurrency", "two"], {}, /Invalid value for --concurrency: expected a number/],
    [["--concurrency", "1.5"], {}, /Invalid value for --concurrency: expected to be an integer/],
    [["--cleanup", "--fresh"], {}, /option --cleanup forbids using option --fresh/],
    [[], { SIMULATION_FAULTS: "db.vacuum=1" }, /SIMULATION_FAULTS="db.vacuum=1" is invalid: .*unknown operation "db.vacuum"/],
    [[], { SIMULATION_FAULTS: "db.vacuumDatabase=2" }, /SIMULATION_FAULTS=.* is invalid: .*probability from 0 to 1/],
    [[], { SIMULATION_TIME_SCALE: "-1" }, /SIMULATION_TIME_SCALE="-1" is invalid/],
    [[], { SIMULATION_SEED: "soon" }, /SIMULATION_SEED="soon" is invalid/],
  ])("%j with %j", async (argv, env, message) => {
    const state = tempDir();
    const { clients, calls } = mockIntegrations();
    const result = await runInProcess(
      [...argv, "--json", join(state, "report.json")],
      { XDG_STATE_HOME: state, ...env },
      {
        // Validates SIMULATION_* like the real factory, but no operation can run for real.
        createClients: (clientEnv) => {
          createSimulatedIntegrations(clientEnv);
          return clients;
        },
      },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/^maintenance: [^\n]* \(see "maintenance --help"\)\n$/);
    expect(calls).toEqual([]);
    expect(readdirSync(state)).toEqual([]);
  });

  it("rejects a corrupt journal without touching it", async () => {
    const state = tempDir();
    const journal = join(state, "journal.json");
    writeFileSync(journal, "{ torn");
    const result = await runInProcess(["--journal", journal], FAST);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot read the journal .*journal.json .*pass --fresh/);
    expect(readFileSync(journal, "utf8")).toBe("{ torn");
  });

  it.each([
    ["--journal", "a-file/journal.json", /cannot create the lock .*a-file\/journal.json.lock \(EEXIST/],
    ["--json", "a-file/report.json", /--json: cannot write a report to .*a-file\/report.json \(ENOTDIR/],
    ["--json", ".", /--json: cannot write a report to .* is a directory/],
  ])("refuses %s %s, which cannot be written, before running anything", async (flag, path, message) => {
    const state = tempDir();
    const elsewhere = tempDir();
    writeFileSync(join(elsewhere, "a-file"), "not a folder");
    const { clients, calls } = mockIntegrations();
    const result = await runInProcess([flag, join(elsewhere, path)], { ...FAST, XDG_STATE_HOME: state }, { createClients: () => clients });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(calls).toEqual([]);
    expect(readdirSync(state)).toEqual([]);
  });

  it("exits 2 from a real process too", async () => {
    const result = await spawnCli(["--concurrency", "-3"], FAST);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--concurrency/);
  });
});

describe("the maintenance CLI in process", () => {
  it("prints the summary table and closes the journal after a complete run", async () => {
    const state = tempDir();
    const { clients } = mockIntegrations();
    const result = await runInProcess(
      ["--verbose"],
      { SIMULATION_TIME_SCALE: "0", XDG_STATE_HOME: state },
      { createClients: () => clients },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^db\.checkForDeadlocks +succeeded +1 +\d+\.\d\ds$/m);
    expect(result.stdout).toContain("Maintenance succeeded in");
    expect(result.stdout).toContain("Journal closed (every step done): the next run starts fresh.");
    expect(result.stdout).toContain("Exit code 0.");
  });

  it("--dry-run --json writes the plan as JSON and runs nothing", async () => {
    const dir = tempDir();
    const { clients, calls } = mockIntegrations();
    const result = await runInProcess(
      ["--dry-run", "--only", "kafka", "--json", join(dir, "plan.json")],
      { XDG_STATE_HOME: dir },
      { createClients: () => clients },
    );
    expect(result.code).toBe(0);
    expect(calls).toEqual([]);
    const plan = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8"));
    expect(plan).toMatchObject({
      mode: "dry-run",
      plan: { criticalPath: { seconds: 11 }, serialSeconds: 19, cleanup: { kafka: expect.any(Array) } },
    });
    expect(readdirSync(dir)).toEqual(["plan.json"]);
  });
});

describe("one run does its work once", () => {
  afterEach(() => jest.restoreAllMocks());

  it("validates no step data at run time and saves the journal as running once before the first step", async () => {
    const state = tempDir();
    const { clients } = mockIntegrations();
    const validate = jest.spyOn(graph, "validateGraph");
    const save = jest.spyOn(Journal.prototype, "save");
    const result = await runInProcess(
      ["--only", "db"],
      { SIMULATION_TIME_SCALE: "0", XDG_STATE_HOME: state },
      { createClients: () => clients },
    );
    expect(result.code).toBe(0);
    expect(validate).not.toHaveBeenCalled();
    // jest numbers every mock call in one sequence, the client operations' and the journal's alike.
    const firstStep = clients.db.initClient as jest.Mock;
    expect(firstStep).toHaveBeenCalledTimes(1);
    const savesBeforeFirstStep = save.mock.calls.filter((_, i) => save.mock.invocationCallOrder[i] < firstStep.mock.invocationCallOrder[0]);
    expect(savesBeforeFirstStep).toEqual([["running"]]);
  });
});

describe("the maintenance CLI as a process", () => {
  it("--help shows the options, the lock, the exit codes and examples", async () => {
    const result = await spawnCli(["--help"], {});
    expect(result.code).toBe(0);
    // clipanion wraps the details at 80 columns.
    const text = result.stdout.replace(/\s+/g, " ");
    for (const expected of [
      "--cleanup",
      "--verbose",
      "--dry-run",
      "--only",
      "--skip",
      "--concurrency",
      "--journal",
      "--fresh",
      "--json",
      "Examples",
    ]) {
      expect(text).toContain(expected);
    }
    for (const expected of ["<journal>.lock", "3 another run holds the lock", "4 the journal ended out of date", "130 interrupted"])
      expect(text).toContain(expected);
  });

  it("--dry-run prints the graph, waves and critical path, and creates nothing", async () => {
    const state = tempDir();
    const result = await spawnCli(["--dry-run", "--concurrency", "2"], { ...FAST, XDG_STATE_HOME: state });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      "Critical path: db.initClient -> db.modifyIndexTriggers -> db.updateIndexes -> db.vacuumDatabase -> db.checkForDeadlocks = 21s",
    );
    expect(result.stdout).toContain("Estimated wall time: 30s (one after another: 59s)");
    expect(result.stdout).toContain("1. db.initClient, kafka.initClient, s3.initClient");
    expect(result.stdout).toContain("Dry run: nothing was run.");
    expect(readdirSync(state)).toEqual([]);
  });

  it("runs everything, prints the summary table and writes the --json report relative to BUILD_WORKING_DIRECTORY", async () => {
    const workspace = tempDir();
    const state = tempDir();
    const result = await spawnCli(["--json", "out/report.json", "--concurrency", "4"], {
      ...FAST,
      XDG_STATE_HOME: state,
      BUILD_WORKING_DIRECTORY: workspace,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/STEP +STATUS +ATTEMPTS +DURATION/);
    expect(result.stdout).toMatch(/kafka\.validateCleaned +succeeded +1 +\d+\.\d\ds/);
    const report: MaintenanceReport = JSON.parse(readFileSync(join(workspace, "out", "report.json"), "utf8"));
    expect(report).toMatchObject({
      version: 1,
      mode: "maintenance",
      status: "succeeded",
      exitCode: 0,
      timeScale: 0.01,
      concurrency: 4,
      subsystems: ["db", "kafka", "s3"],
    });
    expect(report.plan.criticalPath.seconds).toBe(21);
    expect(report.steps).toHaveLength(15);
    for (const step of report.steps) {
      expect(step).toMatchObject({ status: "succeeded", attempts: 1, recoveries: 0, errors: [] });
      expect(step.durationMs).toBeGreaterThan(0);
    }
    expect(report.results).toEqual({ db: { status: "succeeded" }, kafka: { status: "succeeded" }, s3: { status: "succeeded" } });
    // A complete cycle closes the journal.
    expect(report.journal).toMatchObject({ path: join(state, "acme-maintenance", "journal.json"), closed: true });
    expect(existsSync(report.journal!.path)).toBe(false);
  });

  it("exits 1 and reports the failed subsystem, its cleanup and the healthy ones", async () => {
    const dir = tempDir();
    const result = await spawnCli(["--only", "db,kafka", "--journal", join(dir, "j.json"), "--json", join(dir, "r.json")], {
      ...FAST,
      SIMULATION_FAULTS: "kafka.validateCleaned=1",
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      "kafka: failed: kafka.validateCleaned - kafka.validateCleaned failed (simulated fault) (cleanup succeeded)",
    );
    const report: MaintenanceReport = JSON.parse(readFileSync(join(dir, "r.json"), "utf8"));
    expect(report.exitCode).toBe(1);
    expect(report.results.db).toEqual({ status: "succeeded" });
    expect(report.results.kafka.cleanup!.steps.map((step) => [step.id, step.status])).toEqual([
      ["kafka.cleanup.initClient", "succeeded"],
      ["kafka.cleanup.cleanupTopics", "succeeded"],
      ["kafka.cleanup.stopConsumers", "succeeded"],
    ]);
    expect(JSON.parse(readFileSync(join(dir, "j.json"), "utf8")).lastRun).toBe("failed");
  });

  it("--cleanup runs every subsystem's cleanup steps concurrently and no maintenance step", async () => {
    const dir = tempDir();
    const result = await spawnCli(["--cleanup", "--json", join(dir, "r.json")], { ...FAST, XDG_STATE_HOME: dir });
    expect(result.code).toBe(0);
    const report: MaintenanceReport = JSON.parse(readFileSync(join(dir, "r.json"), "utf8"));
    expect(report.mode).toBe("cleanup");
    expect(report.steps.every((step) => step.id.includes(".cleanup.") && step.status === "succeeded")).toBe(true);
    const start = (id: string) => report.steps.find((step) => step.id === id)!.startMs!;
    const end = (id: string) => report.steps.find((step) => step.id === id)!.endMs!;
    expect(start("s3.cleanup.stopHungUploads")).toBeLessThan(end("db.cleanup.stopHungQueries"));
    expect(start("kafka.cleanup.cleanupTopics")).toBeLessThan(end("kafka.cleanup.stopConsumers"));
  });

  it.each(["SIGINT", "SIGTERM"] as const)(
    "on %s mid-run: exits 130 after cleaning up in-flight subsystems and saving the journal; the next run resumes",
    async (signal) => {
      const dir = tempDir();
      const journal = join(dir, "journal.json");
      const reportPath = join(dir, "report.json");
      const env = { ...FAST, SIMULATION_TIME_SCALE: "0.05" };
      const topicsDone = () =>
        existsSync(journal) &&
        Object.keys(JSON.parse(readFileSync(journal, "utf8")).completed).filter((id) => id.startsWith("kafka.cleanTopic.")).length === 5;
      const interrupted = await spawnCli(["--journal", journal, "--json", reportPath], env, (child) => {
        // Once every topic is cleaned, db (its trigger change), kafka (validation) and s3 are mid-step.
        waitFor(topicsDone).then(
          () => child.kill(signal),
          () => child.kill("SIGKILL"),
        );
      });
      expect(interrupted.code).toBe(130);
      expect(interrupted.stderr).toContain(`maintenance: ${signal} received, stopping; ${signal} again exits at once\n`);
      const report: MaintenanceReport = JSON.parse(readFileSync(reportPath, "utf8"));
      expect(report.status).toBe("interrupted");
      for (const subsystem of ["db", "kafka", "s3"]) {
        expect(report.results[subsystem]).toMatchObject({ status: "interrupted", cleanup: { reason: "interrupted", status: "succeeded" } });
      }
      expect(report.steps.find((step) => step.id === "kafka.validateCleaned")!.status).toBe("interrupted");
      expect(report.steps.find((step) => step.id === "db.checkForDeadlocks")!.status).toBe("cancelled");
      const saved = JSON.parse(readFileSync(journal, "utf8"));
      expect(saved.lastRun).toBe("interrupted");
      expect(Object.keys(saved.completed)).toEqual(
        expect.arrayContaining(["kafka.cleanTopic.user-events", "kafka.cleanTopic.maintenance-events"]),
      );
      expect(Object.keys(saved.completed)).not.toContain("kafka.validateCleaned");
      expect(existsSync(`${journal}.lock`)).toBe(false);

      const resumed = await spawnCli(["--journal", journal, "--json", reportPath], { ...FAST });
      expect(resumed.code).toBe(0);
      const second: MaintenanceReport = JSON.parse(readFileSync(reportPath, "utf8"));
      expect(second.journal!.resumed).toEqual(expect.arrayContaining(KAFKA_TOPIC_STEPS));
      expect(second.steps.filter((step) => KAFKA_TOPIC_STEPS.includes(step.id)).every((step) => step.status === "resumed")).toBe(true);
      expect(second.steps.find((step) => step.id === "kafka.initClient")!.status).toBe("succeeded");
      expect(existsSync(journal)).toBe(false);
    },
  );
});

describe("one run at a time", () => {
  it(
    "refuses a second run and --cleanup while a run holds the journal's lock; --dry-run and another journal run; a second SIGTERM still releases it",
    async () => {
      const dir = tempDir();
      const journal = join(dir, "journal.json");
      const lock = `${journal}.lock`;
      const others: Record<string, NodeRun> = {};
      let firstPid = 0;
      // At full scale the first run lasts far longer than the others take.
      const first = await spawnCli(["--journal", journal], { ...FAST, SIMULATION_TIME_SCALE: "1" }, (child) => {
        firstPid = child.pid!;
        const whileItRuns = async () => {
          await waitFor(() => existsSync(lock));
          others.second = await spawnCli(["--journal", journal], FAST);
          others.cleanup = await spawnCli(["--cleanup", "--journal", journal], FAST);
          others.dryRun = await spawnCli(["--dry-run", "--journal", journal], FAST);
          others.elsewhere = await spawnCli(["--journal", join(dir, "elsewhere.json")], FAST);
          // The second signal exits at once (process.exit): no finally block runs, the exit handler must release.
          child.stderr!.on("data", (chunk: Buffer) => {
            if (chunk.toString().includes("SIGTERM received, stopping")) child.kill("SIGTERM");
          });
          child.kill("SIGTERM");
        };
        whileItRuns().catch(() => child.kill("SIGKILL"));
      });
      const held = new RegExp(`another maintenance run \\(pid ${firstPid}, started [^)]+\\) holds the lock ${lock}; wait for it to finish`);
      expect(others.second).toMatchObject({ code: 3, stdout: "" });
      expect(others.second.stderr).toMatch(held);
      expect(others.cleanup).toMatchObject({ code: 3, stdout: "" });
      expect(others.cleanup.stderr).toMatch(held);
      expect(others.dryRun.code).toBe(0);
      expect(others.dryRun.stdout).toContain("Dry run: nothing was run.");
      expect(others.elsewhere.code).toBe(0);
      expect(first.code).toBe(130);
      expect(first.stderr).toContain("SIGTERM again exits at once");
      expect(existsSync(lock)).toBe(false);
    },
    SPAWNING_TEST_TIMEOUT_MS,
  );

  it(
    "takes over the lock a killed run left behind, with a line saying so, and resumes its journal",
    async () => {
      const dir = tempDir();
      const journal = join(dir, "journal.json");
      const lock = `${journal}.lock`;
      let killedPid = 0;
      // At this scale the db chain runs two seconds after the topics: time for the kill on a busy machine.
      const killed = await spawnCli(["--journal", journal], { ...FAST, SIMULATION_TIME_SCALE: "0.1" }, (child) => {
        killedPid = child.pid!;
        // Killed once a topic is cleaned (a step a new process does not repeat): no handler runs, the lock stays.
        waitFor(
          () =>
            existsSync(journal) &&
            Object.keys(JSON.parse(readFileSync(journal, "utf8")).completed).some((id) => id.startsWith("kafka.cleanTopic.")),
        ).then(
          () => child.kill("SIGKILL"),
          () => child.kill("SIGKILL"),
        );
      });
      expect(killed.signal).toBe("SIGKILL");
      expect(JSON.parse(readFileSync(lock, "utf8")).pid).toBe(killedPid);

      const next = await spawnCli(["--journal", journal, "--json", join(dir, "report.json")], FAST);
      expect(next.code).toBe(0);
      expect(next.stderr).toMatch(
        new RegExp(`^maintenance: taking over the lock ${lock} of pid ${killedPid} \\(started [^)]+\\): it is no longer running\\.$`, "m"),
      );
      const report: MaintenanceReport = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"));
      expect(report.journal!.resumed.length).toBeGreaterThan(0);
      expect(existsSync(lock)).toBe(false);
      expect(existsSync(journal)).toBe(false);
    },
    SPAWNING_TEST_TIMEOUT_MS,
  );

  it("refuses a lock held on another host and leaves it alone", async () => {
    const dir = tempDir();
    const lock = join(dir, "journal.json.lock");
    const content = JSON.stringify({ pid: 4242, hostname: "build-7.example", startedAt: "2030-01-01T00:00:00.000Z", token: "theirs" });
    writeFileSync(lock, content);
    const result = await spawnCli(["--journal", join(dir, "journal.json")], FAST);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /maintenance run on host build-7.example \(pid 4242, started 2030-01-01T00:00:00.000Z\) holds the lock .*delete the lock once you are sure it has stopped/,
    );
    expect(readFileSync(lock, "utf8")).toBe(content);
    expect(readdirSync(dir)).toEqual(["journal.json.lock"]);
  });
});

describe("a journal that fails mid-run", () => {
  it(
    "does not stop the run or fail its steps: a summary, the --json report and exit 4 say it ended out of date",
    async () => {
      const dir = tempDir();
      const state = join(dir, "state");
      const journal = join(state, "journal.json");
      const reportPath = join(dir, "report.json");
      // Without s3 the cycle stays open, so the run ends by saving the journal, which fails too. At
      // this scale the db chain runs two seconds after the topics: time to break the journal first.
      const env = { ...FAST, SIMULATION_TIME_SCALE: "0.1" };
      const result = await spawnCli(["--only", "db,kafka", "--journal", journal, "--json", reportPath], env, (child) => {
        // Once a topic is saved, the journal's folder becomes a file: a write failure that root's
        // permissions cannot prevent. The db chain still has most of its steps to go.
        const topicSaved = () =>
          existsSync(journal) &&
          Object.keys(JSON.parse(readFileSync(journal, "utf8")).completed).some((id) => id.startsWith("kafka.cleanTopic."));
        waitFor(topicSaved).then(
          () => {
            renameSync(state, `${state}.moved`);
            writeFileSync(state, "a file where the journal's folder was");
          },
          () => child.kill("SIGKILL"),
        );
      });
      expect(result.stderr).toBe("");
      expect(result.code).toBe(4);
      const warnings = result.stdout.split("\n").filter((line) => line.includes("the run goes on"));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/"level":"WARN".*cannot write the journal /);
      expect(result.stdout).toMatch(/^db\.checkForDeadlocks +succeeded +1 /m);
      expect(result.stdout).toContain(`Journal out of date: cannot write the journal ${journal} (`);
      expect(result.stdout).toContain("the next run resumes from what it last saved and repeats the steps done since.\nExit code 4.\n");

      const report: MaintenanceReport = JSON.parse(readFileSync(reportPath, "utf8"));
      expect(report).toMatchObject({
        status: "succeeded",
        exitCode: 4,
        journal: { path: journal, closed: false, error: expect.stringMatching(/cannot write the journal .*\((EEXIST|ENOTDIR)/) },
      });
      // The journal's failure failed no step and started no cleanup.
      expect(report.results).toEqual({ db: { status: "succeeded" }, kafka: { status: "succeeded" } });
      for (const step of report.steps) expect(step).toMatchObject({ status: "succeeded", errors: [] });
      // What the journal holds is where it stopped being written.
      const saved = JSON.parse(readFileSync(join(`${state}.moved`, "journal.json"), "utf8"));
      expect(Object.keys(saved.completed)).not.toContain("db.checkForDeadlocks");
    },
    SPAWNING_TEST_TIMEOUT_MS,
  );
});

const KAFKA_TOPIC_STEPS = ["user-events", "stock-events", "trade-events", "notification-events", "maintenance-events"].map(
  (topic) => `kafka.cleanTopic.${topic}`,
);

describe("real backends' options", () => {
  it.each([
    [["--hung-query-age", "soon"], /--hung-query-age: expected a duration such as 90s, 5m or 1h \(got "soon"\)/],
    [["--lock-wait-limit", "0s"], /--lock-wait-limit: expected a duration/],
    [["--blob-retention-days", "0"], /--blob-retention-days: expected to be at least 1/],
    [["--large-blob-size", "100M"], /--large-blob-size: expected a size such as 100MB, 1.5GB or 2048 \(got "100M"\)/],
    [["--large-blob-size", "1e3"], /--large-blob-size: expected a size/],
    [["--hung-upload-age", "soon"], /--hung-upload-age: expected a duration/],
  ])("%j is a usage error", async (argv, message) => {
    const { clients, calls } = mockIntegrations();
    const result = await runInProcess(argv, { XDG_STATE_HOME: tempDir() }, { createClients: () => clients });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(calls).toEqual([]);
  });

  it("hands the thresholds to the clients, and --help documents them and which subsystems can be real", async () => {
    const { clients } = mockIntegrations();
    const createClients = jest.fn(() => clients);
    await runInProcess(
      [
        "--dry-run",
        "--hung-query-age",
        "10m",
        "--lock-wait-limit",
        "90s",
        "--blob-retention-days",
        "90",
        "--large-blob-size",
        "1.5GB",
        "--hung-upload-age",
        "2d",
      ],
      { XDG_STATE_HOME: tempDir() },
      { createClients },
    );
    expect(createClients).toHaveBeenCalledWith(expect.anything(), {
      settings: expect.objectContaining({
        hungQueryAgeSeconds: 600,
        lockWaitLimitSeconds: 90,
        blobRetentionDays: 90,
        largeBlobBytes: 1.5 * 1024 ** 3,
        hungUploadAgeSeconds: 2 * 86400,
      }),
      log: expect.any(Function),
    });
    const help = await runInProcess(["--help"], {});
    expect(help.stdout).toMatch(/--hung-query-age #0 +Real db: .*\(default 5m; 90s, 5m, 1h\)/);
    expect(help.stdout).toContain("kafka is always simulated");
    expect(help.stdout).toContain("db is real when DATABASE_URL");
    expect(help.stdout).toMatch(/s3 is\s+real when\s+MAINTENANCE_S3_BUCKET/);
    expect(help.stdout).toMatch(/--large-blob-size #0 +Real S3: .*\(default 100MB;/);
    expect(help.stdout).toMatch(/--hung-upload-age #0 +Real S3: .*\(default 1d;/);
  });

  it("--dry-run says every subsystem is simulated when none is configured", async () => {
    const result = await runInProcess(["--dry-run"], { XDG_STATE_HOME: tempDir() });
    expect(result.stdout).toMatch(
      /^Backends: db simulated \(set DATABASE_URL .*\); kafka simulated \(no real client\); s3 simulated \(set MAINTENANCE_S3_BUCKET /m,
    );
  });
});
