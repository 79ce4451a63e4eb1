import type { OperationOptions } from "./operations";
import { SimulatedConnection, type Simulator } from "./simulated";

/** The S3 operations maintenance needs; a real SDK wrapper implements this interface. */
export interface S3Client {
  /** Connects; idempotent, so a cleanup can call it again on a live client. */
  initClient(options?: OperationOptions): Promise<void>;
  moveLargeBlobsToGlacier(options?: OperationOptions): Promise<void>;
  cleanUpOldBlobs(options?: OperationOptions): Promise<void>;
  stopHungUploads(options?: OperationOptions): Promise<void>;
}

export class SimulatedS3Client implements S3Client {
  private readonly connection: SimulatedConnection;

  constructor(simulator: Simulator) {
    this.connection = new SimulatedConnection(simulator, "s3.initClient");
  }

  initClient(options?: OperationOptions): Promise<void> {
    return this.connection.connect(options);
  }

  moveLargeBlobsToGlacier(options?: OperationOptions): Promise<void> {
    return this.connection.perform("s3.moveLargeBlobsToGlacier", options);
  }

  cleanUpOldBlobs(options?: OperationOptions): Promise<void> {
    return this.connection.perform("s3.cleanUpOldBlobs", options);
  }

  stopHungUploads(options?: OperationOptions): Promise<void> {
    return this.connection.perform("s3.stopHungUploads", options);
  }
}
