/**
 * Polls until `find` returns something (neither undefined nor false) and resolves with it, e.g. a log
 * record the server writes a moment after the client acts, or `true` once a file appears. Rejects
 * after `timeoutMs`, so a wait that never ends fails instead of polling on after its test.
 */
export async function waitFor<T>(find: () => T | false | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined && found !== false) return found;
    if (Date.now() > deadline) throw new Error(`nothing found within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
