import type { TaskQueueState } from './client/types.js';
import { stateEtag } from './state-etag.js';

/** An open wait for a change, as `waitForChange` returns it. */
export interface ChangeWait {
  /** The new state, or `null` when the wait timed out, was cancelled or the notifier closed. */
  changed: Promise<TaskQueueState | null>;
  /** Ends the wait with `null`; does nothing once it has ended. */
  cancel: () => void;
}

interface Waiter {
  knownEtag: string;
  finish: (state: TaskQueueState | null) => void;
}

/**
 * Wakes long-polling readers of a task queue when its state changes (a write creates a
 * revision, or a rollout moves), handing
 * each the new state so that thousands of readers do not each read the database.
 * The notifier is in-process: with several API replicas each one only wakes its own
 * readers.
 *
 * Waits are plain entries in a Set per queue, with no EventEmitter or AbortSignal
 * listener each: adding or removing one of n such listeners scans the other n, so
 * waking 10,000 readers would cost O(n²).
 */
export class ChangeNotifier {
  readonly #waiters = new Map<string, Set<Waiter>>();
  #closed = false;

  /** Ends every open wait at once, so that a server can close without waiting them out. */
  close(): void {
    this.#closed = true;
    for (const waiters of this.#waiters.values()) {
      for (const waiter of waiters) waiter.finish(null);
    }
  }

  notify(state: TaskQueueState): void {
    const waiters = this.#waiters.get(state.taskQueue);
    if (!waiters) return;
    const etag = stateEtag(state);
    // Deleting the visited entry while iterating a Set is safe.
    for (const waiter of waiters) {
      if (waiter.knownEtag !== etag) waiter.finish(state);
    }
  }

  /**
   * Waits until the queue gets a state whose ETag is not `knownEtag`, for at most
   * `timeoutMs`. Call `cancel` when the client goes away.
   */
  waitForChange(taskQueue: string, knownEtag: string, timeoutMs: number): ChangeWait {
    let waiters = this.#waiters.get(taskQueue);
    if (!waiters) {
      waiters = new Set();
      this.#waiters.set(taskQueue, waiters);
    }
    const queueWaiters = waiters;
    let finish!: (state: TaskQueueState | null) => void;
    const changed = new Promise<TaskQueueState | null>((resolve) => {
      let done = false;
      const timer = setTimeout(() => finish(null), timeoutMs);
      finish = (state) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        queueWaiters.delete(waiter);
        if (queueWaiters.size === 0 && this.#waiters.get(taskQueue) === queueWaiters) {
          this.#waiters.delete(taskQueue);
        }
        resolve(state);
      };
    });
    const waiter: Waiter = { knownEtag, finish };
    queueWaiters.add(waiter);
    if (this.#closed) finish(null);
    return { changed, cancel: () => finish(null) };
  }
}
