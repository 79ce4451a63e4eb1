/** Thresholds of the real clients' work; the maintenance CLI sets them from its options. */
export interface IntegrationSettings {
  /** db: a query active (or a transaction idle) longer than this is hung; also maintenance's own statement_timeout. */
  hungQueryAgeSeconds: number;
  /** db: a session blocked by another longer than this fails the deadlock check; also maintenance's own lock_timeout. */
  lockWaitLimitSeconds: number;
  /** db: how long a cancelled hung query has to end before its session is terminated. */
  hungQueryGraceSeconds: number;
}

export const DEFAULT_SETTINGS: Readonly<IntegrationSettings> = {
  hungQueryAgeSeconds: 300,
  lockWaitLimitSeconds: 60,
  hungQueryGraceSeconds: 5,
};

/** Where a real client reports what it found and did (the server version, what it rebuilt or stopped). */
export type LogSink = (message: string, data?: Record<string, unknown>) => void;
