import { ReadinessState } from "@monorepo/health";
import { ShuttingDownError } from "./errors";

/**
 * What a service's code needs to know about its own shutdown, so that no promise to a client is
 * broken: work that has not started is refused once `draining` is aborted (503, nothing done);
 * work in progress stops before its point of no return once `deadline` is aborted; and the server
 * waits for every `commit` to settle before it cuts connections, so a change that was made is
 * also answered. startServer drives it.
 */
export class ServiceLifecycle {
  private readonly drain = new AbortController();
  private readonly limit = new AbortController();
  private readonly commits = new Set<Promise<unknown>>();

  constructor(readonly readiness: ReadinessState = new ReadinessState()) {}

  /** Aborted (reason: a ShuttingDownError) when the shutdown begins. */
  get draining(): AbortSignal {
    return this.drain.signal;
  }

  /** Aborted (reason: a ShuttingDownError) when the drain limit is reached. */
  get deadline(): AbortSignal {
    return this.limit.signal;
  }

  /**
   * Runs a change that must be either made and answered, or not made. The task watches `deadline`
   * and gives up before its point of no return (an atomic rename, say) once it is aborted; the
   * route answers in the same turn the task settles. Refused once the deadline has passed.
   */
  commit<T>(task: () => Promise<T>): Promise<T> {
    if (this.limit.signal.aborted) return Promise.reject(this.limit.signal.reason);
    const running = Promise.resolve().then(task);
    this.commits.add(running);
    const forget = (): void => void this.commits.delete(running);
    running.then(forget, forget);
    return running;
  }

  /** The shutdown begins: readiness turns 503 and work not yet started is refused. */
  startDraining(): void {
    this.readiness.markDraining();
    if (!this.drain.signal.aborted) this.drain.abort(new ShuttingDownError());
  }

  /** The drain limit is reached: commits in progress give up if they still can; resolves once all have settled. */
  async reachDeadline(): Promise<void> {
    this.startDraining();
    if (!this.limit.signal.aborted) this.limit.abort(new ShuttingDownError());
    await Promise.allSettled([...this.commits]);
  }
}
