import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ActivitySample } from '../ipc.js';
import type { GenerationProcess } from './generation-process.js';

/**
 * Package versions whose execution series /metrics keeps, most recently active first.
 * The series of older versions are removed, so that a worker which swaps for months
 * keeps a bounded number of series.
 */
export const maxVersionsWithSeries = 20;

const outcomes: ReadonlyArray<ActivitySample['outcome']> = ['completed', 'failed', 'cancelled'];

/** Prometheus metrics of one worker supervisor and the generations it runs. */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly swaps: Counter<'result'>;
  readonly swapDuration: Histogram;
  readonly loadFailures: Counter<'code'>;
  readonly restarts: Counter;
  readonly recycles: Counter;
  readonly appliedRevision: Gauge;
  readonly #executions: Counter<'activity' | 'package' | 'version' | 'outcome'>;
  readonly #executionDuration: Histogram<'activity' | 'package' | 'version'>;
  /** Activities with series, by `package@version`, in order of last execution. */
  readonly #versions = new Map<
    string,
    { package: string; version: string; activities: Set<string> }
  >();

  constructor(serving: () => GenerationProcess | undefined) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.swaps = new Counter({
      name: 'activity_worker_swaps_total',
      help: 'Revisions the worker tried to apply, by result (applied or failed)',
      labelNames: ['result'],
      registers,
    });
    this.swapDuration = new Histogram({
      name: 'activity_worker_swap_duration_seconds',
      help: 'Time from starting to apply a revision until its generation serves, in seconds',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.loadFailures = new Counter({
      name: 'activity_worker_load_failures_total',
      help: 'Revisions that could not be applied, by error code',
      labelNames: ['code'],
      registers,
    });
    this.restarts = new Counter({
      name: 'activity_worker_generation_restarts_total',
      help: 'Generations replaced after they exited on their own or stopped responding',
      registers,
    });
    this.recycles = new Counter({
      name: 'activity_worker_generation_recycles_total',
      help: 'Generations replaced for memory or age by a fresh one with the same set',
      registers,
    });
    this.appliedRevision = new Gauge({
      name: 'activity_worker_applied_revision',
      help: 'Revision of the desired state that the worker serves',
      registers,
    });
    new Gauge({
      name: 'activity_worker_generation_memory_bytes',
      help: 'Memory of the serving generation process, from its latest health ping',
      labelNames: ['kind'],
      registers,
      collect() {
        const memory = serving()?.memory;
        if (!memory) return;
        this.set({ kind: 'rss' }, memory.rss);
        this.set({ kind: 'heap_used' }, memory.heapUsed);
      },
    });
    this.#executions = new Counter({
      name: 'activity_executions_total',
      help: 'Finished activity executions, by activity, package, version and outcome',
      labelNames: ['activity', 'package', 'version', 'outcome'],
      registers,
    });
    this.#executionDuration = new Histogram({
      name: 'activity_execution_duration_seconds',
      help: 'Duration of activity executions, in seconds',
      labelNames: ['activity', 'package', 'version'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
  }

  /** Counts one execution under the package and version that the generation registered. */
  observeActivity(generation: GenerationProcess, sample: ActivitySample): void {
    const entry = generation.activities.find((candidate) => candidate.name === sample.activity);
    const labels = {
      activity: sample.activity,
      package: entry?.package ?? 'unknown',
      version: entry?.version ?? 'unknown',
    };
    this.#executions.inc({ ...labels, outcome: sample.outcome });
    this.#executionDuration.observe(labels, sample.durationMs / 1000);
    this.#touchVersion(labels.package, labels.version, labels.activity);
  }

  /** Marks a version as the most recently active, and drops the series of the oldest. */
  #touchVersion(packageName: string, version: string, activity: string): void {
    const key = `${packageName}@${version}`;
    const seen = this.#versions.get(key) ?? {
      package: packageName,
      version,
      activities: new Set(),
    };
    seen.activities.add(activity);
    // Re-inserting moves the key to the end of the Map's iteration order.
    this.#versions.delete(key);
    this.#versions.set(key, seen);
    for (const [oldKey, old] of this.#versions) {
      if (this.#versions.size <= maxVersionsWithSeries) break;
      this.#versions.delete(oldKey);
      for (const name of old.activities) {
        const labels = { activity: name, package: old.package, version: old.version };
        this.#executionDuration.remove(labels);
        for (const outcome of outcomes) this.#executions.remove({ ...labels, outcome });
      }
    }
  }
}
