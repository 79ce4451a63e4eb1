import { DEFAULT_SETTINGS, type IntegrationSettings } from "@monorepo/integrations";
import * as t from "typanion";

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;

/** A duration option's value: a number with a unit (90s, 5m, 1h, 2d) or bare seconds. */
export const isDuration = t.makeValidator<unknown, string>({
  test: (value, state): value is string => {
    if (typeof value === "string" && DURATION.test(value) && durationSeconds(value) > 0) return true;
    state?.errors?.push(`.: expected a duration such as 90s, 5m or 1h (got ${JSON.stringify(value)})`);
    return false;
  },
});

export function durationSeconds(text: string): number {
  const [, amount, unit] = DURATION.exec(text)!;
  return Number(amount) * UNIT_SECONDS[unit ?? "s"];
}

/** Formats seconds as the options' defaults are written: 300 -> "5m". */
export function formatDuration(seconds: number): string {
  for (const unit of ["d", "h", "m"]) {
    if (seconds % UNIT_SECONDS[unit] === 0) return `${seconds / UNIT_SECONDS[unit]}${unit}`;
  }
  return `${seconds}s`;
}

/** The thresholds from the duration options, the rest from the defaults. */
export function settingsFrom(options: { hungQueryAge: string; lockWaitLimit: string }): IntegrationSettings {
  return {
    ...DEFAULT_SETTINGS,
    hungQueryAgeSeconds: durationSeconds(options.hungQueryAge),
    lockWaitLimitSeconds: durationSeconds(options.lockWaitLimit),
  };
}
