import { EventEmitter } from 'node:events';

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
  waitForChange(
    taskQueue: string,
    knownRevision: number,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<boolean> {
    return new Promise((resolve) => {
      const finish = (changed: boolean) => {
        clearTimeout(timer);
        this.#emitter.off(taskQueue, onRevision);
        signal.removeEventListener('abort', onAbort);
        this.#closed.signal.removeEventListener('abort', onAbort);
        resolve(changed);
      };
      const onRevision = (revision: number) => {
        if (revision !== knownRevision) finish(true);
      };
      const onAbort = () => finish(false);
      const timer = setTimeout(onAbort, timeoutMs);
      this.#emitter.on(taskQueue, onRevision);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#closed.signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted || this.#closed.signal.aborted) finish(false);
    });
  }
}
