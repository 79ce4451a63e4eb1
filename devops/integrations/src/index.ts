import { SimulatedDbClient, type DbClient } from "./db";
import { SimulatedKafkaClient, type KafkaClient } from "./kafka";
import { SimulatedS3Client, type S3Client } from "./s3";
import { Simulator } from "./simulated";

export { DeadlockDetectedError, IntegrationError, NotConnectedError } from "./errors";
export { DEFAULT_FAULTS, FaultInjector, parseFaults, type Fault, type FaultPlan } from "./faults";
export { isOperationName, OPERATION_NAMES, SIMULATED_SECONDS, type OperationName, type OperationOptions } from "./operations";
export { SimulatedDbClient, type DbClient } from "./db";
export { KAFKA_TOPICS, SimulatedKafkaClient, type KafkaClient, type KafkaTopic } from "./kafka";
export { SimulatedS3Client, type S3Client } from "./s3";
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
