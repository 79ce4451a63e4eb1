import { type Random, randomFromEnv, SimulationConfigError, seededRandom } from "@monorepo/simulation";
import { isOperationName, OPERATION_NAMES, type OperationName } from "./operations";

type Env = Record<string, string | undefined>;

/** How an operation fails: on each call with a probability, or on its first `count` calls. */
export type Fault = { kind: "probability"; probability: number } | { kind: "first-calls"; count: number };

export type FaultPlan = Partial<Record<OperationName, Fault>>;

/** The original behaviour: the deadlock check throws "Deadlock detected" one time in three; nothing else fails. */
export const DEFAULT_FAULTS: FaultPlan = {
  "db.checkForDeadlocks": { kind: "probability", probability: 1 / 3 },
};

const FAULTS_SYNTAX =
  'comma-separated operation=probability (0 to 1) or operation=Nx (first N calls fail) entries, such as "db.checkForDeadlocks=0.5,kafka.validateCleaned=2x"';

function invalidFaults(raw: string, problem: string): SimulationConfigError {
  return new SimulationConfigError("SIMULATION_FAULTS", raw, `${FAULTS_SYNTAX} (${problem})`);
}

/** Parses SIMULATION_FAULTS into per-operation overrides; empty or unset means none. */
export function parseFaults(raw: string | undefined): FaultPlan {
  const overrides: FaultPlan = {};
  if (raw === undefined || raw.trim() === "") return overrides;
  for (const entry of raw.split(",").map((part) => part.trim())) {
    const match = /^([A-Za-z0-9.]+)=(.+)$/.exec(entry);
    if (!match) throw invalidFaults(raw, `"${entry}" is not operation=value`);
    const [, operation, value] = match;
    if (!isOperationName(operation)) {
      throw invalidFaults(raw, `unknown operation "${operation}"; known: ${OPERATION_NAMES.join(", ")}`);
    }
    if (overrides[operation]) throw invalidFaults(raw, `"${operation}" is given twice`);
    overrides[operation] = parseFaultValue(raw, operation, value);
  }
  return overrides;
}

function parseFaultValue(raw: string, operation: string, value: string): Fault {
  const firstCalls = /^(\d+)x$/.exec(value);
  if (firstCalls) return { kind: "first-calls", count: Number(firstCalls[1]) };
  if (/^(\d+(\.\d*)?|\.\d+)$/.test(value)) {
    const probability = Number(value);
    if (probability <= 1) return { kind: "probability", probability };
  }
  throw invalidFaults(raw, `"${operation}=${value}": use a probability from 0 to 1 or a count such as 2x`);
}

/**
 * Decides which calls fail. Each operation draws from its own seeded stream, so with
 * SIMULATION_SEED the n-th call of an operation has the same outcome however the
 * concurrent runner interleaves calls to different operations.
 */
export class FaultInjector {
  private readonly calls = new Map<OperationName, number>();
  private readonly streams = new Map<OperationName, Random>();

  constructor(
    private readonly faults: FaultPlan,
    random: Random,
  ) {
    for (const operation of OPERATION_NAMES) {
      this.streams.set(operation, seededRandom(Math.floor(random() * 2 ** 32)));
    }
  }

  /** The original failure rates, overridden by SIMULATION_FAULTS, seeded by SIMULATION_SEED. */
  static fromEnv(env: Env = process.env): FaultInjector {
    const faults = { ...DEFAULT_FAULTS, ...parseFaults(env.SIMULATION_FAULTS) };
    return new FaultInjector(faults, randomFromEnv(env));
  }

  /** Counts one call of `operation` and says whether that call fails. */
  shouldFail(operation: OperationName): boolean {
    const call = (this.calls.get(operation) ?? 0) + 1;
    this.calls.set(operation, call);
    const fault = this.faults[operation];
    if (!fault) return false;
    if (fault.kind === "first-calls") return call <= fault.count;
    return this.streams.get(operation)!() < fault.probability;
  }
}
