export { AwsS3Client, type AwsS3ClientOptions, GLACIER, MAX_COPY_OBJECT_BYTES, MAX_KEYS_PER_DELETE, type S3Thresholds } from "./aws-s3";
export {
  type BackendChoice,
  BackendConfigError,
  type ClientContext,
  createIntegrations,
  createSimulatedIntegrations,
  describeBackendRules,
  INTEGRATION_NAMES,
  type IntegrationName,
  type Integrations,
  POSTGRES_BACKEND,
  REAL_BACKENDS,
  type RealBackend,
  S3_BACKEND,
  type SelectedBackend,
  selectBackends,
} from "./backends";
export { type DbClient, SimulatedDbClient } from "./db";
export { DeadlockDetectedError, IntegrationError, NotConnectedError } from "./errors";
export { DEFAULT_FAULTS, type Fault, FaultInjector, type FaultPlan, parseFaults } from "./faults";
export { KAFKA_TOPICS, type KafkaClient, type KafkaTopic, SimulatedKafkaClient } from "./kafka";
export { isOperationName, OPERATION_NAMES, type OperationName, type OperationOptions, SIMULATED_SECONDS } from "./operations";
export {
  INDEX_BLOAT_FACTOR,
  MAINTENANCE_APPLICATION_NAME,
  MIN_BLOATED_INDEX_BYTES,
  type PostgresConnection,
  PostgresDbClient,
} from "./postgres";
export { type S3Client, SimulatedS3Client } from "./s3";
export { DEFAULT_SETTINGS, type IntegrationSettings, type LogSink } from "./settings";
export { Simulator } from "./simulated";
