import { awsS3ClientFromEnv } from "./aws-s3";
import { type DbClient, SimulatedDbClient } from "./db";
import { type KafkaClient, SimulatedKafkaClient } from "./kafka";
import { type S3Client, SimulatedS3Client } from "./s3";
import type { S3Thresholds } from "./s3-settings";
import { Simulator } from "./simulated";

export {
  AwsS3Client,
  type AwsS3ClientOptions,
  awsS3ClientFromEnv,
  GLACIER,
  MAX_COPY_OBJECT_BYTES,
  MAX_KEYS_PER_DELETE,
} from "./aws-s3";

export { type DbClient, SimulatedDbClient } from "./db";
export { DeadlockDetectedError, IntegrationError, NotConnectedError } from "./errors";
export { DEFAULT_FAULTS, type Fault, FaultInjector, type FaultPlan, parseFaults } from "./faults";
export { KAFKA_TOPICS, type KafkaClient, type KafkaTopic, SimulatedKafkaClient } from "./kafka";
export { isOperationName, OPERATION_NAMES, type OperationName, type OperationOptions, SIMULATED_SECONDS } from "./operations";
export { type S3Client, SimulatedS3Client } from "./s3";
export {
  DEFAULT_S3_THRESHOLD_TEXT,
  DEFAULT_S3_THRESHOLDS,
  parseBlobSize,
  parseDuration,
  type S3Thresholds,
  s3BucketFromEnv,
} from "./s3-settings";
export { Simulator } from "./simulated";

/** The three clients maintenance works with. */
export interface Integrations {
  db: DbClient;
  kafka: KafkaClient;
  s3: S3Client;
}

/**
 * Simulated clients for one process. Validates SIMULATION_TIME_SCALE, SIMULATION_FAULTS
 * and SIMULATION_SEED up front (throwing SimulationConfigError), and shares one fault
 * plan, so "2x" means the first two calls made through these clients.
 */
export function createSimulatedIntegrations(env: Record<string, string | undefined> = process.env): Integrations {
  const simulator = new Simulator(env);
  return {
    db: new SimulatedDbClient(simulator),
    kafka: new SimulatedKafkaClient(simulator),
    s3: new SimulatedS3Client(simulator),
  };
}

/** What the real clients need beyond the environment. */
export interface IntegrationOptions {
  /** Thresholds for real S3 (each defaults to DEFAULT_S3_THRESHOLDS). */
  s3?: Partial<S3Thresholds>;
}

/**
 * The clients maintenance runs with: real S3 on MAINTENANCE_S3_BUCKET when it is set, everything
 * else simulated.
 */
export function createIntegrations(env: Record<string, string | undefined> = process.env, options: IntegrationOptions = {}): Integrations {
  const simulated = createSimulatedIntegrations(env);
  return { ...simulated, s3: awsS3ClientFromEnv(env, options.s3) ?? simulated.s3 };
}
