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
  /** The revision in `knownEtag`. */
  knownRevision: number;
  finish: (state: TaskQueueState | null) => void;
}

/**
 * Wakes long-polling readers of a task queue when its state changes (a write creates a
 * revision, or a rollout moves), handing
 * each the new state so that thousands of readers do not each read the database.
 * The notifier is in-process: with several API replicas on PostgreSQL, change-relay.ts
 * feeds it the revisions that the other replicas commit.
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

  /**
   * Hands `state` to every wait of its queue whose ETag differs, unless the wait knows a
   * newer revision: revisions only grow, so a state that another replica's message brings
   * late wakes no one who has seen a newer revision.
   */
  notify(state: TaskQueueState): void {
    const waiters = this.#waiters.get(state.taskQueue);
    if (!waiters) return;
    const etag = stateEtag(state);
    // Deleting the visited entry while iterating a Set is safe.
    for (const waiter of waiters) {
      if (waiter.knownEtag === etag || state.revision < waiter.knownRevision) continue;
      waiter.finish(state);
    }
  }

  hasWaiters(taskQueue: string): boolean {
    return this.#waiters.has(taskQueue);
  }

  /** Returns the queues that have open waits. */
  watchedQueues(): string[] {
    return [...this.#waiters.keys()];
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
    const knownRevision = Number(/^"r(\d+)/.exec(knownEtag)?.[1] ?? -1);
    const waiter: Waiter = { knownEtag, knownRevision, finish };
    queueWaiters.add(waiter);
    if (this.#closed) finish(null);
    return { changed, cancel: () => finish(null) };
  }
}
