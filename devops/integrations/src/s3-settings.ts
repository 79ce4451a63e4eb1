import bytes from "bytes";
import ms from "ms";

type Env = Record<string, string | undefined>;

/** What counts as old, large or hung; the maintenance CLI sets them from its options. */
export interface S3Thresholds {
  /** Blobs last modified more than this many days ago are deleted. */
  blobRetentionDays: number;
  /** Blobs of at least this many bytes move to Glacier. */
  largeBlobBytes: number;
  /** Multipart uploads started more than this many milliseconds ago are aborted. */
  hungUploadAgeMs: number;
}

/** The defaults, as a user would type them: `--help` shows these. */
export const DEFAULT_S3_THRESHOLD_TEXT = { blobRetentionDays: "30", largeBlobSize: "100MB", hungUploadAge: "24h" } as const;

/** Sizes the way `bytes` reads them: a number with B, KB, MB, GB, TB or PB, multiples of 1024; no unit means bytes. */
const SIZE = /^\d+(\.\d+)?\s*([kmgtp]?b)?$/i;

/** A duration with a unit, as `ms` reads it: 90m, 24h, 2d, 1.5h, "2 days". A bare number would mean milliseconds. */
const DURATION = /^\d+(\.\d+)?\s*[a-z]+$/i;

/** Bytes in "100MB", "1.5GB" or "1048576"; undefined when the text is no size. */
export function parseBlobSize(text: string): number | undefined {
  // `bytes` alone reads "100M" as 100 bytes and "1e3" as 1: only its own forms pass.
  if (!SIZE.test(text.trim())) return undefined;
  const size = bytes.parse(text.trim());
  return size !== null && Number.isSafeInteger(size) && size > 0 ? size : undefined;
}

/** Milliseconds in "24h", "90m", "2d" or "2 days"; undefined when the text is no duration. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text.trim())) return undefined;
  const duration = ms(text.trim() as ms.StringValue);
  return Number.isFinite(duration) && duration > 0 ? duration : undefined;
}

export const DEFAULT_S3_THRESHOLDS: S3Thresholds = {
  blobRetentionDays: Number(DEFAULT_S3_THRESHOLD_TEXT.blobRetentionDays),
  largeBlobBytes: parseBlobSize(DEFAULT_S3_THRESHOLD_TEXT.largeBlobSize)!,
  hungUploadAgeMs: parseDuration(DEFAULT_S3_THRESHOLD_TEXT.hungUploadAge)!,
};

/**
 * The bucket maintenance works on when S3 is real: MAINTENANCE_S3_BUCKET. Unset (or empty), S3 stays
 * simulated. Everything else (endpoint, region, credentials) comes from the AWS SDK's own variables.
 */
export function s3BucketFromEnv(env: Env = process.env): string | undefined {
  const bucket = env.MAINTENANCE_S3_BUCKET?.trim();
  return bucket ? bucket : undefined;
}
