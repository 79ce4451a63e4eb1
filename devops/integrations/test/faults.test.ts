import { SimulationConfigError } from "@monorepo/simulation";
import { FaultInjector, parseFaults } from "../src/index";

describe("parseFaults (SIMULATION_FAULTS)", () => {
  it("reads probabilities and first-N-calls entries separated by commas", () => {
    expect(parseFaults("db.checkForDeadlocks=0.5, kafka.validateCleaned=2x,s3.initClient=1")).toEqual({
      "db.checkForDeadlocks": { kind: "probability", probability: 0.5 },
      "kafka.validateCleaned": { kind: "first-calls", count: 2 },
      "s3.initClient": { kind: "probability", probability: 1 },
    });
  });

  it("treats unset or blank as no overrides", () => {
    expect(parseFaults(undefined)).toEqual({});
    expect(parseFaults("  ")).toEqual({});
  });

  it.each([
    ["db.nope=0.5", /unknown operation "db.nope"/],
    ["db.checkForDeadlocks=1.5", /use a probability from 0 to 1/],
    ["db.checkForDeadlocks=-0.1", /use a probability from 0 to 1/],
    ["db.checkForDeadlocks=2y", /use a probability from 0 to 1 or a count/],
    ["db.checkForDeadlocks", /is not operation=value/],
    ["db.checkForDeadlocks=0.5,", /"" is not operation=value/],
    ["db.checkForDeadlocks=0.5,db.checkForDeadlocks=1x", /given twice/],
  ])("rejects %s with a SimulationConfigError naming the variable", (raw, problem) => {
    let error: unknown;
    try {
      parseFaults(raw);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SimulationConfigError);
    expect((error as SimulationConfigError).variable).toBe("SIMULATION_FAULTS");
    expect((error as Error).message).toMatch(/^SIMULATION_FAULTS=.* is invalid/);
    expect((error as Error).message).toMatch(problem);
  });
});

describe("FaultInjector", () => {
  function outcomes(injector: FaultInjector, operation: "db.checkForDeadlocks" | "kafka.validateCleaned", calls: number) {
    return Array.from({ length: calls }, () => injector.shouldFail(operation));
  }

  it("fails only the deadlock check by default, about one call in three", () => {
    const injector = FaultInjector.fromEnv({ SIMULATION_SEED: "7" });
    const failures = outcomes(injector, "db.checkForDeadlocks", 3000).filter(Boolean).length;
    expect(failures / 3000).toBeGreaterThan(0.3);
    expect(failures / 3000).toBeLessThan(0.37);
    expect(outcomes(injector, "kafka.validateCleaned", 100)).not.toContain(true);
  });

  it("fails exactly the first N calls for Nx", () => {
    const injector = FaultInjector.fromEnv({ SIMULATION_FAULTS: "kafka.validateCleaned=2x" });
    expect(outcomes(injector, "kafka.validateCleaned", 5)).toEqual([true, true, false, false, false]);
  });

  it("lets an override turn the default deadlock fault off", () => {
    const injector = FaultInjector.fromEnv({ SIMULATION_FAULTS: "db.checkForDeadlocks=0" });
    expect(outcomes(injector, "db.checkForDeadlocks", 200)).not.toContain(true);
  });

  it("repeats the same outcomes for the same SIMULATION_SEED, whatever else is called in between", () => {
    const env = { SIMULATION_SEED: "42", SIMULATION_FAULTS: "kafka.validateCleaned=0.5" };
    const alone = outcomes(FaultInjector.fromEnv(env), "db.checkForDeadlocks", 50);
    const interleaved = FaultInjector.fromEnv(env);
    const mixed = Array.from({ length: 50 }, () => {
      interleaved.shouldFail("kafka.validateCleaned");
      return interleaved.shouldFail("db.checkForDeadlocks");
    });
    expect(mixed).toEqual(alone);
    expect(outcomes(FaultInjector.fromEnv({ SIMULATION_SEED: "43" }), "db.checkForDeadlocks", 50)).not.toEqual(alone);
  });

  it("rejects a bad SIMULATION_SEED", () => {
    expect(() => FaultInjector.fromEnv({ SIMULATION_SEED: "abc" })).toThrow(/SIMULATION_SEED="abc" is invalid/);
  });
});
