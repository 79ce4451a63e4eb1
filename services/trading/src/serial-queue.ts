/**
 * Runs async tasks one at a time, in call order (a promise-chain mutex). A
 * read-modify-write that awaits (here: persisting a swap) cannot interleave
 * with another one, so each ownership state has exactly one winner.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    // The next task waits for this one to settle, whether it succeeded or not.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
