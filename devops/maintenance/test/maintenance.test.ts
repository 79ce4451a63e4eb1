import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createSimulatedIntegrations, FaultInjector, KAFKA_TOPICS, OPERATION_NAMES } from "@monorepo/integrations";
import {
  buildPlan,
  CLEANUP_STEPS,
  formatSummary,
  Journal,
  MAINTENANCE_STEPS,
  MAX_ATTEMPTS,
  type MaintenanceReport,
  planMaintenance,
  runMaintenance,
} from "../src/index";
import { mockIntegrations, tempDir } from "./helpers";

const SCALE = { SIMULATION_TIME_SCALE: "0.005", SIMULATION_SEED: "1" };

async function simulatedRun(env: Record<string, string>, options: { mode?: "maintenance" | "cleanup"; journal?: Journal } = {}) {
  const fullEnv = { ...SCALE, ...env };
  return runMaintenance(planMaintenance(options), { clients: createSimulatedIntegrations(fullEnv), env: fullEnv });
}

function stepOf(report: MaintenanceReport, id: string) {
  const found =
    report.steps.find((step) => step.id === id) ??
    Object.values(report.results)
      .flatMap((r) => r.cleanup?.steps ?? [])
      .find((step) => step.id === id);
  if (!found) throw new Error(`no step ${id} in the report`);
  return found;
}

describe("runMaintenance with mocked integrations (the original's unit check)", () => {
  it("calls every maintenance operation once, each topic once, in an order the graph allows", async () => {
    const { clients, calls } = mockIntegrations();
    const report = await runMaintenance(planMaintenance(), { clients, env: { SIMULATION_TIME_SCALE: "0" } });
    expect(report.exitCode).toBe(0);
    for (const operation of [
      clients.db.initClient,
      clients.db.modifyIndexTriggers,
      clients.db.updateIndexes,
      clients.db.vacuumDatabase,
      clients.db.checkForDeadlocks,
      clients.kafka.initClient,
      clients.kafka.validateCleaned,
      clients.s3.initClient,
      clients.s3.moveLargeBlobsToGlacier,
      clients.s3.cleanUpOldBlobs,
    ]) {
      expect(operation).toHaveBeenCalledTimes(1);
    }
    expect(clients.kafka.cleanTopic).toHaveBeenCalledTimes(KAFKA_TOPICS.length);
    for (const topic of KAFKA_TOPICS) expect(clients.kafka.cleanTopic).toHaveBeenCalledWith(topic, { signal: expect.any(AbortSignal) });
    for (const notCalled of [
      clients.db.stopHungQueries,
      clients.kafka.cleanupTopics,
      clients.kafka.stopConsumers,
      clients.s3.stopHungUploads,
    ]) {
      expect(notCalled).not.toHaveBeenCalled();
    }
    const before = (a: string, b: string) => expect(calls.indexOf(a)).toBeLessThan(calls.indexOf(b));
    before("db.initClient", "db.modifyIndexTriggers");
    before("db.modifyIndexTriggers", "db.updateIndexes");
    before("db.updateIndexes", "db.vacuumDatabase");
    before("db.vacuumDatabase", "db.checkForDeadlocks");
    for (const topic of KAFKA_TOPICS) before(`kafka.cleanTopic(${topic})`, "kafka.validateCleaned");
    before("s3.initClient", "s3.cleanUpOldBlobs");
  });

  it("--cleanup mode calls exactly the original cleanup operations", async () => {
    const { clients } = mockIntegrations();
    const report = await runMaintenance(planMaintenance({ mode: "cleanup" }), { clients, env: { SIMULATION_TIME_SCALE: "0" } });
    expect(report.exitCode).toBe(0);
    expect(report.steps.map((step) => step.id)).toEqual(
      Object.values(CLEANUP_STEPS)
        .flat()
        .map((step) => step.id),
    );
    for (const operation of [
      clients.db.checkForDeadlocks,
      clients.db.stopHungQueries,
      clients.kafka.cleanupTopics,
      clients.kafka.stopConsumers,
      clients.s3.stopHungUploads,
    ]) {
      expect(operation).toHaveBeenCalledTimes(1);
    }
    expect(clients.db.updateIndexes).not.toHaveBeenCalled();
  });
});

describe("runMaintenance with the simulated integrations (SIMULATION_TIME_SCALE=0.005)", () => {
  it("runs subsystems and topics concurrently, and each db step after the one before it", async () => {
    const report = await simulatedRun({ SIMULATION_FAULTS: "db.checkForDeadlocks=0" });
    expect(report.status).toBe("succeeded");
    const start = (id: string) => stepOf(report, id).startMs!;
    const end = (id: string) => stepOf(report, id).endMs!;
    const topics = KAFKA_TOPICS.map((topic) => `kafka.cleanTopic.${topic}`);
    // All topics are cleaned at once: every one starts before any finishes.
    expect(Math.max(...topics.map(start))).toBeLessThan(Math.min(...topics.map(end)));
    expect(start("kafka.validateCleaned")).toBeGreaterThanOrEqual(Math.max(...topics.map(end)));
    // The three subsystems overlap.
    for (const id of ["kafka.initClient", "s3.initClient"]) expect(start(id)).toBeLessThan(end("db.initClient"));
    expect(start("s3.cleanUpOldBlobs")).toBeLessThan(end("db.modifyIndexTriggers"));
    // Glacier and old-blob cleanup overlap.
    expect(start("s3.cleanUpOldBlobs")).toBeLessThan(end("s3.moveLargeBlobsToGlacier"));
    // The db chain is serial.
    const chain = ["db.initClient", "db.modifyIndexTriggers", "db.updateIndexes", "db.vacuumDatabase", "db.checkForDeadlocks"];
    for (let i = 1; i < chain.length; i++) expect(start(chain[i])).toBeGreaterThanOrEqual(end(chain[i - 1]));
  });

  it("recovers a deadlock found with the default faults: stop hung queries, then check again", async () => {
    // The first seed whose first deadlock check fails and second passes.
    const seed = Array.from({ length: 100 }, (_, i) => String(i)).find((candidate) => {
      const faults = FaultInjector.fromEnv({ SIMULATION_SEED: candidate });
      return faults.shouldFail("db.checkForDeadlocks") && !faults.shouldFail("db.checkForDeadlocks");
    })!;
    const report = await simulatedRun({ SIMULATION_SEED: seed });
    expect(report.exitCode).toBe(0);
    expect(stepOf(report, "db.checkForDeadlocks")).toMatchObject({
      status: "succeeded",
      attempts: 2,
      recoveries: 1,
      errors: ["Deadlock detected"],
    });
    expect(report.results.db).toEqual({ status: "succeeded" });
  });

  it.each(
    OPERATION_NAMES.filter(
      (operation) => !["db.stopHungQueries", "kafka.cleanupTopics", "kafka.stopConsumers", "s3.stopHungUploads"].includes(operation),
    ),
  )("recovers when %s fails once (SIMULATION_FAULTS=<op>=1x)", async (operation) => {
    const faults = operation === "db.checkForDeadlocks" ? "db.checkForDeadlocks=1x" : `db.checkForDeadlocks=0,${operation}=1x`;
    const report = await simulatedRun({ SIMULATION_FAULTS: faults });
    expect(report.exitCode).toBe(0);
    const retried = report.steps.filter((step) => step.attempts === 2);
    expect(retried).toHaveLength(1);
    expect(retried[0].id.startsWith(operation.replace("cleanTopic", "cleanTopic."))).toBe(true);
  });

  it.each(["db.stopHungQueries", "kafka.cleanupTopics", "kafka.stopConsumers", "s3.stopHungUploads", "db.checkForDeadlocks"])(
    "recovers in --cleanup mode when %s fails once",
    async (operation) => {
      const faults = operation === "db.checkForDeadlocks" ? "db.checkForDeadlocks=1x" : `db.checkForDeadlocks=0,${operation}=1x`;
      const report = await simulatedRun({ SIMULATION_FAULTS: faults }, { mode: "cleanup" });
      expect(report.exitCode).toBe(0);
      expect(report.steps.filter((step) => step.attempts === 2).map((step) => step.id)).toEqual([operation.replace(".", ".cleanup.")]);
    },
  );

  it("uses the targeted recovery for Kafka validation: clean up topics before each retry", async () => {
    const report = await simulatedRun({ SIMULATION_FAULTS: "db.checkForDeadlocks=0,kafka.validateCleaned=2x" });
    expect(report.exitCode).toBe(0);
    expect(stepOf(report, "kafka.validateCleaned")).toMatchObject({ attempts: 3, recoveries: 2 });
  });

  it("fails a subsystem whose deadlocks never clear, cleans it up, and finishes the others", async () => {
    const report = await simulatedRun({ SIMULATION_FAULTS: "db.checkForDeadlocks=1" });
    expect(report.exitCode).toBe(1);
    expect(stepOf(report, "db.checkForDeadlocks")).toMatchObject({
      status: "failed",
      attempts: MAX_ATTEMPTS,
      recoveries: MAX_ATTEMPTS - 1,
    });
    expect(report.results.db).toMatchObject({ status: "failed", failedStep: "db.checkForDeadlocks", cleanup: { reason: "failed" } });
    // The cleanup's own deadlock check keeps failing too: reported, not hidden.
    expect(report.results.db.cleanup!.status).toBe("failed");
    expect(stepOf(report, "db.cleanup.stopHungQueries").status).toBe("succeeded");
    expect(report.results.kafka).toEqual({ status: "succeeded" });
    expect(report.results.s3).toEqual({ status: "succeeded" });
    // The summary counts the cleanup's recoveries too: 6 before the step's retries, 6 before the cleanup check's.
    expect(formatSummary(report)).toContain(`recoveries: ${2 * (MAX_ATTEMPTS - 1)}.`);
  });

  it("runs s3's own cleanup when old-blob cleanup keeps failing, and blocks nothing elsewhere", async () => {
    const report = await simulatedRun({ SIMULATION_FAULTS: "db.checkForDeadlocks=0,s3.cleanUpOldBlobs=1" });
    expect(report.exitCode).toBe(1);
    expect(report.results.s3).toMatchObject({ status: "failed", failedStep: "s3.cleanUpOldBlobs", cleanup: { status: "succeeded" } });
    expect(report.results.s3.cleanup!.steps.map((step) => step.id)).toEqual(["s3.cleanup.initClient", "s3.cleanup.stopHungUploads"]);
    expect(stepOf(report, "s3.moveLargeBlobsToGlacier").status).toBe("succeeded");
    expect(report.results.db.cleanup).toBeUndefined();
  });

  it("counts a failing recovery as a failed attempt", async () => {
    const report = await simulatedRun({ SIMULATION_FAULTS: "db.checkForDeadlocks=1x,db.stopHungQueries=1" });
    expect(report.exitCode).toBe(1);
    const check = stepOf(report, "db.checkForDeadlocks");
    expect(check).toMatchObject({ status: "failed", attempts: MAX_ATTEMPTS });
    expect(check.errors[0]).toBe("Deadlock detected");
    expect(check.errors.slice(1)).toEqual(Array(MAX_ATTEMPTS - 1).fill("db.stopHungQueries failed (simulated fault)"));
  });

  it("reproduces probability faults exactly with the same SIMULATION_SEED", async () => {
    const env = { SIMULATION_SEED: "11", SIMULATION_FAULTS: "db.checkForDeadlocks=0.5,s3.moveLargeBlobsToGlacier=0.5" };
    const attempts = (report: MaintenanceReport) => report.steps.map((step) => [step.id, step.attempts]);
    const first = await simulatedRun(env);
    const second = await simulatedRun(env);
    expect(attempts(second)).toEqual(attempts(first));
    expect(first.steps.some((step) => step.attempts > 1)).toBe(true);
  });
});

describe("resuming from the journal", () => {
  it("skips what a failed run completed, repeats the connection it needs, and closes the journal when done", async () => {
    const path = join(tempDir(), "journal.json");
    const failed = await simulatedRun(
      { SIMULATION_FAULTS: "db.checkForDeadlocks=0,s3.cleanUpOldBlobs=1" },
      { journal: Journal.open(path) },
    );
    expect(failed.exitCode).toBe(1);
    const saved = Journal.open(path).completed;
    expect(saved.has("db.checkForDeadlocks")).toBe(true);
    expect(saved.has("s3.moveLargeBlobsToGlacier")).toBe(true);
    expect(saved.has("s3.cleanUpOldBlobs")).toBe(false);

    const { clients, calls } = mockIntegrations();
    const resumed = await runMaintenance(planMaintenance({ journal: Journal.open(path) }), {
      clients,
      env: { SIMULATION_TIME_SCALE: "0" },
    });
    expect(resumed.exitCode).toBe(0);
    expect(calls).toEqual(["s3.initClient", "s3.cleanUpOldBlobs"]);
    expect(resumed.journal).toMatchObject({ path, closed: true });
    expect(resumed.steps.filter((step) => step.status === "resumed")).toHaveLength(MAINTENANCE_STEPS.length - 2);
    expect(existsSync(path)).toBe(false);
  });

  it("makes a step whose predecessors are done wait for the connection this run repeats", async () => {
    const path = join(tempDir(), "journal.json");
    const failed = await simulatedRun({ SIMULATION_FAULTS: "db.checkForDeadlocks=0,db.vacuumDatabase=1" }, { journal: Journal.open(path) });
    expect(failed.results.db.failedStep).toBe("db.vacuumDatabase");
    expect([...Journal.open(path).completed]).toEqual(
      expect.arrayContaining(["db.initClient", "db.modifyIndexTriggers", "db.updateIndexes"]),
    );

    // The simulated clients refuse work before initClient, as a real connection would.
    const resumed = await simulatedRun({ SIMULATION_FAULTS: "db.checkForDeadlocks=0" }, { journal: Journal.open(path) });
    expect(resumed.exitCode).toBe(0);
    expect(resumed.plan.steps.find((step) => step.id === "db.vacuumDatabase")!.needs).toEqual(["db.initClient"]);
    const vacuum = stepOf(resumed, "db.vacuumDatabase");
    expect(vacuum).toMatchObject({ status: "succeeded", attempts: 1, errors: [] });
    expect(vacuum.startMs).toBeGreaterThanOrEqual(stepOf(resumed, "db.initClient").endMs!);
  });

  it("starts over with a fresh journal", async () => {
    const path = join(tempDir(), "journal.json");
    await simulatedRun({ SIMULATION_FAULTS: "db.checkForDeadlocks=0,s3.cleanUpOldBlobs=1" }, { journal: Journal.open(path) });
    const { clients, calls } = mockIntegrations();
    await runMaintenance(planMaintenance({ journal: Journal.open(path, { fresh: true }) }), {
      clients,
      env: { SIMULATION_TIME_SCALE: "0" },
    });
    expect(calls).toHaveLength(MAINTENANCE_STEPS.length);
  });

  it("finishes every step when the journal cannot be written, and reports that it could not be closed", async () => {
    const path = join(tempDir(), "journal.json");
    const { clients } = mockIntegrations();
    // Mid-run, a folder takes the journal's place: writes over it and its removal fail.
    (clients.db.vacuumDatabase as jest.Mock).mockImplementation(async () => {
      rmSync(path);
      mkdirSync(path);
      writeFileSync(join(path, "in-the-way"), "");
    });
    const failures: string[] = [];
    const report = await runMaintenance(planMaintenance({ journal: Journal.open(path) }), {
      clients,
      env: { SIMULATION_TIME_SCALE: "0" },
      onJournalError: (error) => failures.push(error.message),
    });
    expect(report.steps.every((step) => step.status === "succeeded" && step.errors.length === 0)).toBe(true);
    expect(Object.values(report.results).every((result) => result.status === "succeeded" && !result.cleanup)).toBe(true);
    expect(failures).toEqual([expect.stringMatching(/^cannot write the journal /)]);
    expect(report.exitCode).toBe(4);
    expect(report.journal).toMatchObject({
      closed: false,
      error: expect.stringMatching(
        /^cannot remove the journal .*; every step is done, so delete the journal or run the next cycle with --fresh/,
      ),
    });
    expect(formatSummary(report)).toContain("Journal out of date: cannot remove the journal");
  });

  it("counts a journal whose writes fail and then succeed again as up to date", async () => {
    const path = join(tempDir(), "journal.json");
    const { clients } = mockIntegrations();
    (clients.db.vacuumDatabase as jest.Mock).mockImplementation(async () => {
      rmSync(path);
      mkdirSync(path);
    });
    (clients.db.checkForDeadlocks as jest.Mock).mockImplementation(async () => rmSync(path, { recursive: true }));
    const failures: string[] = [];
    const report = await runMaintenance(planMaintenance({ journal: Journal.open(path) }), {
      clients,
      env: { SIMULATION_TIME_SCALE: "0" },
      onJournalError: (error) => failures.push(error.message),
    });
    expect(failures).toHaveLength(1);
    expect(report.exitCode).toBe(0);
    expect(report.journal).toEqual({ path, resumed: [], closed: true });
    expect(existsSync(path)).toBe(false);
  });

  it("keeps the journal after a partial selection succeeds, until every step is done", async () => {
    const path = join(tempDir(), "journal.json");
    const { clients } = mockIntegrations();
    const env = { SIMULATION_TIME_SCALE: "0" };
    const dbOnly = await runMaintenance(planMaintenance({ subsystems: ["db"], journal: Journal.open(path) }), { clients, env });
    expect(dbOnly.journal!.closed).toBe(false);
    expect(JSON.parse(require("node:fs").readFileSync(path, "utf8")).lastRun).toBe("succeeded");
    const rest = await runMaintenance(planMaintenance({ subsystems: ["kafka", "s3"], journal: Journal.open(path) }), { clients, env });
    expect(rest.journal!.closed).toBe(true);
  });
});

describe("step timeouts of real subsystems", () => {
  it("replaces the simulated timeouts of the given subsystem's steps, recoveries and cleanup, and only those", () => {
    const plan = buildPlan("maintenance", ["db", "kafka"], { db: 600 });
    const db = [...plan.steps.filter((step) => step.subsystem === "db"), ...plan.cleanup.db];
    expect(db.map((step) => step.timeoutSeconds)).toEqual(db.map(() => 600));
    expect(db.flatMap((step) => (step.recovery ? [step.recovery.timeoutSeconds] : []))).toEqual([600, 600, 600, 600, 600]);
    const kafka = plan.steps.filter((step) => step.subsystem === "kafka");
    expect(kafka.map((step) => step.timeoutSeconds)).toEqual(buildPlan("maintenance", ["kafka"]).steps.map((step) => step.timeoutSeconds));
  });

  it("are real seconds: SIMULATION_TIME_SCALE, which shortens the simulated ones, leaves them whole", async () => {
    const clients = createSimulatedIntegrations({ SIMULATION_TIME_SCALE: "0", SIMULATION_FAULTS: "db.checkForDeadlocks=0" });
    // Longer than any timeout the scale would leave (at least 250 ms), far shorter than the real 30 s.
    clients.db.updateIndexes = () => new Promise((resolve) => setTimeout(resolve, 1000));
    const env = { SIMULATION_TIME_SCALE: "0.001" };
    const real = await runMaintenance(planMaintenance({ subsystems: ["db"], stepTimeouts: { db: 30 } }), { clients, env });
    expect(real.steps.find((step) => step.id === "db.updateIndexes")).toMatchObject({ status: "succeeded", attempts: 1 });
    const simulated = await runMaintenance(planMaintenance({ subsystems: ["db"] }), { clients, env });
    expect(simulated.steps.find((step) => step.id === "db.updateIndexes")!.errors[0]).toMatch(/timed out/);
  });
});
