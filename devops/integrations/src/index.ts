import { type DbClient, SimulatedDbClient } from "./db";
import { type KafkaClient, SimulatedKafkaClient } from "./kafka";
import { type S3Client, SimulatedS3Client } from "./s3";
import { Simulator } from "./simulated";

export { type DbClient, SimulatedDbClient } from "./db";
export { DeadlockDetectedError, IntegrationError, NotConnectedError } from "./errors";
export { DEFAULT_FAULTS, type Fault, FaultInjector, type FaultPlan, parseFaults } from "./faults";
export { KAFKA_TOPICS, type KafkaClient, type KafkaTopic, SimulatedKafkaClient } from "./kafka";
export { isOperationName, OPERATION_NAMES, type OperationName, type OperationOptions, SIMULATED_SECONDS } from "./operations";
export { type S3Client, SimulatedS3Client } from "./s3";
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
