import { DeadlockDetectedError } from "./errors";
import type { OperationOptions } from "./operations";
import { SimulatedConnection, type Simulator } from "./simulated";

/** The database operations maintenance needs; a real driver implements this interface. */
export interface DbClient {
  /** Connects; idempotent, so a cleanup can call it again on a live client. */
  initClient(options?: OperationOptions): Promise<void>;
  modifyIndexTriggers(options?: OperationOptions): Promise<void>;
  updateIndexes(options?: OperationOptions): Promise<void>;
  vacuumDatabase(options?: OperationOptions): Promise<void>;
  /** Rejects with DeadlockDetectedError when sessions are deadlocked. */
  checkForDeadlocks(options?: OperationOptions): Promise<void>;
  stopHungQueries(options?: OperationOptions): Promise<void>;
}

export class SimulatedDbClient implements DbClient {
  private readonly connection: SimulatedConnection;

  constructor(simulator: Simulator) {
    this.connection = new SimulatedConnection(simulator, "db.initClient");
  }

  initClient(options?: OperationOptions): Promise<void> {
    return this.connection.connect(options);
  }

  modifyIndexTriggers(options?: OperationOptions): Promise<void> {
    return this.connection.perform("db.modifyIndexTriggers", options);
  }

  updateIndexes(options?: OperationOptions): Promise<void> {
    return this.connection.perform("db.updateIndexes", options);
  }

  vacuumDatabase(options?: OperationOptions): Promise<void> {
    return this.connection.perform("db.vacuumDatabase", options);
  }

  checkForDeadlocks(options?: OperationOptions): Promise<void> {
    return this.connection.perform("db.checkForDeadlocks", options, () => new DeadlockDetectedError());
  }

  stopHungQueries(options?: OperationOptions): Promise<void> {
    return this.connection.perform("db.stopHungQueries", options);
  }
}
