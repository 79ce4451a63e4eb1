import fs from "node:fs";
import path from "node:path";
import { parseByTestLabel } from "./label-json";

/**
 * The one declaration of which test targets are flaky and how many attempts each gets.
 * Both paths read it: the BUILD generator writes `flaky = True` and .bazelrc's
 * `--flaky_test_attempts` from it, and the pnpm test runner retries from it.
 */
export const FLAKY_POLICY_FILE = "flaky-tests.json";

export interface FlakyTarget {
  /** Bazel label of the test target, e.g. "//services/user:test". */
  label: string;
  /** Total attempts, the first run included. */
  attempts: number;
  why: string;
}

export class FlakyPolicy {
  constructor(readonly targets: FlakyTarget[]) {}

  /** Attempts for a test target: its declared count when flaky, otherwise 1. */
  attemptsFor(label: string): number {
    return this.targets.find((t) => t.label === label)?.attempts ?? 1;
  }

  isFlaky(label: string): boolean {
    return this.targets.some((t) => t.label === label);
  }
}

export function parseFlakyPolicy(text: string, source = FLAKY_POLICY_FILE): FlakyPolicy {
  const targets = parseByTestLabel(text, source, "//services/user:test", (label, entry: { attempts?: unknown; why?: unknown }) => {
    const attempts = entry?.attempts;
    if (typeof attempts !== "number" || !Number.isInteger(attempts) || attempts < 2 || attempts > 10) {
      throw new Error(`${source}: ${label}.attempts must be an integer from 2 to 10`);
    }
    if (typeof entry.why !== "string" || entry.why.trim() === "") {
      throw new Error(`${source}: ${label}.why must say why the target is flaky`);
    }
    return { label, attempts, why: entry.why };
  });
  return new FlakyPolicy(targets);
}

export function loadFlakyPolicy(root: string): FlakyPolicy {
  const file = path.join(root, FLAKY_POLICY_FILE);
  return parseFlakyPolicy(fs.readFileSync(file, "utf8"), file);
}
