import type { OperationName } from "./operations";

/** An operation on db, kafka or s3 failed; `operation` says which one. */
export class IntegrationError extends Error {
  constructor(
    readonly operation: OperationName,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "IntegrationError";
  }
}

/** The deadlock check found a deadlock; stopping hung queries is the known remedy. */
export class DeadlockDetectedError extends IntegrationError {
  constructor() {
    super("db.checkForDeadlocks", "Deadlock detected");
    this.name = "DeadlockDetectedError";
  }
}

/** An operation was called before its client's initClient finished. */
export class NotConnectedError extends IntegrationError {
  constructor(operation: OperationName) {
    const client = operation.split(".")[0];
    super(operation, `${operation} needs ${client}.initClient first`);
    this.name = "NotConnectedError";
  }
}
