import type { TaskQueueState } from './client/types.js';

type Waiter = (state: TaskQueueState) => void;

/**
 * Wakes long-polling readers of a task queue when a write creates a revision, handing
 * each the new state so that thousands of readers do not each read the database.
 * The notifier is in-process: with several API replicas each one only wakes its own
 * readers.
 */
export class ChangeNotifier {
  /**
   * Open waits per task queue. A Set, not an EventEmitter: removing one of n listeners
   * from an emitter scans its array, so waking n readers would cost O(n²).
   */
  readonly #waiters = new Map<string, Set<Waiter>>();
  readonly #closed = new AbortController();

  /** Ends every open wait at once, so that a server can close without waiting them out. */
  close(): void {
    this.#closed.abort();
  }

  notify(state: TaskQueueState): void {
    const waiters = this.#waiters.get(state.taskQueue);
    if (!waiters) return;
    // Each waiter removes itself, so iterate over a copy.
    for (const waiter of [...waiters]) waiter(state);
  }

  /**
   * Resolves with the new state when the queue gets a revision other than
   * `knownRevision`, or `null` when `timeoutMs` passes, `signal` aborts or the notifier
   * closes first.
   */
  waitForChange(
    taskQueue: string,
    knownRevision: number,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<TaskQueueState | null> {
    return new Promise((resolve) => {
      let waiters = this.#waiters.get(taskQueue);
      if (!waiters) {
        waiters = new Set();
        this.#waiters.set(taskQueue, waiters);
      }
      const queueWaiters = waiters;
      const finish = (state: TaskQueueState | null) => {
        clearTimeout(timer);
        queueWaiters.delete(onState);
        if (queueWaiters.size === 0 && this.#waiters.get(taskQueue) === queueWaiters) {
          this.#waiters.delete(taskQueue);
        }
        signal.removeEventListener('abort', onAbort);
        this.#closed.signal.removeEventListener('abort', onAbort);
        resolve(state);
      };
      const onState: Waiter = (state) => {
        if (state.revision !== knownRevision) finish(state);
      };
      const onAbort = () => finish(null);
      const timer = setTimeout(onAbort, timeoutMs);
      queueWaiters.add(onState);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#closed.signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted || this.#closed.signal.aborted) finish(null);
    });
  }
}
