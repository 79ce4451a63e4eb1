import fs from "node:fs";
import path from "node:path";

/**
 * The one declaration of per-target test metadata, keyed by Bazel label: which targets are flaky
 * and their attempts, which need tags (they cannot run in a sandbox as they are), their size, which
 * test files form a target of their own, and why. The BUILD generator writes `flaky = True`, tags,
 * size and the split targets from it, and .bazelrc's `--flaky_test_attempts`; the pnpm test runner
 * retries from it.
 */
export const TEST_TARGETS_FILE = "test-targets.json";

/** Tags this repository uses; each changes how Bazel schedules or isolates a test. */
export const KNOWN_TEST_TAGS = ["manual", "local", "exclusive", "external", "requires-network", "no-remote", "no-sandbox"] as const;

export const TEST_SIZES = ["small", "medium", "large", "enormous"] as const;
export type TestSize = (typeof TEST_SIZES)[number];

export interface TestTarget {
  /** Bazel label of the test target, e.g. "//services/user:test". */
  label: string;
  why: string;
  /** Total attempts, the first run included, when the target is flaky. */
  attempts?: number;
  /** Bazel tags, sorted. */
  tags?: string[];
  /** Bazel test size (sets the timeout) when the default "medium" (300 s) is too short. */
  size?: TestSize;
  /** Package-relative test files that form this target, e.g. ["test/server.test.ts"], sorted. */
  files?: string[];
}

export class TestTargets {
  constructor(readonly targets: TestTarget[]) {}

  get(label: string): TestTarget | undefined {
    return this.targets.find((t) => t.label === label);
  }

  /** The targets declared flaky (with attempts). */
  get flaky(): TestTarget[] {
    return this.targets.filter((t) => t.attempts !== undefined);
  }

  /** Attempts for a test target: its declared count when flaky, otherwise 1. */
  attemptsFor(label: string): number {
    return this.get(label)?.attempts ?? 1;
  }

  isFlaky(label: string): boolean {
    return this.get(label)?.attempts !== undefined;
  }
}

const TEST_LABEL = /^\/\/[a-z0-9_./-]+:[a-z0-9_]+$/;
const TEST_FILE = /^test\/[A-Za-z0-9_./-]+\.ts$/;
const FIELDS = ["attempts", "tags", "size", "files", "why"];

interface RawEntry {
  attempts?: unknown;
  tags?: unknown;
  size?: unknown;
  files?: unknown;
  why?: unknown;
}

function parseEntry(source: string, label: string, entry: RawEntry): TestTarget {
  const fail = (message: string): never => {
    throw new Error(`${source}: ${label}${message}`);
  };
  if (!entry || typeof entry !== "object" || Array.isArray(entry)) fail(` must be an object with ${FIELDS.join(", ")}`);
  const unknown = Object.keys(entry).find((key) => !FIELDS.includes(key));
  if (unknown !== undefined) fail(`.${unknown} is not a field; the fields are ${FIELDS.join(", ")}`);
  const { attempts, tags, size, files, why } = entry;
  if (attempts === undefined && tags === undefined && size === undefined && files === undefined)
    fail(" declares nothing: give attempts, tags, size or files");
  if (attempts !== undefined && (typeof attempts !== "number" || !Number.isInteger(attempts) || attempts < 2 || attempts > 10))
    fail(".attempts must be an integer from 2 to 10");
  if (
    tags !== undefined &&
    (!Array.isArray(tags) || tags.length === 0 || !tags.every((t) => (KNOWN_TEST_TAGS as readonly unknown[]).includes(t)))
  )
    fail(`.tags must be a non-empty list of ${KNOWN_TEST_TAGS.join(", ")}`);
  if (size !== undefined && !(TEST_SIZES as readonly unknown[]).includes(size)) fail(`.size must be one of ${TEST_SIZES.join(", ")}`);
  if (
    files !== undefined &&
    (!Array.isArray(files) || files.length === 0 || !files.every((f) => typeof f === "string" && TEST_FILE.test(f)))
  )
    fail(`.files must list test files of its package, like "test/server.test.ts"`);
  if (typeof why !== "string" || why.trim() === "") fail(".why must say why the target needs this");
  return {
    label,
    why: why as string,
    ...(attempts !== undefined ? { attempts: attempts as number } : {}),
    ...(tags !== undefined ? { tags: [...new Set(tags as string[])].sort() } : {}),
    ...(size !== undefined ? { size: size as TestSize } : {}),
    ...(files !== undefined ? { files: [...(files as string[])].sort() } : {}),
  };
}

/** Parses test-targets.json; every problem is an Error that names `source`. */
export function parseTestTargets(text: string, source = TEST_TARGETS_FILE): TestTargets {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not valid JSON (${(error as Error).message})`);
  }
  if (!json || typeof json !== "object" || Array.isArray(json)) throw new Error(`${source}: expected an object keyed by test label`);
  const targets = Object.entries(json as Record<string, RawEntry>).map(([label, entry]) => {
    if (!TEST_LABEL.test(label)) throw new Error(`${source}: "${label}" is not a test label like //services/user:test`);
    return parseEntry(source, label, entry);
  });
  return new TestTargets(targets);
}

/** The declared test targets of the workspace at `root`; none when it has no test-targets.json. */
export function loadTestTargets(root: string): TestTargets {
  const file = path.join(root, TEST_TARGETS_FILE);
  return fs.existsSync(file) ? parseTestTargets(fs.readFileSync(file, "utf8"), file) : new TestTargets([]);
}
