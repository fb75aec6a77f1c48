import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { LoadError } from '../errors.js';
import type {
  ActivityEntry,
  ActivitySample,
  GenerationMessage,
  LocalPackage,
  MemorySample,
  ShutdownMode,
  SupervisorMessage,
} from '../ipc.js';

const generationMain = fileURLToPath(new URL('../generation/main.js', import.meta.url));

/**
 * `starting` until the process has loaded the SDK and connected, `idle` while it waits
 * for an activity set (a spare), `loading` while it imports one, then `running`.
 */
export type GenerationState =
  'starting' | 'idle' | 'loading' | 'running' | 'draining' | 'stopped' | 'failed';

export interface GenerationOptions {
  id: number;
  taskQueue: string;
  identity: string;
  shutdownGraceMs: number;
  shutdownForceMs: number;
  loadTimeoutMs: number;
  logger: Logger;
  /** Called for every activity execution that the generation finishes. */
  onActivity?: (generation: GenerationProcess, sample: ActivitySample) => void;
}

/**
 * One generation process, as seen from the supervisor: its lifecycle state, the
 * activities it registered, and a promise that settles when the process exits. The
 * process starts without an activity set, so it can wait as a spare until `load`.
 */
export class GenerationProcess {
  readonly id: number;
  /** The revision it serves; null while it waits as a spare. */
  revision: number | null = null;
  readonly startedAt = new Date();
  state: GenerationState = 'starting';
  /** When its Worker started running; a spare may wait long before that. */
  runningSince: Date | null = null;
  activities: ActivityEntry[] = [];
  /** Resolves with the exit code (or signal name) when the process has exited. */
  readonly exited: Promise<number | string>;
  /** Memory from the latest response to a health ping. */
  memory: MemorySample | null = null;
  /** Set when the supervisor killed the process because it stopped responding to pings. */
  unresponsive = false;
  /** Set when the process was killed rather than left to exit on its own. */
  killed = false;
  /** Loopback port of the SDK's Prometheus exporter in the process, once it reported it. */
  metricsPort: number | null = null;
  /** When the set finished importing, and how long the import took. */
  loadedAt: Date | null = null;
  loadMs: number | null = null;
  /** When drain() was first called, and how long the process took to exit after that. */
  drainStartedAt: Date | null = null;
  drainMs: number | null = null;

  readonly #child: ChildProcess;
  readonly #options: GenerationOptions;
  #log: Logger;
  #forceTimer: NodeJS.Timeout | undefined;
  #shutdownMode: ShutdownMode | undefined;
  #idle = false;
  #healthTimer: NodeJS.Timeout | undefined;
  #lastPongAt = 0;
  #onPong: (() => void) | undefined;
  #onMessage: ((message: GenerationMessage) => void) | undefined;

  constructor(options: GenerationOptions) {
    this.id = options.id;
    this.#options = options;
    this.#log = options.logger.child({ generation: options.id });
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
    this.#child.on('message', (message: GenerationMessage) => {
      if (message.type === 'idle') {
        this.#idle = true;
        if (this.state === 'starting') this.state = 'idle';
        this.metricsPort = message.metricsPort;
      }
      if (message.type === 'activities') {
        for (const sample of message.samples) this.#options.onActivity?.(this, sample);
      }
      if (message.type === 'pong') {
        this.#lastPongAt = Date.now();
        this.memory = message.memory;
        this.#onPong?.();
      }
      this.#onMessage?.(message);
    });
    // 'error' is emitted when the process cannot be spawned or signalled; unhandled, it
    // would end the supervisor.
    this.#child.on('error', (error) => {
      this.#log.error({ err: error, pid: this.#child.pid }, 'generation process error');
    });
    this.exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        clearTimeout(this.#forceTimer);
        clearInterval(this.#healthTimer);
        const previous = this.state;
        const expected = previous === 'draining' || previous === 'stopped';
        this.state = expected ? 'stopped' : 'failed';
        if (this.drainStartedAt) this.drainMs = Date.now() - this.drainStartedAt.getTime();
        this.#log.info({ code, signal, pid: this.#child.pid, previous }, 'generation exited');
        resolve(code ?? signal ?? 'unknown');
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** True while the process waits for an activity set, ready to load one at once. */
  get isSpare(): boolean {
    return this.revision === null && (this.state === 'starting' || this.state === 'idle');
  }

  /**
   * Sends the activity set and waits until the generation's Worker is running. Rejects
   * with the generation's own failure, a timeout, or an early exit; the process is
   * killed in each of those cases.
   */
  async load(revision: number, packages: LocalPackage[]): Promise<void> {
    this.revision = revision;
    this.state = 'loading';
    this.#log = this.#log.child({ revision });
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const running = new Promise<void>((onResolve, onReject) => {
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
    const sendLoad = () => this.#send({ type: 'load', revision, packages });
    this.#onMessage = (message) => {
      if (message.type === 'idle') sendLoad();
      else if (message.type === 'loaded') {
        this.activities = message.activities;
        this.loadedAt = new Date();
        this.loadMs = Math.round(message.loadMs);
      } else if (message.type === 'running') resolve();
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
    // A spare that is already idle gets the set now; a new process gets it on `idle`.
    if (this.#idle) sendLoad();
    try {
      await running;
      this.state = 'running';
      this.runningSince = new Date();
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
   * grace period; with `exit`, they are also cancelled at once (see ShutdownMode).
   * Kills the process if it has not exited by grace plus force time after the first
   * call. A spare that never loaded a set exits at once.
   */
  drain(mode: ShutdownMode = 'retire'): Promise<number | string> {
    // NOTE: the SDK's shutdown ends the Worker's outstanding long polls. A server that
    // advertises the worker_poll_complete_on_shutdown capability completes them empty;
    // one that does not (the dev server of Temporal CLI v1.5.1 used here) can hand a
    // task to a poll as it ends, and that task runs only after its start-to-close
    // timeout expires and Temporal retries it. Activities already running are not affected.
    if (this.state === 'stopped' || this.state === 'failed') return this.exited;
    if (this.state === 'draining') {
      // A generation retired by a swap still gets the cancellation when the worker stops.
      if (mode === 'exit' && this.#shutdownMode !== 'exit') {
        this.#shutdownMode = mode;
        this.#send({ type: 'shutdown', mode });
      }
    } else {
      this.state = 'draining';
      this.#shutdownMode = mode;
      this.drainStartedAt = new Date();
      this.#log.info({ pid: this.pid, mode }, 'generation draining');
      this.#send({ type: 'shutdown', mode });
      this.#forceTimer = setTimeout(() => {
        this.#log.warn({ pid: this.pid }, 'generation did not drain in time, killing it');
        this.kill();
      }, this.#options.shutdownGraceMs + this.#options.shutdownForceMs);
    }
    return this.exited;
  }

  /**
   * Pings the process every `intervalMs`. When no response has come for `timeoutMs`, as
   * when an activity blocks the event loop, marks it unresponsive and kills it.
   */
  monitor(intervalMs: number, timeoutMs: number, onResponse: () => void): void {
    this.#onPong = onResponse;
    this.#lastPongAt = Date.now();
    let sequence = 0;
    this.#healthTimer = setInterval(() => {
      if (Date.now() - this.#lastPongAt > timeoutMs) {
        clearInterval(this.#healthTimer);
        this.unresponsive = true;
        this.#log.error(
          { pid: this.pid, timeoutMs },
          'generation not responding to health pings, killing it',
        );
        this.kill();
        return;
      }
      sequence += 1;
      this.#send({ type: 'ping', sequence });
    }, intervalMs);
    this.#healthTimer.unref();
  }

  kill(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.killed = true;
      this.#child.kill('SIGKILL');
    }
  }

  #send(message: SupervisorMessage): void {
    if (!this.#child.connected) return;
    // A process that is exiting may close the channel while the message is on its way.
    // Without a callback that failure (EPIPE) is emitted as an 'error' event of the child;
    // the exit handler reports the process itself.
    this.#child.send(message, (error) => {
      if (error) {
        this.#log.info(
          { err: error, message: message.type },
          'message to generation not delivered',
        );
      }
    });
  }
}
