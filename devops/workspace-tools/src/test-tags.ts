import fs from "node:fs";
import path from "node:path";
import { parseByTestLabel } from "./label-json";

/**
 * Tests that cannot run in a Bazel sandbox as they are (they need the host's tools, root, or the
 * network) are declared here, with the reason, so the BUILD generator tags them. An entry with
 * "files" moves those test files into a jest_test of their own (its label's name), so the rest of
 * the package's tests stay in `bazel test //...`. Flakiness is not declared here: that is
 * flaky-tests.json.
 */
export const TEST_TAGS_FILE = "devops/workspace-tools/test-tags.json";

/** Tags this repository uses; each changes how Bazel schedules or isolates a test. */
export const KNOWN_TEST_TAGS = ["manual", "local", "exclusive", "external", "requires-network", "no-remote", "no-sandbox"] as const;

export interface TaggedTest {
  label: string;
  tags: string[];
  why: string;
  /** Package-relative test files that form this target, e.g. ["test/server.test.ts"]. */
  files?: string[];
  /** Bazel test size (sets the timeout) when the default "medium" (300 s) is too short. */
  size?: TestSize;
}

export const TEST_SIZES = ["small", "medium", "large", "enormous"] as const;
export type TestSize = (typeof TEST_SIZES)[number];

const TEST_FILE = /^test\/[A-Za-z0-9_./-]+\.ts$/;

export function parseTestTags(text: string, source = TEST_TAGS_FILE): TaggedTest[] {
  return parseByTestLabel(
    text,
    source,
    "//devops/remote-cache:test",
    (label, entry: { tags?: unknown; why?: unknown; files?: unknown; size?: unknown }) => {
      const tags = entry?.tags;
      if (!Array.isArray(tags) || tags.length === 0 || !tags.every((t) => (KNOWN_TEST_TAGS as readonly unknown[]).includes(t))) {
        throw new Error(`${source}: ${label}.tags must be a non-empty list of ${KNOWN_TEST_TAGS.join(", ")}`);
      }
      if (typeof entry.why !== "string" || entry.why.trim() === "")
        throw new Error(`${source}: ${label}.why must say why the test needs these tags`);
      const files = entry.files;
      if (
        files !== undefined &&
        (!Array.isArray(files) || files.length === 0 || !files.every((f) => typeof f === "string" && TEST_FILE.test(f)))
      ) {
        throw new Error(`${source}: ${label}.files must list test files of its package, like "test/server.test.ts"`);
      }
      const size = entry.size;
      if (size !== undefined && !(TEST_SIZES as readonly unknown[]).includes(size)) {
        throw new Error(`${source}: ${label}.size must be one of ${TEST_SIZES.join(", ")}`);
      }
      return {
        label,
        tags: [...new Set(tags as string[])].sort(),
        why: entry.why,
        ...(files ? { files: [...(files as string[])].sort() } : {}),
        ...(size ? { size: size as TestSize } : {}),
      };
    },
  );
}

/** The declared tagged tests; none when the file does not exist. */
export function loadTestTags(root: string): TaggedTest[] {
  const file = path.join(root, TEST_TAGS_FILE);
  return fs.existsSync(file) ? parseTestTags(fs.readFileSync(file, "utf8"), file) : [];
}
