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
  subtractOutcomes,
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
  /** Time under load before the drain began, in ms. */
  loadMs: number;
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
  const before = await readExecutionOutcomes(bench.worker.url);
  const load = startLoad(bench);
  await pause(pauseMs);
  for (const version of versions) {
    await untilApplied(bench, await pin(bench, version));
    await pause(pauseMs);
  }
  const loadMs = performance.now() - started;
  const counts = await load.stop(drainMs);
  const outcomes = subtractOutcomes(await readExecutionOutcomes(bench.worker.url), before);
  return { counts, outcomes, durationMs: performance.now() - started, loadMs };
}

/** The same load for `durationMs` with no swap, to show what the load alone costs. */
async function controlPhase(bench: BenchStack, durationMs: number): Promise<PhaseResult> {
  const started = performance.now();
  const before = await readExecutionOutcomes(bench.worker.url);
  const load = startLoad(bench);
  await pause(durationMs);
  const loadMs = performance.now() - started;
  const counts = await load.stop(drainMs);
  const outcomes = subtractOutcomes(await readExecutionOutcomes(bench.worker.url), before);
  return { counts, outcomes, durationMs: performance.now() - started, loadMs };
}

async function restartPhase(bench: BenchStack, versions: string[]): Promise<PhaseResult> {
  const started = performance.now();
  // Executions of the earlier phase are on this worker's counters already.
  const before = await readExecutionOutcomes(bench.worker.url);
  let outcomes = subtractOutcomes({ completed: 0, failed: 0, cancelled: 0 }, before);
  const load = startLoad(bench);
  await pause(pauseMs);
  let worker: WorkerProcess = bench.worker;
  for (const version of versions) {
    // The counters live in the worker process, so they are read just before it stops.
    outcomes = addOutcomes(outcomes, await readExecutionOutcomes(worker.url));
    await worker.stop();
    const revision = await pin(bench, version);
    worker = await bench.startWorker();
    bench.worker = worker;
    await untilApplied(bench, revision);
    await pause(pauseMs);
  }
  const loadMs = performance.now() - started;
  const counts = await load.stop(drainMs);
  outcomes = addOutcomes(outcomes, await readExecutionOutcomes(worker.url));
  return { counts, outcomes, durationMs: performance.now() - started, loadMs };
}

function resultRow(name: string, swapCount: number, result: PhaseResult): Array<string | number> {
  const { counts, outcomes } = result;
  const latency = summarize(counts.latenciesMs);
  const retried =
    counts.retryAttempts.length === 0
      ? '0'
      : `${counts.completedAfterRetry} (attempts ${counts.retryAttempts.join(', ')})`;
  return [
    name,
    swapCount,
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
    console.error('control: the same load without swaps');
    const control = await controlPhase(bench, hot.loadMs);
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
        resultRow('hot swap', swaps, hot),
        resultRow('control: no swap', 0, control),
        resultRow('baseline: stop the worker, pin, start a new worker', swaps, restart),
      ],
    );
    console.log(table);
    const seconds = (result: PhaseResult) =>
      result.counts.retryLatenciesMs.map((ms) => (ms / 1000).toFixed(1)).join(', ') || 'none';
    const retryLatencies =
      `Latencies of the retried calls, in s: hot swap ${seconds(hot)}; control ` +
      `${seconds(control)}; baseline ${seconds(restart)}.`;
    console.log(retryLatencies);
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
        `${swaps} swaps, ${pauseMs} ms apart, each to a new version. The control runs the same`,
        'load on the hot-swap worker for as long as the hot-swap phase, without a swap.',
        '"Completed after a retry" is a call whose result came from attempt 2 or later, so an',
        'earlier attempt failed or timed out, and its latency includes the timeout. "Not',
        `completed" is a call still running ${drainMs / 1000} s after the load stopped.`,
        'The worker-side counts come from `activity_executions_total`, which counts every',
        'attempt that ran to an end on a worker. When the completed count equals the sum of',
        'both "completed" columns, the first attempt of each retried call never ran on any',
        'worker. The baseline reads each worker just before it stops, so executions that end',
        'during its drain are missing and its counts are a lower bound. Latencies are per call,',
        'from the workflow start to its result.',
        '',
        table,
        '',
        retryLatencies,
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
