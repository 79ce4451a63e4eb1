import { randomFromEnv, SimulationConfigError, scaledMs, seededRandom, simulatedDelay, timeScale } from "../src";

describe("timeScale", () => {
  it("defaults to 1 and reads SIMULATION_TIME_SCALE", () => {
    expect(timeScale({})).toBe(1);
    expect(timeScale({ SIMULATION_TIME_SCALE: "0.01" })).toBe(0.01);
    expect(scaledMs(8, { SIMULATION_TIME_SCALE: "0.5" })).toBe(4000);
  });

  it.each(["fast", "-1", "NaN", "Infinity"])("rejects %s and names the variable", (value) => {
    expect(() => timeScale({ SIMULATION_TIME_SCALE: value })).toThrow(SimulationConfigError);
    expect(() => timeScale({ SIMULATION_TIME_SCALE: value })).toThrow(/SIMULATION_TIME_SCALE/);
  });
});

describe("simulatedDelay", () => {
  it("waits the scaled time", async () => {
    const started = Date.now();
    await simulatedDelay(1, { env: { SIMULATION_TIME_SCALE: "0.05" } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it("rejects with the abort reason when aborted", async () => {
    const controller = new AbortController();
    const delay = simulatedDelay(60, { signal: controller.signal, env: {} });
    controller.abort(new Error("stop"));
    await expect(delay).rejects.toThrow("stop");
  });

  it("rejects at once when the signal is already aborted", async () => {
    await expect(simulatedDelay(60, { signal: AbortSignal.abort(new Error("late")), env: {} })).rejects.toThrow("late");
  });
});

describe("random sources", () => {
  it("repeats the same sequence for the same seed", () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const first = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(first);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(seededRandom(8)()).not.toBe(first[0]);
  });

  it("reads SIMULATION_SEED and rejects non-integers", () => {
    expect(randomFromEnv({ SIMULATION_SEED: "3" })()).toBe(seededRandom(3)());
    expect(randomFromEnv({})).toBe(Math.random);
    expect(() => randomFromEnv({ SIMULATION_SEED: "abc" })).toThrow(/SIMULATION_SEED/);
    expect(randomFromEnv({ SIMULATION_SEED: "-999999999999999" })()).toBe(seededRandom(-999999999999999)());
    // These two differ, but both parse to the same double: refused rather than silently the same run.
    for (const seed of ["123456789012345678901", "123456789012345678902"]) {
      expect(() => randomFromEnv({ SIMULATION_SEED: seed })).toThrow(
        /^SIMULATION_SEED=".*" is invalid: expected an integer from -\(2\^53 - 1\) to 2\^53 - 1/,
      );
    }
  });
});
