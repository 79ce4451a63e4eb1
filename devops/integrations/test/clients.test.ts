import { SimulationConfigError } from "@monorepo/simulation";
import {
  createSimulatedIntegrations,
  DeadlockDetectedError,
  IntegrationError,
  KAFKA_TOPICS,
  NotConnectedError,
  SIMULATED_SECONDS,
} from "../src/index";

const FAST = { SIMULATION_TIME_SCALE: "0" };

describe("simulated clients", () => {
  it("keeps the original durations: an operation settles exactly after its scaled time", async () => {
    jest.useFakeTimers();
    try {
      const { db } = createSimulatedIntegrations({ SIMULATION_TIME_SCALE: "1" });
      const init = db.initClient();
      await jest.advanceTimersByTimeAsync(1000);
      await init;
      let settled = false;
      const update = db.updateIndexes().then(() => (settled = true));
      await jest.advanceTimersByTimeAsync(SIMULATED_SECONDS["db.updateIndexes"] * 1000 - 1);
      expect(settled).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      await update;
      expect(settled).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  it("runs every operation of every client when nothing is set to fail", async () => {
    const { db, kafka, s3 } = createSimulatedIntegrations({ ...FAST, SIMULATION_FAULTS: "db.checkForDeadlocks=0" });
    await Promise.all([db.initClient(), kafka.initClient(), s3.initClient()]);
    await db.modifyIndexTriggers();
    await db.updateIndexes();
    await db.vacuumDatabase();
    await db.checkForDeadlocks();
    await db.stopHungQueries();
    await Promise.all(KAFKA_TOPICS.map((topic) => kafka.cleanTopic(topic)));
    await kafka.validateCleaned();
    await kafka.cleanupTopics();
    await kafka.stopConsumers();
    await s3.moveLargeBlobsToGlacier();
    await s3.cleanUpOldBlobs();
    await s3.stopHungUploads();
  });

  it("refuses operations before initClient, and initClient is idempotent", async () => {
    const { db } = createSimulatedIntegrations({ ...FAST, SIMULATION_FAULTS: "db.initClient=1x" });
    await expect(db.vacuumDatabase()).rejects.toBeInstanceOf(NotConnectedError);
    await expect(db.initClient()).rejects.toThrow("db.initClient failed (simulated fault)");
    await Promise.all([db.initClient(), db.initClient()]);
    await db.initClient();
    await expect(db.vacuumDatabase()).resolves.toBeUndefined();
  });

  it("reports a deadlock as DeadlockDetectedError and other faults as IntegrationError naming the operation", async () => {
    const { db, kafka } = createSimulatedIntegrations({
      ...FAST,
      SIMULATION_FAULTS: "db.checkForDeadlocks=1,kafka.cleanTopic=1x",
    });
    await db.initClient();
    await kafka.initClient();
    await expect(db.checkForDeadlocks()).rejects.toThrow(DeadlockDetectedError);
    await expect(db.checkForDeadlocks()).rejects.toThrow("Deadlock detected");
    const topicFailure = kafka.cleanTopic("trade-events");
    await expect(topicFailure).rejects.toBeInstanceOf(IntegrationError);
    await expect(topicFailure).rejects.toMatchObject({ operation: "kafka.cleanTopic", message: expect.stringContaining("trade-events") });
    await expect(kafka.cleanTopic("trade-events")).resolves.toBeUndefined();
  });

  it("stops an operation when its signal aborts", async () => {
    const { s3 } = createSimulatedIntegrations({ SIMULATION_TIME_SCALE: "1" });
    await expect(s3.initClient({ signal: AbortSignal.abort(new Error("stop")) })).rejects.toThrow("stop");
    const controller = new AbortController();
    const pending = s3.initClient({ signal: controller.signal });
    controller.abort(new Error("operator pressed Ctrl-C"));
    await expect(pending).rejects.toThrow("operator pressed Ctrl-C");
  });

  it.each([
    [{ SIMULATION_TIME_SCALE: "fast" }, "SIMULATION_TIME_SCALE"],
    [{ SIMULATION_SEED: "1.5" }, "SIMULATION_SEED"],
    [{ SIMULATION_FAULTS: "redis.flush=1" }, "SIMULATION_FAULTS"],
  ])("validates every SIMULATION_* variable when the clients are created (%o)", (env, variable) => {
    expect(() => createSimulatedIntegrations(env)).toThrow(SimulationConfigError);
    expect(() => createSimulatedIntegrations(env)).toThrow(new RegExp(`^${variable}=`));
  });
});
