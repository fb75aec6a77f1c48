#!/usr/bin/env node
// Measures the time from starting a worker to serving ten pinned packages: with an empty
// package cache, and from the disk cache with the deploy API and the registry both down.
// The baseline is a plain Temporal Worker with the same ten modules on local disk.
//   npm run bench -- cold-start
// Settings (defaults): COLD_START_SAMPLES (5) per path, COLD_START_PACKAGES (10).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { WorkerProcess } from '@activity-deploy/stack';
import { publishVersions, type ModuleSource } from './lib/activity-packages.js';
import { startBenchStack, waitFor, type BenchStack } from './lib/bench-stack.js';
import { startPlainWorker } from './lib/plain-worker-process.js';
import {
  envInteger,
  loadAverage,
  markdownTable,
  recordHeader,
  writeSection,
} from './lib/report.js';
import { summarize, type Summary } from './lib/stats.js';

const samples = envInteger('COLD_START_SAMPLES', 5);
const packageCount = envInteger('COLD_START_PACKAGES', 10);
const version = '1.0.0';

/** Package `index` exports one activity, `cold<index>`, that returns its own name. */
const coldSource =
  (index: number): ModuleSource =>
  () =>
    `exports.cold${index} = async () => 'cold${index}';\n`;

const packageNames = Array.from({ length: packageCount }, (_, index) => `@bench/cold-${index}`);

/** Calls the activity of every package through workflows and throws on a wrong result. */
async function checkServing(bench: BenchStack, taskQueue: string): Promise<void> {
  await Promise.all(
    packageNames.map(async (_, index) => {
      const result: unknown = await bench.client.workflow.execute('callActivity', {
        taskQueue: bench.workflowQueue,
        workflowId: `cold-check-${randomUUID()}`,
        args: [{ activity: `cold${index}`, args: [], taskQueue, startToCloseTimeoutMs: 10_000 }],
      });
      if (result !== `cold${index}`) throw new Error(`cold${index} returned ${String(result)}`);
    }),
  );
}

/** Starts a worker on `dataDir` and returns the ms until its generation serves `revision`. */
async function timeWorkerStart(
  bench: BenchStack,
  dataDir: string,
  revision: number,
): Promise<{ ms: number; worker: WorkerProcess }> {
  const started = performance.now();
  const worker = await bench.startWorker({}, dataDir);
  bench.worker = worker;
  await waitFor(
    `worker to serve revision ${revision}`,
    async () => {
      const status = await bench.workerStatus();
      const serving = status.appliedRevision === revision && status.generation?.state === 'running';
      return serving ? true : undefined;
    },
    60_000,
    10,
  );
  return { ms: performance.now() - started, worker };
}

async function main(): Promise<void> {
  const loadAtStart = loadAverage();
  const bench = await startBenchStack({ name: 'cold-start' });
  const dataDirs: string[] = [];
  const moduleDir = path.join(bench.dataDir, 'plain');
  try {
    // The stack's own worker is not used; every sample starts one of its own.
    await bench.worker.stop();
    let revision = 0;
    await mkdir(moduleDir, { recursive: true });
    const moduleFiles: string[] = [];
    for (const [index, name] of packageNames.entries()) {
      await publishVersions(bench.stack, name, [version], coldSource(index));
      revision = (await bench.deploy.pin(bench.taskQueue, name, version)).revision;
      const file = path.join(moduleDir, `cold-${index}.cjs`);
      await writeFile(file, coldSource(index)(version));
      moduleFiles.push(file);
    }

    console.error(`baseline: ${samples} plain worker starts`);
    const plainQueue = `bench-plain-${randomUUID().slice(0, 8)}`;
    const plainMs: number[] = [];
    for (let sample = 0; sample < samples; sample += 1) {
      const started = performance.now();
      const plain = startPlainWorker({
        temporalAddress: bench.temporalAddress,
        taskQueue: plainQueue,
        modules: moduleFiles,
      });
      await plain.running;
      plainMs.push(performance.now() - started);
      await checkServing(bench, plainQueue);
      await plain.stop();
    }

    console.error(`empty cache: ${samples} worker starts`);
    const emptyMs: number[] = [];
    for (let sample = 0; sample < samples; sample += 1) {
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-cold-worker-'));
      dataDirs.push(dataDir);
      const { ms, worker } = await timeWorkerStart(bench, dataDir, revision);
      emptyMs.push(ms);
      await checkServing(bench, bench.taskQueue);
      await worker.stop();
    }

    console.error(`disk cache, deploy API and registry down: ${samples} worker starts`);
    await bench.stack.deployApi.close();
    await bench.stack.registry.close();
    const diskMs: number[] = [];
    for (const dataDir of dataDirs) {
      const { ms, worker } = await timeWorkerStart(bench, dataDir, revision);
      diskMs.push(ms);
      await checkServing(bench, bench.taskQueue);
      await worker.stop();
    }

    const row = (name: string, s: Summary, target: string) => [
      name,
      s.count,
      s.median.toFixed(0),
      s.max.toFixed(0),
      s.min.toFixed(0),
      target,
    ];
    const table = markdownTable(
      ['path', 'samples', 'median ms', 'max ms', 'min ms', 'target'],
      [
        row('hot-swap worker, empty cache', summarize(emptyMs), '5000 ms'),
        row(
          'hot-swap worker, disk cache, deploy API and registry down',
          summarize(diskMs),
          '1500 ms',
        ),
        row('baseline: plain Temporal Worker, modules on local disk', summarize(plainMs), ''),
      ],
    );
    console.log(table);
    await writeSection(
      'Worker start to serving its packages',
      [
        recordHeader(
          `COLD_START_SAMPLES=${samples} COLD_START_PACKAGES=${packageCount} npm run bench -- cold-start`,
          loadAtStart,
        ),
        '',
        `${packageCount} packages are pinned on one task queue, each with one activity and no`,
        'dependencies. Each sample starts a worker process and ends when `/status` shows the',
        'pinned revision applied and its generation running (polled every 10 ms); every sample',
        'then calls each activity once to check it. "Empty cache" starts each worker on a new',
        'data directory, so it fetches and extracts every tarball from the registry. "Disk',
        'cache" restarts on those directories after the deploy API and the registry have been',
        'stopped. The baseline starts a plain Temporal Worker process that imports the same',
        'modules from local disk, and ends when its Worker polls.',
        '',
        table,
      ].join('\n'),
    );
  } finally {
    await bench.close();
    for (const dataDir of dataDirs) await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
