import { DEFAULT_SETTINGS, type IntegrationSettings } from "@monorepo/integrations";
import bytes from "bytes";
import * as t from "typanion";

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;

/** Sizes as `bytes` reads them, units in multiples of 1024; `bytes` alone would read "100M" as 100 bytes and "1e3" as 1. */
const SIZE = /^\d+(\.\d+)?\s*([kmgtp]?b)?$/i;

/** A duration option's value: a number with a unit (90s, 5m, 1h, 2d) or bare seconds. */
export const isDuration = t.makeValidator<unknown, string>({
  test: (value, state): value is string => {
    if (typeof value === "string" && DURATION.test(value) && durationSeconds(value) > 0) return true;
    state?.errors?.push(`.: expected a duration such as 90s, 5m or 1h (got ${JSON.stringify(value)})`);
    return false;
  },
});

/** A size option's value: a number with B, KB, MB, GB or TB (multiples of 1024), or bare bytes. */
export const isSize = t.makeValidator<unknown, string>({
  test: (value, state): value is string => {
    if (typeof value === "string" && sizeBytes(value) !== undefined) return true;
    state?.errors?.push(`.: expected a size such as 100MB, 1.5GB or 2048 (got ${JSON.stringify(value)})`);
    return false;
  },
});

export function durationSeconds(text: string): number {
  const [, amount, unit] = DURATION.exec(text)!;
  return Number(amount) * UNIT_SECONDS[unit ?? "s"];
}

/** Bytes in "100MB", "1.5GB" or "1048576"; undefined when the text is no size. */
export function sizeBytes(text: string): number | undefined {
  if (!SIZE.test(text.trim())) return undefined;
  const size = bytes.parse(text.trim());
  return size !== null && Number.isSafeInteger(size) && size > 0 ? size : undefined;
}

/** Formats seconds as the options' defaults are written: 300 -> "5m". */
export function formatDuration(seconds: number): string {
  for (const unit of ["d", "h", "m"]) {
    if (seconds % UNIT_SECONDS[unit] === 0) return `${seconds / UNIT_SECONDS[unit]}${unit}`;
  }
  return `${seconds}s`;
}

/** Formats bytes as the size options' defaults are written: 104857600 -> "100MB". */
export function formatSize(size: number): string {
  return bytes.format(size, { unitSeparator: "" }) ?? `${size}`;
}

/** The options that set the real clients' thresholds, as the command line gives them. */
export interface SettingsOptions {
  hungQueryAge: string;
  lockWaitLimit: string;
  blobRetentionDays: number;
  largeBlobSize: string;
  hungUploadAge: string;
}

/** The thresholds from the options, the rest from the defaults. */
export function settingsFrom(options: SettingsOptions): IntegrationSettings {
  return {
    ...DEFAULT_SETTINGS,
    hungQueryAgeSeconds: durationSeconds(options.hungQueryAge),
    lockWaitLimitSeconds: durationSeconds(options.lockWaitLimit),
    blobRetentionDays: options.blobRetentionDays,
    largeBlobBytes: sizeBytes(options.largeBlobSize)!,
    hungUploadAgeSeconds: durationSeconds(options.hungUploadAge),
  };
}
