import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  DeleteObjectsCommand,
  HeadBucketCommand,
  type _Object as ListedObject,
  ListMultipartUploadsCommand,
  paginateListObjectsV2,
  S3ServiceException,
  S3Client as SdkS3Client,
} from "@aws-sdk/client-s3";
import { IntegrationError, NotConnectedError } from "./errors";
import type { OperationName, OperationOptions } from "./operations";
import type { S3Client } from "./s3";
import { DEFAULT_SETTINGS, type IntegrationSettings } from "./settings";

type Env = Record<string, string | undefined>;

/** DeleteObjects takes at most this many keys a call. */
export const MAX_KEYS_PER_DELETE = 1000;

/** CopyObject copies at most 5 GiB in one call; larger objects need a multipart copy. */
export const MAX_COPY_OBJECT_BYTES = 5 * 1024 ** 3;

/** Glacier Flexible Retrieval: the class large blobs move to. */
export const GLACIER = "GLACIER";

/** Classes at least as cold as Glacier: a blob already in one is left where it is, so a rerun changes nothing. */
const COLD_CLASSES: ReadonlySet<string> = new Set([GLACIER, "DEEP_ARCHIVE"]);

/** How many failed keys an error message names; the count says how many more there were. */
const NAMED_FAILURES = 5;

const DAY_MS = 24 * 60 * 60 * 1000;

/** How long the SDK waits to connect; as long as the PostgreSQL client waits. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * How long one request may go without a byte from the server before the SDK gives it up and
 * retries it. A listing page or a copy answers well inside this; the step timeout bounds a whole
 * step, and without this a stalled connection would hold the step until then.
 */
const REQUEST_TIMEOUT_MS = 60_000;

/** What counts as old, large or hung in a bucket. */
export type S3Thresholds = Pick<IntegrationSettings, "blobRetentionDays" | "largeBlobBytes" | "hungUploadAgeSeconds">;

export interface AwsS3ClientOptions {
  bucket: string;
  /** Those left out take DEFAULT_SETTINGS' values. */
  thresholds?: Partial<S3Thresholds>;
  /**
   * The moment ages are measured from (default: when the client is created). One moment for every
   * step of a run, so the move and the deletion agree on which blobs are past retention.
   */
  now?: Date;
  /** Where the endpoint variables are read to choose path-style addressing (default: process.env). */
  env?: Env;
  /** Largest object copied in place (default: CopyObject's limit); larger ones are refused. */
  maxCopyBytes?: number;
  /** See REQUEST_TIMEOUT_MS (the default). */
  requestTimeoutMs?: number;
}

function describe(error: unknown): string {
  if (error instanceof S3ServiceException) {
    return `${error.name} (HTTP ${error.$metadata.httpStatusCode ?? "status unknown"}): ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** "a", "b" and 3 more */
function nameSome(items: string[], total: number): string {
  const more = total - items.length;
  return items.join(", ") + (more > 0 ? ` and ${more} more` : "");
}

/** The CopySource of an object: the bucket, then the key URL-encoded segment by segment. */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;
}

/**
 * Maintenance's S3 operations on one bucket through the AWS SDK, which reads the endpoint, region
 * and credentials from its own variables (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, AWS_REGION,
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, or a profile). Every listing goes page by page (at most
 * 1,000 entries each), so memory stays bounded however large the bucket; every SDK call gets the
 * step's abort signal, so a cancelled step stops at once.
 */
export class AwsS3Client implements S3Client {
  readonly bucket: string;
  readonly thresholds: S3Thresholds;
  readonly now: Date;
  private readonly sdk: SdkS3Client;
  private readonly maxCopyBytes: number;
  private connected: Promise<void> | undefined;
  private ready = false;

  constructor(options: AwsS3ClientOptions) {
    // The SDK warns on every start that its releases from 2027 on need Node 22. This code runs on
    // Node 20 with the exact SDK version it was tested with, so the warning tells an operator nothing
    // they can act on; setting the variable to "false" brings it back.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
    const env = options.env ?? process.env;
    this.bucket = options.bucket;
    const { blobRetentionDays, largeBlobBytes, hungUploadAgeSeconds } = { ...DEFAULT_SETTINGS, ...options.thresholds };
    this.thresholds = { blobRetentionDays, largeBlobBytes, hungUploadAgeSeconds };
    this.now = options.now ?? new Date();
    this.maxCopyBytes = options.maxCopyBytes ?? MAX_COPY_OBJECT_BYTES;
    // A custom endpoint (MinIO, Ceph, LocalStack, moto) rarely serves virtual-hosted bucket names.
    this.sdk = new SdkS3Client({
      forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL),
      // Without throwOnRequestTimeout the SDK only logs a warning and goes on waiting.
      requestHandler: {
        connectionTimeout: CONNECT_TIMEOUT_MS,
        requestTimeout: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
        throwOnRequestTimeout: true,
      },
    });
  }

  /** Blobs last modified before this are past retention. */
  get retentionCutoff(): Date {
    return new Date(this.now.getTime() - this.thresholds.blobRetentionDays * DAY_MS);
  }

  /** Multipart uploads started before this are hung. */
  get hungUploadCutoff(): Date {
    return new Date(this.now.getTime() - this.thresholds.hungUploadAgeSeconds * 1000);
  }

  /** Checks that the bucket exists and the credentials reach it. */
  initClient(options: OperationOptions = {}): Promise<void> {
    if (!this.connected) {
      this.connected = this.call("s3.initClient", options, (abortSignal) =>
        this.sdk.send(new HeadBucketCommand({ Bucket: this.bucket }), { abortSignal }),
      ).then(
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

  /**
   * Deletes every blob last modified before the retention cutoff, never a newer one, with
   * DeleteObjects in batches of at most 1,000 keys while the listing goes on. Deleting keys already
   * listed does not disturb the listing: its continuation token resumes after the last key returned.
   * Keys the service refuses to delete are named in the error once every batch has been tried.
   */
  async cleanUpOldBlobs(options: OperationOptions = {}): Promise<void> {
    const operation = "s3.cleanUpOldBlobs";
    this.requireReady(operation);
    const cutoff = this.retentionCutoff;
    let batch: string[] = [];
    const failures: string[] = [];
    let failureCount = 0;
    const flush = async () => {
      const keys = batch;
      batch = [];
      const result = await this.call(operation, options, (abortSignal) =>
        this.sdk.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }), {
          abortSignal,
        }),
      );
      for (const error of result.Errors ?? []) {
        failureCount += 1;
        if (failures.length < NAMED_FAILURES) failures.push(`${error.Key} (${error.Code}: ${error.Message})`);
      }
    };
    for await (const object of this.listObjects(operation, options)) {
      if (object.Key === undefined || !(object.LastModified && object.LastModified < cutoff)) continue;
      batch.push(object.Key);
      if (batch.length === MAX_KEYS_PER_DELETE) await flush();
    }
    if (batch.length > 0) await flush();
    if (failureCount > 0) {
      throw new IntegrationError(
        operation,
        `${operation}: ${failureCount} old blobs were not deleted: ${nameSome(failures, failureCount)}`,
      );
    }
  }

  /**
   * Moves blobs of at least the large size to Glacier by copying each onto itself with the new
   * storage class (metadata kept). A lifecycle rule would do it without copying, but S3 applies rules
   * only on its own daily schedule and a bucket has one lifecycle configuration, which this would
   * have to merge with the owner's rules; the copy takes effect now, per blob, and says what failed.
   *
   * A copy sets the blob's LastModified to now, so a blob past retention is left to cleanUpOldBlobs
   * instead of being copied (which would also hide it from that deletion for another retention
   * period): with one cutoff for both, the two steps touch disjoint blobs and run in either order.
   * A moved blob's retention counts from its move. In a versioned bucket the copy is a new version
   * and the old one stays where it was. Blobs over the copy limit (5 GiB) would need a multipart
   * copy that rebuilds metadata and tags by hand: they are refused by name, for a lifecycle rule.
   */
  async moveLargeBlobsToGlacier(options: OperationOptions = {}): Promise<void> {
    const operation = "s3.moveLargeBlobsToGlacier";
    this.requireReady(operation);
    const cutoff = this.retentionCutoff;
    const tooLarge: string[] = [];
    let tooLargeCount = 0;
    for await (const object of this.listObjects(operation, options)) {
      const { Key: key, Size: size, LastModified: lastModified } = object;
      if (key === undefined || size === undefined || size < this.thresholds.largeBlobBytes) continue;
      if (COLD_CLASSES.has(object.StorageClass ?? "STANDARD")) continue;
      if (!lastModified || lastModified < cutoff) continue;
      if (size > this.maxCopyBytes) {
        tooLargeCount += 1;
        if (tooLarge.length < NAMED_FAILURES) tooLarge.push(`${key} (${size} bytes)`);
        continue;
      }
      await this.copyToGlacier(operation, key, object.ETag, options);
    }
    if (tooLargeCount > 0) {
      throw new IntegrationError(
        operation,
        `${operation}: ${tooLargeCount} blobs are over the ${this.maxCopyBytes}-byte copy limit and were not moved (move them with a lifecycle rule): ${nameSome(tooLarge, tooLargeCount)}`,
      );
    }
  }

  /** Aborts every multipart upload started before the hung-upload cutoff; newer ones go on. */
  async stopHungUploads(options: OperationOptions = {}): Promise<void> {
    const operation = "s3.stopHungUploads";
    this.requireReady(operation);
    const cutoff = this.hungUploadCutoff;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    // Paged by hand: the SDK has no paginator for this listing's two markers.
    for (;;) {
      const page = await this.call(operation, options, (abortSignal) =>
        this.sdk.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }), {
          abortSignal,
        }),
      );
      for (const upload of page.Uploads ?? []) {
        if (!upload.Key || !upload.UploadId || !(upload.Initiated && upload.Initiated < cutoff)) continue;
        const { Key, UploadId } = upload;
        await this.change(
          operation,
          options,
          (abortSignal) => this.sdk.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId }), { abortSignal }),
          // Completed or aborted since the listing: nothing left to stop.
          ["NoSuchUpload"],
        );
      }
      if (!page.IsTruncated) return;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }

  private copyToGlacier(operation: OperationName, key: string, etag: string | undefined, options: OperationOptions): Promise<void> {
    return this.change(
      operation,
      options,
      (abortSignal) =>
        this.sdk.send(
          new CopyObjectCommand({
            Bucket: this.bucket,
            Key: key,
            CopySource: copySource(this.bucket, key),
            // Only the blob that was listed: one replaced since then is judged by the next run.
            CopySourceIfMatch: etag,
            StorageClass: GLACIER,
            MetadataDirective: "COPY",
          }),
          { abortSignal },
        ),
      // Deleted (by cleanUpOldBlobs or a user) or replaced since the listing.
      ["NoSuchKey", "PreconditionFailed"],
    );
  }

  private async *listObjects(operation: OperationName, options: OperationOptions): AsyncGenerator<ListedObject> {
    const pages = paginateListObjectsV2({ client: this.sdk }, { Bucket: this.bucket }, { abortSignal: options.signal })[
      Symbol.asyncIterator
    ]();
    for (;;) {
      const page = await this.call(operation, options, () => pages.next());
      if (page.done) return;
      yield* page.value.Contents ?? [];
    }
  }

  /** Closes the SDK's connections; the client is not used after. */
  destroy(): void {
    this.sdk.destroy();
  }

  private requireReady(operation: OperationName): void {
    if (!this.ready) throw new NotConnectedError(operation);
  }

  /**
   * One SDK call with the step's signal. A cancelled call rejects with the signal's reason; a failure
   * becomes an IntegrationError naming the operation and bucket, with the SDK's error as its cause.
   */
  private async call<T>(
    operation: OperationName,
    options: OperationOptions,
    send: (abortSignal: AbortSignal | undefined) => Promise<T>,
  ): Promise<T> {
    options.signal?.throwIfAborted();
    try {
      return await send(options.signal);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw new IntegrationError(operation, `${operation} on bucket ${this.bucket}: ${describe(error)}`, { cause: error });
    }
  }

  /** A call that changes one object or upload; the `moot` errors say someone else already changed it, so there is nothing left to do. */
  private async change(
    operation: OperationName,
    options: OperationOptions,
    send: (abortSignal: AbortSignal | undefined) => Promise<unknown>,
    moot: readonly string[],
  ): Promise<void> {
    try {
      await this.call(operation, options, send);
    } catch (error) {
      if (error instanceof IntegrationError && moot.includes(errorName(error.cause) ?? "")) return;
      throw error;
    }
  }
}
