import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';

/** What the `short` activity returns. */
interface ShortResult {
  version: string;
  attempt: number;
}

export interface LoadCounts {
  started: number;
  /** Completed on the first attempt. */
  completed: number;
  /** Completed after at least one retry: a failed or timed-out attempt came first. */
  completedAfterRetry: number;
  /** Workflows that ended failed, which with unlimited retries means something other than the activity failed. */
  failed: number;
  /** Still running when the drain deadline passed; terminated afterwards. */
  notCompleted: number;
  /** Workflow latencies of completed calls, in ms. */
  latenciesMs: number[];
  /** Attempt numbers above 1, one entry per retried call. */
  retryAttempts: number[];
  /** Latencies of the retried calls, in ms. */
  retryLatenciesMs: number[];
}

/**
 * Keeps `inFlight` workflows running, each calling the `short` activity once with
 * unlimited retries and a start-to-close timeout, and counts how each call ended.
 */
export class SteadyLoad {
  readonly counts: LoadCounts = {
    started: 0,
    completed: 0,
    completedAfterRetry: 0,
    failed: 0,
    notCompleted: 0,
    latenciesMs: [],
    retryAttempts: [],
    retryLatenciesMs: [],
  };
  readonly #client: Client;
  readonly #options: {
    workflowQueue: string;
    taskQueue: string;
    inFlight: number;
    activityMs: number;
    startToCloseTimeoutMs: number;
  };
  readonly #pending = new Map<string, Promise<void>>();
  readonly #terminated = new Set<string>();
  #stopping = false;
  #slots: Promise<void>[] = [];

  constructor(
    client: Client,
    options: {
      workflowQueue: string;
      taskQueue: string;
      inFlight: number;
      activityMs: number;
      startToCloseTimeoutMs: number;
    },
  ) {
    this.#client = client;
    this.#options = options;
  }

  start(): void {
    this.#slots = Array.from({ length: this.#options.inFlight }, () => this.#runSlot());
  }

  /**
   * Stops starting workflows and waits up to `deadlineMs` for the running ones. Those
   * still running then count as not completed and are terminated.
   */
  async stop(deadlineMs: number): Promise<LoadCounts> {
    this.#stopping = true;
    const slots = Promise.all(this.#slots);
    const timer = new Promise((resolve) => setTimeout(resolve, deadlineMs).unref());
    await Promise.race([slots, timer]);
    for (const workflowId of this.#pending.keys()) {
      this.#terminated.add(workflowId);
      this.counts.notCompleted += 1;
      await this.#client.workflow
        .getHandle(workflowId)
        .terminate('benchmark drain deadline passed')
        .catch(() => {
          // It ended on its own just before; its result is counted where it arrives.
          this.#terminated.delete(workflowId);
          this.counts.notCompleted -= 1;
        });
    }
    await slots;
    return this.counts;
  }

  async #runSlot(): Promise<void> {
    while (!this.#stopping) {
      const workflowId = `load-${randomUUID()}`;
      const call = this.#callOnce(workflowId);
      this.#pending.set(workflowId, call);
      await call;
      this.#pending.delete(workflowId);
    }
  }

  async #callOnce(workflowId: string): Promise<void> {
    const started = performance.now();
    this.counts.started += 1;
    try {
      const result = (await this.#client.workflow.execute('callActivity', {
        taskQueue: this.#options.workflowQueue,
        workflowId,
        args: [
          {
            activity: 'short',
            args: [this.#options.activityMs],
            taskQueue: this.#options.taskQueue,
            startToCloseTimeoutMs: this.#options.startToCloseTimeoutMs,
          },
        ],
      })) as ShortResult;
      if (result.attempt > 1) {
        this.counts.completedAfterRetry += 1;
        this.counts.retryAttempts.push(result.attempt);
        this.counts.retryLatenciesMs.push(performance.now() - started);
      } else {
        this.counts.completed += 1;
      }
      this.counts.latenciesMs.push(performance.now() - started);
    } catch {
      // A workflow terminated at the drain deadline is already counted as not completed.
      if (!this.#terminated.has(workflowId)) this.counts.failed += 1;
    }
  }
}
