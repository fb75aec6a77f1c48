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
  /** Order of the state the reader has, from `etagOrder`. */
  known: [number, number];
  finish: (state: TaskQueueState | null) => void;
}

/**
 * Returns the order of a state ETag (`"r<revision>"` or `"r<revision>.<rollout version>"`)
 * as a pair to compare. Revisions only grow, and a rollout's version counts its changes
 * within its candidate revision. A rollout starts with a new revision, which never had
 * an ETag without a version. It ends with a new revision, or when promoted without a
 * version, so a missing version sorts after every version of that revision.
 */
export function etagOrder(etag: string): [number, number] {
  const match = /^"r(\d+)(?:\.(\d+))?"$/.exec(etag);
  if (!match) return [-1, -1];
  return [Number(match[1]), match[2] === undefined ? Infinity : Number(match[2])];
}

function isNewer(a: [number, number], b: [number, number]): boolean {
  return a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
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
  /**
   * The newest state notified per queue. A reader whose database read began before a
   * change, but who starts waiting only after the change was notified, gets it from here
   * at once. With PostgreSQL that read is truly asynchronous, so the gap is real.
   */
  readonly #latest = new Map<string, { state: TaskQueueState; order: [number, number] }>();
  #closed = false;

  /** Ends every open wait at once, so that a server can close without waiting them out. */
  close(): void {
    this.#closed = true;
    for (const waiters of this.#waiters.values()) {
      for (const waiter of waiters) waiter.finish(null);
    }
  }

  /**
   * Hands `state` to every wait of its queue that has an older state. A state that
   * another replica's message brings late wakes no one who has seen a newer one.
   */
  notify(state: TaskQueueState): void {
    const order = etagOrder(stateEtag(state));
    const latest = this.#latest.get(state.taskQueue);
    if (!latest || isNewer(order, latest.order)) {
      this.#latest.set(state.taskQueue, { state, order });
    }
    const waiters = this.#waiters.get(state.taskQueue);
    if (!waiters) return;
    // Deleting the visited entry while iterating a Set is safe.
    for (const waiter of waiters) {
      if (isNewer(order, waiter.known)) waiter.finish(state);
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
   * Waits until the queue gets a state newer than the one whose ETag is `knownEtag`, for
   * at most `timeoutMs`, and ends at once when a newer one was notified already. Call
   * `cancel` when the client goes away.
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
    const waiter: Waiter = { known: etagOrder(knownEtag), finish };
    queueWaiters.add(waiter);
    if (this.#closed) finish(null);
    const latest = this.#latest.get(taskQueue);
    if (latest && isNewer(latest.order, waiter.known)) finish(latest.state);
    return { changed, cancel: () => finish(null) };
  }
}
