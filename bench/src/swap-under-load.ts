#!/usr/bin/env node
// Counts failed, retried and lost activity executions while a worker swaps its code
// under a steady load of short activities. Hot swaps run against the baseline of
// stopping the worker process and starting a new one, in the same run on real parts.
//   npm run bench -- swap-under-load
// Settings (defaults): LOAD_SWAPS (20), LOAD_IN_FLIGHT (8) workflows kept running,
// LOAD_ACTIVITY_MS (50) per activity, LOAD_PAUSE_MS (1000) between swaps,
// LOAD_DRAIN_SECONDS (60) for running calls to finish after the last swap.
import { type WorkerProcess } from '@activity-deploy/stack';
import { patchVersions, publishVersions, shortActivitySource } from './lib/activity-packages.js';
import { startBenchStack, waitFor, type BenchStack } from './lib/bench-stack.js';
import {
  envInteger,
  loadAverage,
  markdownTable,
  recordHeader,
  writeSection,
} from './lib/report.js';
import { summarize } from './lib/stats.js';
import { SteadyLoad, type LoadCounts } from './lib/steady-load.js';
import {
  addOutcomes,
  readExecutionOutcomes,
  type ExecutionOutcomes,
} from './lib/worker-metrics.js';

const swaps = envInteger('LOAD_SWAPS', 20);
const inFlight = envInteger('LOAD_IN_FLIGHT', 8);
const activityMs = envInteger('LOAD_ACTIVITY_MS', 50, 0);
const pauseMs = envInteger('LOAD_PAUSE_MS', 1000, 0);
const drainMs = envInteger('LOAD_DRAIN_SECONDS', 60) * 1000;
/** Start-to-close timeout of each call: a task lost at a swap is retried after this. */
const startToCloseTimeoutMs = 10_000;
const packageName = '@bench/short';
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface PhaseResult {
  counts: LoadCounts;
  outcomes: ExecutionOutcomes;
  durationMs: number;
  /** When each swap began (the pin, or the stop of the old worker), from performance.now(). */
  swapStartedAt: number[];
}

/** Pins `version` and returns the revision it created. */
async function pin(bench: BenchStack, version: string): Promise<number> {
  return (await bench.deploy.pin(bench.taskQueue, packageName, version)).revision;
}

/** Waits until the worker's serving generation runs `revision`. */
async function untilApplied(bench: BenchStack, revision: number): Promise<void> {
  await waitFor(`worker to apply revision ${revision}`, async () => {
    const status = await bench.workerStatus();
    const running = status.appliedRevision === revision && status.generation?.state === 'running';
    return running ? true : undefined;
  });
}

function startLoad(bench: BenchStack): SteadyLoad {
  const load = new SteadyLoad(bench.client, {
    workflowQueue: bench.workflowQueue,
    taskQueue: bench.taskQueue,
    inFlight,
    activityMs,
    startToCloseTimeoutMs,
  });
  load.start();
  return load;
}

async function hotSwapPhase(bench: BenchStack, versions: string[]): Promise<PhaseResult> {
  const started = performance.now();
  const swapStartedAt: number[] = [];
  const load = startLoad(bench);
  await pause(pauseMs);
  for (const version of versions) {
    swapStartedAt.push(performance.now());
    await untilApplied(bench, await pin(bench, version));
    await pause(pauseMs);
  }
  const counts = await load.stop(drainMs);
  const outcomes = await readExecutionOutcomes(bench.worker.url);
  return { counts, outcomes, durationMs: performance.now() - started, swapStartedAt };
}

async function restartPhase(bench: BenchStack, versions: string[]): Promise<PhaseResult> {
  const started = performance.now();
  // Executions of the earlier phase are on this worker's counters already.
  const before = await readExecutionOutcomes(bench.worker.url);
  let outcomes: ExecutionOutcomes = {
    completed: -before.completed,
    failed: -before.failed,
    cancelled: -before.cancelled,
  };
  const swapStartedAt: number[] = [];
  const load = startLoad(bench);
  await pause(pauseMs);
  let worker: WorkerProcess = bench.worker;
  for (const version of versions) {
    // The counters live in the worker process, so they are read just before it stops.
    outcomes = addOutcomes(outcomes, await readExecutionOutcomes(worker.url));
    swapStartedAt.push(performance.now());
    await worker.stop();
    const revision = await pin(bench, version);
    worker = await bench.startWorker();
    bench.worker = worker;
    await untilApplied(bench, revision);
    await pause(pauseMs);
  }
  const counts = await load.stop(drainMs);
  outcomes = addOutcomes(outcomes, await readExecutionOutcomes(worker.url));
  return { counts, outcomes, durationMs: performance.now() - started, swapStartedAt };
}

/**
 * Returns, for each retried call, the ms from the start of the nearest swap to the
 * call's start. A call that started just before a swap gets a negative number.
 */
function retryOffsets(result: PhaseResult): number[] {
  return result.counts.retryStartedAt.map((callStart) => {
    const offsets = result.swapStartedAt.map((swapStart) => callStart - swapStart);
    return offsets.reduce((best, offset) => (Math.abs(offset) < Math.abs(best) ? offset : best));
  });
}

function resultRow(name: string, result: PhaseResult): Array<string | number> {
  const { counts, outcomes } = result;
  const latency = summarize(counts.latenciesMs);
  const retried =
    counts.retryAttempts.length === 0
      ? '0'
      : `${counts.completedAfterRetry} (attempts ${counts.retryAttempts.join(', ')})`;
  return [
    name,
    swaps,
    counts.started,
    counts.completed,
    retried,
    counts.failed,
    counts.notCompleted,
    outcomes.completed,
    outcomes.failed + outcomes.cancelled,
    latency.median.toFixed(0),
    latency.max.toFixed(0),
    (result.durationMs / 1000).toFixed(0),
  ];
}

async function main(): Promise<void> {
  const loadAtStart = loadAverage();
  const bench = await startBenchStack({ name: 'swap-under-load' });
  try {
    const versions = patchVersions(2 * swaps + 1);
    console.error(`publishing ${versions.length} versions of ${packageName}`);
    await publishVersions(bench.stack, packageName, versions, shortActivitySource);
    await untilApplied(bench, await pin(bench, versions[0] as string));

    console.error(`hot swap: ${swaps} swaps under load`);
    const hot = await hotSwapPhase(bench, versions.slice(1, swaps + 1));
    console.error(`restart baseline: ${swaps} restarts under load`);
    const restart = await restartPhase(bench, versions.slice(swaps + 1));

    const table = markdownTable(
      [
        'path',
        'swaps',
        'calls',
        'completed on attempt 1',
        'completed after a retry',
        'failed',
        'not completed',
        'executions completed on the worker',
        'executions failed or cancelled on the worker',
        'median ms',
        'max ms',
        'phase s',
      ],
      [
        resultRow('hot swap', hot),
        resultRow('baseline: stop the worker, pin, start a new worker', restart),
      ],
    );
    console.log(table);
    const offsets = (result: PhaseResult) =>
      retryOffsets(result)
        .map((offset) => offset.toFixed(0))
        .join(', ') || 'none';
    const retryTiming =
      `Retried calls started this many ms after the start of the nearest swap: hot swap ` +
      `${offsets(hot)}; baseline ${offsets(restart)}.`;
    console.log(retryTiming);
    await writeSection(
      'Activity executions across swaps under load',
      [
        recordHeader(
          `LOAD_SWAPS=${swaps} LOAD_IN_FLIGHT=${inFlight} LOAD_ACTIVITY_MS=${activityMs} ` +
            `LOAD_PAUSE_MS=${pauseMs} npm run bench -- swap-under-load`,
          loadAtStart,
        ),
        '',
        `A client keeps ${inFlight} workflows running. Each calls the \`short\` activity once`,
        `(it waits ${activityMs} ms and returns its version and attempt number) with a`,
        `${startToCloseTimeoutMs / 1000} s start-to-close timeout and unlimited retries, and the`,
        'client starts the next workflow as soon as one ends. Meanwhile each path makes',
        `${swaps} swaps, ${pauseMs} ms apart, each to a new version. "Completed after a retry" is`,
        'a call whose result came from attempt 2 or later, so an earlier attempt failed or timed',
        'out; its latency includes the timeout. "Not completed" is a call still running',
        `${drainMs / 1000} s after the last swap. The worker-side count is read from`,
        '`activity_executions_total` on each worker before it stops; it counts every attempt that',
        'ran to an end on a worker. When it equals the sum of both "completed" columns, the first',
        'attempt of each retried call never ran on any worker. Latencies are per call, from the',
        'workflow start to its result.',
        '',
        table,
        '',
        retryTiming,
      ].join('\n'),
    );
  } finally {
    await bench.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
