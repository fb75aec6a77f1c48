import { EventEmitter, once } from 'node:events';

/**
 * Wakes long-polling readers of a task queue when a write creates a revision.
 * The notifier is in-process: with several API replicas each one only wakes its own
 * readers.
 */
export class ChangeNotifier {
  readonly #emitter = new EventEmitter();
  readonly #closed = new AbortController();

  constructor() {
    // One listener per open long-poll; thousands are expected, so no leak warning.
    this.#emitter.setMaxListeners(0);
  }

  /** Ends every open wait at once, so that a server can close without waiting them out. */
  close(): void {
    this.#closed.abort();
  }

  notify(taskQueue: string, revision: number): void {
    this.#emitter.emit(taskQueue, revision);
  }

  /**
   * Resolves `true` when the queue gets a revision other than `knownRevision`, or
   * `false` when `timeoutMs` passes, `signal` aborts or the notifier closes first.
   */
  async waitForChange(
    taskQueue: string,
    knownRevision: number,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<boolean> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const stop = AbortSignal.any([timeout, signal, this.#closed.signal]);
    try {
      for (;;) {
        const [revision] = (await once(this.#emitter, taskQueue, { signal: stop })) as [number];
        if (revision !== knownRevision) return true;
      }
    } catch (error) {
      if ((error as Error).name === 'AbortError') return false;
      throw error;
    }
  }
}
