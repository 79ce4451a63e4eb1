/** A test target's Bazel label, as flaky-tests.json and test-tags.json key their entries. */
const TEST_LABEL = /^\/\/[a-z0-9_./-]+:[a-z0-9_]+$/;

/**
 * Parses a JSON object keyed by test label and maps each entry, in file order, through `parseEntry`.
 * Every problem is an Error that names `source`; `example` is a real label to show for a bad one.
 */
export function parseByTestLabel<Entry, T>(
  text: string,
  source: string,
  example: string,
  parseEntry: (label: string, entry: Entry) => T,
): T[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not valid JSON (${(error as Error).message})`);
  }
  if (!json || typeof json !== "object" || Array.isArray(json)) throw new Error(`${source}: expected an object keyed by test label`);
  return Object.entries(json as Record<string, Entry>).map(([label, entry]) => {
    if (!TEST_LABEL.test(label)) throw new Error(`${source}: "${label}" is not a test label like ${example}`);
    return parseEntry(label, entry);
  });
}
