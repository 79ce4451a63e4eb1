/**
 * Every remote operation, with the duration of the original's simulated work (the original
 * timing table). These durations are the workload maintenance is measured on, so the
 * simulated clients and the runner's estimates both read them from here.
 */
export const SIMULATED_SECONDS = {
  "db.initClient": 1,
  "db.modifyIndexTriggers": 5,
  "db.updateIndexes": 8,
  "db.vacuumDatabase": 3,
  "db.checkForDeadlocks": 4,
  "db.stopHungQueries": 8,
  "kafka.initClient": 1,
  "kafka.cleanTopic": 2,
  "kafka.validateCleaned": 8,
  "kafka.cleanupTopics": 1,
  "kafka.stopConsumers": 2,
  "s3.initClient": 1,
  "s3.moveLargeBlobsToGlacier": 8,
  "s3.cleanUpOldBlobs": 10,
  "s3.stopHungUploads": 8,
} as const;

export type OperationName = keyof typeof SIMULATED_SECONDS;

export const OPERATION_NAMES = Object.keys(SIMULATED_SECONDS) as OperationName[];

export function isOperationName(name: string): name is OperationName {
  return Object.hasOwn(SIMULATED_SECONDS, name);
}

/** What every operation accepts: a signal that cancels it (timeouts, Ctrl-C). */
export interface OperationOptions {
  signal?: AbortSignal;
}
