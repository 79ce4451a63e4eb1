/**
 * Simulated time and randomness shared by every package that stands in for
 * slow real work (integrations, publish/deploy, the deliberately slow test).
 * All SIMULATION_* variables are read here, so each is validated once, the same way.
 */

export class SimulationConfigError extends Error {
  constructor(
    readonly variable: string,
    value: string,
    expected: string,
  ) {
    super(`${variable}=${JSON.stringify(value)} is invalid: expected ${expected}`);
    this.name = "SimulationConfigError";
  }
}

type Env = Record<string, string | undefined>;

/** SIMULATION_TIME_SCALE: a finite float >= 0 that multiplies every simulated wait (default 1). */
export function timeScale(env: Env = process.env): number {
  const raw = env.SIMULATION_TIME_SCALE;
  if (raw === undefined || raw.trim() === "") return 1;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new SimulationConfigError("SIMULATION_TIME_SCALE", raw, "a number >= 0, such as 1 or 0.01");
  }
  return value;
}

/** Milliseconds that `seconds` of simulated work takes at the current time scale. */
export function scaledMs(seconds: number, env: Env = process.env): number {
  return seconds * 1000 * timeScale(env);
}

/** Waits `seconds` of simulated time; rejects with the signal's reason if aborted first. */
export function simulatedDelay(seconds: number, options: { signal?: AbortSignal; env?: Env } = {}): Promise<void> {
  const ms = scaledMs(seconds, options.env);
  const { signal } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/** mulberry32: small, fast and good enough to make simulated faults reproducible. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** SIMULATION_SEED (an integer) makes random faults reproducible; unset means Math.random. */
export function randomFromEnv(env: Env = process.env): Random {
  const raw = env.SIMULATION_SEED;
  if (raw === undefined || raw.trim() === "") return Math.random;
  const seed = Number(raw.trim());
  // Past 2^53 two different seeds can parse to one number and silently repeat each other's run.
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(seed)) {
    throw new SimulationConfigError("SIMULATION_SEED", raw, "an integer from -(2^53 - 1) to 2^53 - 1, such as 42");
  }
  return seededRandom(seed);
}
