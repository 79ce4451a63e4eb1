interface Waiting {
  start(): void;
  refuse(reason: unknown): void;
}

/**
 * Runs async tasks one at a time, in call order. A read-modify-write that awaits (here: persisting
 * a swap) cannot interleave with another one, so each ownership state has exactly one winner.
 * Once `refuseWhen` is aborted, the tasks still waiting are rejected at once with its reason, and
 * so is every new one; the task already running finishes.
 */
export class SerialQueue {
  private readonly waiting: Waiting[] = [];
  private busy = false;

  constructor(private readonly refuseWhen?: AbortSignal) {
    refuseWhen?.addEventListener(
      "abort",
      () => {
        for (const task of this.waiting.splice(0)) task.refuse(refuseWhen.reason);
      },
      { once: true },
    );
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.refuseWhen?.aborted) return reject(this.refuseWhen.reason);
      this.waiting.push({
        start: () => {
          Promise.resolve()
            .then(task)
            .then(resolve, reject)
            .finally(() => this.next());
        },
        refuse: reject,
      });
      if (!this.busy) this.next();
    });
  }

  private next(): void {
    const task = this.waiting.shift();
    this.busy = task !== undefined;
    task?.start();
  }
}
