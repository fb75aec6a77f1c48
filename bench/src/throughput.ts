#!/usr/bin/env node
// Measures activity throughput of the hot-swap worker against a plain Temporal Worker
// with the same activity registered statically, in alternating rounds of the same run.
//   npm run bench -- throughput
// Settings (defaults): THROUGHPUT_ROUNDS (3) per worker, THROUGHPUT_WORKFLOWS (20) per
// round, THROUGHPUT_FAN_OUT (50) activity calls per workflow, THROUGHPUT_IN_FLIGHT (4)
// workflows running at once.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { echoActivitySource, publishVersions } from './lib/activity-packages.js';
import { startBenchStack, waitFor, type BenchStack } from './lib/bench-stack.js';
import { startPlainWorker } from './lib/plain-worker-process.js';
import { cpuMilliseconds, treeCpuMilliseconds } from './lib/process-memory.js';
import {
  envInteger,
  loadAverage,
  markdownTable,
  recordHeader,
  writeSection,
} from './lib/report.js';
import { median } from './lib/stats.js';

const rounds = envInteger('THROUGHPUT_ROUNDS', 3);
const workflows = envInteger('THROUGHPUT_WORKFLOWS', 20);
const fanOut = envInteger('THROUGHPUT_FAN_OUT', 50);
const inFlight = envInteger('THROUGHPUT_IN_FLIGHT', 4);
const packageName = '@bench/echo';
const version = '1.0.0';

interface Target {
  name: string;
  taskQueue: string;
  /** Process whose tree runs the activities, for CPU time. */
  pid: number;
}

interface RoundResult {
  activitiesPerSecond: number;
  /** CPU time of the worker's processes per 1000 activities, in ms. */
  cpuMsPerThousand: number;
  /** The part of it used by the top process: the supervisor, or the whole plain worker. */
  topCpuMsPerThousand: number;
}

/** Runs `workflows` fan-out workflows against one worker, `inFlight` at a time. */
async function runRound(bench: BenchStack, target: Target, count: number): Promise<RoundResult> {
  let next = 0;
  const cpuBefore = await treeCpuMilliseconds(target.pid);
  const topCpuBefore = await cpuMilliseconds(target.pid);
  const started = performance.now();
  const runSlot = async () => {
    while (next < count) {
      next += 1;
      await bench.client.workflow.execute('fanOut', {
        taskQueue: bench.workflowQueue,
        workflowId: `fan-out-${randomUUID()}`,
        args: [{ activity: 'echo', taskQueue: target.taskQueue, count: fanOut }],
      });
    }
  };
  await Promise.all(Array.from({ length: inFlight }, runSlot));
  const seconds = (performance.now() - started) / 1000;
  const cpuMs = (await treeCpuMilliseconds(target.pid)) - cpuBefore;
  const topCpuMs = (await cpuMilliseconds(target.pid)) - topCpuBefore;
  const activities = count * fanOut;
  return {
    activitiesPerSecond: activities / seconds,
    cpuMsPerThousand: (cpuMs / activities) * 1000,
    topCpuMsPerThousand: (topCpuMs / activities) * 1000,
  };
}

async function main(): Promise<void> {
  const loadAtStart = loadAverage();
  const bench = await startBenchStack({ name: 'throughput' });
  const plainQueue = `bench-plain-${randomUUID().slice(0, 8)}`;
  const moduleFile = path.join(bench.dataDir, 'plain', 'echo.cjs');
  await mkdir(path.dirname(moduleFile), { recursive: true });
  await writeFile(moduleFile, echoActivitySource(version));
  const plain = startPlainWorker({
    temporalAddress: bench.temporalAddress,
    taskQueue: plainQueue,
    modules: [moduleFile],
  });
  try {
    await publishVersions(bench.stack, packageName, [version], echoActivitySource);
    const { revision } = await bench.deploy.pin(bench.taskQueue, packageName, version);
    await waitFor(`worker to apply revision ${revision}`, async () =>
      (await bench.workerStatus()).appliedRevision === revision ? true : undefined,
    );
    await plain.running;

    const targets: Target[] = [
      { name: 'plain', taskQueue: plainQueue, pid: plain.child.pid as number },
      { name: 'hot-swap', taskQueue: bench.taskQueue, pid: bench.worker.child.pid as number },
    ];
    console.error('warm-up round');
    for (const target of targets) await runRound(bench, target, Math.min(workflows, 4));
    const results = new Map<string, RoundResult[]>(targets.map((target) => [target.name, []]));
    for (let round = 0; round < rounds; round += 1) {
      // Alternating the order spreads a change in the machine's load over both workers.
      const order = round % 2 === 0 ? targets : [...targets].reverse();
      for (const target of order) {
        const result = await runRound(bench, target, workflows);
        results.get(target.name)?.push(result);
        console.error(
          `round ${round + 1} ${target.name}: ${result.activitiesPerSecond.toFixed(0)} activities/s`,
        );
      }
    }

    const summary = (name: string) => {
      const list = results.get(name) ?? [];
      return {
        rounds: list.map((result) => result.activitiesPerSecond.toFixed(0)).join(', '),
        median: median(list.map((result) => result.activitiesPerSecond)),
        cpu: median(list.map((result) => result.cpuMsPerThousand)),
        topCpu: median(list.map((result) => result.topCpuMsPerThousand)),
      };
    };
    const plainSummary = summary('plain');
    const hotSummary = summary('hot-swap');
    const ratio = hotSummary.median / plainSummary.median;
    const row = (name: string, s: ReturnType<typeof summary>) => [
      name,
      s.rounds,
      s.median.toFixed(0),
      s.cpu.toFixed(0),
      s.topCpu.toFixed(0),
    ];
    const table = markdownTable(
      [
        'worker',
        'activities/s per round',
        'median activities/s',
        'worker CPU ms per 1000 activities',
        'of which the top process',
      ],
      [
        row('baseline: plain Temporal Worker, activity registered statically', plainSummary),
        row('hot-swap worker (supervisor, generation and spare)', hotSummary),
      ],
    );
    const ratioLine = `Hot-swap median over plain median: ${ratio.toFixed(3)} (target 0.95 or more).`;
    console.log(`${table}\n${ratioLine}`);
    await writeSection(
      'Activity throughput',
      [
        recordHeader(
          `THROUGHPUT_ROUNDS=${rounds} THROUGHPUT_WORKFLOWS=${workflows} ` +
            `THROUGHPUT_FAN_OUT=${fanOut} THROUGHPUT_IN_FLIGHT=${inFlight} npm run bench -- throughput`,
          loadAtStart,
        ),
        '',
        `Each round runs ${workflows} workflows, ${inFlight} at a time, and each workflow calls`,
        `the \`echo\` activity ${fanOut} times in parallel, so a round is ${workflows * fanOut}`,
        'activity calls. `echo` returns its argument, so the figure is the cost of dispatching',
        'an activity, not of running one. Both workers run in their own process on the same',
        'Temporal dev server with the SDK default concurrency. Rounds alternate between the',
        'workers after one warm-up round each. CPU time is read from /proc for the worker',
        'process and its children, so the hot-swap figure includes the supervisor (the top',
        'process), which receives one IPC message per activity for its metrics, and the idle',
        'spare. The figures are medians over the rounds.',
        '',
        table,
        '',
        ratioLine,
      ].join('\n'),
    );
  } finally {
    await plain.stop();
    await bench.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
