import { IntegrationError } from "./errors";
import type { OperationOptions } from "./operations";
import { SimulatedConnection, type Simulator } from "./simulated";

/** The platform's topics that maintenance cleans. */
export const KAFKA_TOPICS = ["user-events", "stock-events", "trade-events", "notification-events", "maintenance-events"] as const;

export type KafkaTopic = (typeof KAFKA_TOPICS)[number];

/** The Kafka operations maintenance needs; a real admin client implements this interface. */
export interface KafkaClient {
  /** Connects; idempotent, so a cleanup can call it again on a live client. */
  initClient(options?: OperationOptions): Promise<void>;
  cleanTopic(topic: string, options?: OperationOptions): Promise<void>;
  /** Rejects when a topic still holds records that cleaning should have removed. */
  validateCleaned(options?: OperationOptions): Promise<void>;
  cleanupTopics(options?: OperationOptions): Promise<void>;
  stopConsumers(options?: OperationOptions): Promise<void>;
}

export class SimulatedKafkaClient implements KafkaClient {
  private readonly connection: SimulatedConnection;

  constructor(simulator: Simulator) {
    this.connection = new SimulatedConnection(simulator, "kafka.initClient");
  }

  initClient(options?: OperationOptions): Promise<void> {
    return this.connection.connect(options);
  }

  cleanTopic(topic: string, options?: OperationOptions): Promise<void> {
    return this.connection.perform(
      "kafka.cleanTopic",
      options,
      () => new IntegrationError("kafka.cleanTopic", `kafka.cleanTopic ${topic} failed (simulated fault)`),
    );
  }

  validateCleaned(options?: OperationOptions): Promise<void> {
    return this.connection.perform("kafka.validateCleaned", options);
  }

  cleanupTopics(options?: OperationOptions): Promise<void> {
    return this.connection.perform("kafka.cleanupTopics", options);
  }

  stopConsumers(options?: OperationOptions): Promise<void> {
    return this.connection.perform("kafka.stopConsumers", options);
  }
}
