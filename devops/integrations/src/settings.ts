/** Thresholds of the real clients' work; the maintenance CLI sets them from its options. */
export interface IntegrationSettings {
  /** db: a query active (or a transaction idle) longer than this is hung; also maintenance's own statement_timeout. */
  hungQueryAgeSeconds: number;
  /** db: a session blocked by another longer than this fails the deadlock check; also maintenance's own lock_timeout. */
  lockWaitLimitSeconds: number;
  /** db: how long a cancelled hung query has to end before its session is terminated. */
  hungQueryGraceSeconds: number;
  /** s3: blobs last modified more than this many days ago are deleted. */
  blobRetentionDays: number;
  /** s3: blobs of at least this many bytes move to Glacier. */
  largeBlobBytes: number;
  /** s3: multipart uploads started longer ago than this are aborted. */
  hungUploadAgeSeconds: number;
}

export const DEFAULT_SETTINGS: Readonly<IntegrationSettings> = {
  hungQueryAgeSeconds: 300,
  lockWaitLimitSeconds: 60,
  hungQueryGraceSeconds: 5,
  blobRetentionDays: 30,
  largeBlobBytes: 100 * 1024 * 1024,
  hungUploadAgeSeconds: 24 * 60 * 60,
};

/** Where a real client reports what it found and did (the server version, what it rebuilt or stopped). */
export type LogSink = (message: string, data?: Record<string, unknown>) => void;
