import { simulatedDelay, timeScale } from "@monorepo/simulation";
import { IntegrationError, NotConnectedError } from "./errors";
import { FaultInjector } from "./faults";
import { type OperationName, type OperationOptions, SIMULATED_SECONDS } from "./operations";

type Env = Record<string, string | undefined>;

/**
 * The shared body of every simulated operation: wait its original duration (scaled by
 * SIMULATION_TIME_SCALE, cancellable by the caller's signal), then fail if the fault
 * plan says this call fails.
 */
export class Simulator {
  readonly faults: FaultInjector;

  /** Reads and validates every SIMULATION_* variable now, before any work starts. */
  constructor(private readonly env: Env = process.env) {
    timeScale(env);
    this.faults = FaultInjector.fromEnv(env);
  }

  async perform(
    operation: OperationName,
    options: OperationOptions = {},
    failure: () => Error = () => new IntegrationError(operation, `${operation} failed (simulated fault)`),
  ): Promise<void> {
    const fails = this.faults.shouldFail(operation);
    await simulatedDelay(SIMULATED_SECONDS[operation], { signal: options.signal, env: this.env });
    if (fails) throw failure();
  }
}

/**
 * A simulated connection: initClient is idempotent (concurrent and repeated calls share
 * one connect, as a real pool would), and operations refuse to run before it.
 */
export class SimulatedConnection {
  private connected: Promise<void> | undefined;
  private ready = false;

  constructor(
    private readonly simulator: Simulator,
    private readonly initOperation: OperationName,
  ) {}

  connect(options: OperationOptions = {}): Promise<void> {
    if (!this.connected) {
      this.connected = this.simulator.perform(this.initOperation, options).then(
        () => {
          this.ready = true;
        },
        (error: unknown) => {
          this.connected = undefined;
          throw error;
        },
      );
    }
    return this.connected;
  }

  perform(operation: OperationName, options?: OperationOptions, failure?: () => Error): Promise<void> {
    if (!this.ready) return Promise.reject(new NotConnectedError(operation));
    return this.simulator.perform(operation, options, failure);
  }
}
