import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { LoadError } from '../errors.js';
import type { ActivityEntry, GenerationMessage, LocalPackage, SupervisorMessage } from '../ipc.js';

const generationMain = fileURLToPath(new URL('../generation/main.js', import.meta.url));

export type GenerationState = 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

export interface GenerationOptions {
  id: number;
  revision: number;
  taskQueue: string;
  identity: string;
  shutdownGraceMs: number;
  shutdownForceMs: number;
  loadTimeoutMs: number;
  logger: Logger;
}

/**
 * One generation process, as seen from the supervisor: its lifecycle state, the
 * activities it registered, and a promise that settles when the process exits.
 */
export class GenerationProcess {
  readonly id: number;
  readonly revision: number;
  readonly startedAt = new Date();
  state: GenerationState = 'starting';
  activities: ActivityEntry[] = [];
  /** Resolves with the exit code (or signal name) when the process has exited. */
  readonly exited: Promise<number | string>;

  readonly #child: ChildProcess;
  readonly #options: GenerationOptions;
  readonly #log: Logger;
  #forceTimer: NodeJS.Timeout | undefined;
  #onMessage: ((message: GenerationMessage) => void) | undefined;

  constructor(options: GenerationOptions) {
    this.id = options.id;
    this.revision = options.revision;
    this.#options = options;
    this.#log = options.logger.child({ generation: options.id, revision: options.revision });
    this.#child = fork(generationMain, [], {
      env: {
        ...process.env,
        TASK_QUEUE: options.taskQueue,
        GENERATION_IDENTITY: options.identity,
        GENERATION_SHUTDOWN_GRACE_MS: String(options.shutdownGraceMs),
      },
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    this.#child.on('message', (message: GenerationMessage) => this.#onMessage?.(message));
    this.exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        clearTimeout(this.#forceTimer);
        const previous = this.state;
        this.state = previous === 'draining' || previous === 'stopped' ? 'stopped' : 'failed';
        this.#log.info({ code, signal, pid: this.#child.pid, previous }, 'generation exited');
        resolve(code ?? signal ?? 'unknown');
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /**
   * Sends the activity set and waits until the generation's Worker is running. Rejects
   * with the generation's own failure, a timeout, or an early exit; the process is
   * killed in each of those cases.
   */
  async load(packages: LocalPackage[]): Promise<void> {
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<void>((onResolve, onReject) => {
      resolve = onResolve;
      reject = onReject;
    });
    const timer = setTimeout(
      () =>
        reject(
          new LoadError(
            'LOAD_TIMED_OUT',
            `generation did not start within ${this.#options.loadTimeoutMs / 1000} s; ` +
              'raise WORKER_LOAD_TIMEOUT_SECONDS if imports are slow',
          ),
        ),
      this.#options.loadTimeoutMs,
    );
    this.#onMessage = (message) => {
      if (message.type === 'loaded') this.activities = message.activities;
      else if (message.type === 'running') resolve();
      else if (message.type === 'failed') reject(LoadError.fromFailureInfo(message.error));
    };
    void this.exited.then((code) =>
      reject(
        new LoadError(
          'GENERATION_EXITED',
          `generation process exited (${code}) before it was running`,
        ),
      ),
    );
    this.#send({ type: 'load', revision: this.revision, packages });
    try {
      await promise;
      this.state = 'running';
      this.#log.info({ pid: this.pid, activities: this.activities.length }, 'generation started');
    } catch (error) {
      this.kill();
      throw error;
    } finally {
      clearTimeout(timer);
      this.#onMessage = undefined;
    }
  }

  /**
   * Asks the Worker to stop polling and let in-flight activities finish within the
   * grace period; kills the process if it has not exited by grace plus force time.
   */
  drain(): Promise<number | string> {
    if (this.state === 'stopped' || this.state === 'failed') return this.exited;
    if (this.state !== 'draining') {
      this.state = 'draining';
      this.#log.info({ pid: this.pid }, 'generation draining');
      this.#send({ type: 'shutdown' });
      this.#forceTimer = setTimeout(() => {
        this.#log.warn({ pid: this.pid }, 'generation did not drain in time, killing it');
        this.kill();
      }, this.#options.shutdownGraceMs + this.#options.shutdownForceMs);
    }
    return this.exited;
  }

  kill(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null)
      this.#child.kill('SIGKILL');
  }

  #send(message: SupervisorMessage): void {
    if (this.#child.connected) this.#child.send(message);
  }
}
