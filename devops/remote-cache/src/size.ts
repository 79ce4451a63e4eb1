/** Binary multiples, as du -h and df -h print them. */
const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;
const MULTIPLIERS: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/**
 * Bytes in "20G", "512M", "1.5T", "2GiB", "300KB" or a plain byte count; undefined when it is none
 * of these. Hand-written because the `bytes` package reads "20G" as 20 bytes.
 */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b)?|b)?$/i.exec(text.trim());
  if (!match) return undefined;
  const bytes = Math.floor(Number(match[1]) * (match[2] ? MULTIPLIERS[match[2].toLowerCase()] : 1));
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** "1.5 GiB", "512 KiB", "900 B": three significant digits at most. */
export function formatSize(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${Number(value.toFixed(digits))} ${UNITS[unit]}`;
}
