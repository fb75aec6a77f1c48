#!/usr/bin/env node
// Measures memory after many swaps: the hot-swap worker (supervisor and generation
// processes) against a baseline that re-imports each version into one process with a
// cache-busting query string, as in-process hot reload does.
//   npm run bench -- memory-after-swaps
// Settings (defaults): MEMORY_SWAPS (500), MEMORY_MODULE_KB (64) size of the activity
// module of each version, MEMORY_CHECKPOINT_EVERY (a fifth of MEMORY_SWAPS) swaps
// between two readings of the supervisor's memory.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import { supervisorNodeFlags } from '@activity-deploy/worker/node-flags.js';
import {
  bundledActivitySource,
  patchVersions,
  publishVersions,
  type ModuleSource,
} from './lib/activity-packages.js';
import { startBenchStack, waitFor, type BenchStack } from './lib/bench-stack.js';
import { mebibytes, residentAnonymousBytes, treeResidentBytes } from './lib/process-memory.js';
import {
  envInteger,
  loadAverage,
  markdownTable,
  recordHeader,
  writeSection,
} from './lib/report.js';
import { median } from './lib/stats.js';

const swaps = envInteger('MEMORY_SWAPS', 500);
const moduleKilobytes = envInteger('MEMORY_MODULE_KB', 64);
const checkpointEvery = envInteger('MEMORY_CHECKPOINT_EVERY', Math.max(1, Math.round(swaps / 5)));
const packageName = '@bench/bundled';
const reloadWorkerMain = fileURLToPath(new URL('./reload-worker.js', import.meta.url));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface MemoryPoint {
  /** Resident memory of the top process (the supervisor, or the baseline's only process). */
  own: number;
  /** Resident memory of the top process and all its descendants. */
  total: number;
  processes: number;
}

/** What the supervisor's /metrics and /proc show about its own memory. */
interface SupervisorDetail {
  /** Anonymous resident memory (RssAnon): the V8 heap, malloc and buffers, not mapped files. */
  residentAnonymous: number;
  heapUsed: number;
  /** Memory that V8 reserved for its heap, live objects and garbage alike. */
  heapTotal: number;
  /** Size of the young generation (V8's new space), which V8 grows and shrinks. */
  newSpace: number;
  /** Memory of Buffers and other objects that V8 tracks outside its heap. */
  external: number;
  /** Size of the /metrics response, which grows with every label set. */
  metricsBytes: number;
  /** Samples that carry a `version` label, one set per version that ran an activity. */
  versionSamples: number;
}

async function readSupervisorDetail(bench: BenchStack, pid: number): Promise<SupervisorDetail> {
  const text = await (await fetch(new URL('metrics', bench.worker.url))).text();
  const gauge = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? Number.NaN);
  return {
    residentAnonymous: await residentAnonymousBytes(pid),
    heapUsed: gauge(/^nodejs_heap_size_used_bytes (\S+)$/m),
    heapTotal: gauge(/^nodejs_heap_size_total_bytes (\S+)$/m),
    newSpace: gauge(/^nodejs_heap_space_size_total_bytes\{space="new"\} (\S+)$/m),
    external: gauge(/^nodejs_external_memory_bytes (\S+)$/m),
    metricsBytes: Buffer.byteLength(text),
    versionSamples: text.split('\n').filter((line) => line.includes('version="')).length,
  };
}

/** The supervisor's memory after a number of swaps, once no generation is draining. */
interface Checkpoint {
  swap: number;
  point: MemoryPoint;
  detail: SupervisorDetail;
}

interface PhaseResult {
  first: MemoryPoint;
  last: MemoryPoint;
  /** Hot-swap phase only: readings after swap 1, every MEMORY_CHECKPOINT_EVERY swaps, and the last. */
  checkpoints?: Checkpoint[];
  /** Calls whose result came from a version other than the one just swapped in. */
  wrongVersion: number;
  durationMs: number;
}

/** Median of five samples 500 ms apart, so that one GC pause does not decide the figure. */
async function measure(pid: number): Promise<MemoryPoint> {
  const samples: MemoryPoint[] = [];
  for (let index = 0; index < 5; index += 1) {
    samples.push(await treeResidentBytes(pid));
    await pause(500);
  }
  return {
    own: median(samples.map((sample) => sample.own)),
    total: median(samples.map((sample) => sample.total)),
    processes: median(samples.map((sample) => sample.processes)),
  };
}

/** Calls `lookup` through a workflow on `taskQueue` and returns the version in its result. */
async function lookupVersion(bench: BenchStack, taskQueue: string): Promise<string> {
  const result = (await bench.client.workflow.execute('callActivity', {
    taskQueue: bench.workflowQueue,
    workflowId: `lookup-${randomUUID()}`,
    args: [{ activity: 'lookup', args: [1], taskQueue, startToCloseTimeoutMs: 10_000 }],
  })) as { version: string };
  return result.version;
}

/**
 * Waits until no generation is draining and a spare exists, then 5 s more for the spare
 * to load the SDK and connect, so that both measurements see it in the same state.
 */
async function settleHotSwapWorker(bench: BenchStack): Promise<void> {
  await waitFor('old generations to exit', async () => {
    const status = await bench.workerStatus();
    return status.draining.length === 0 && status.spare !== null ? true : undefined;
  });
  await pause(5000);
}

async function hotSwapPhase(bench: BenchStack, versions: string[]): Promise<PhaseResult> {
  const started = performance.now();
  const pid = bench.worker.child.pid as number;
  let wrongVersion = 0;
  const checkpoints: Checkpoint[] = [];
  for (const [index, version] of versions.entries()) {
    const { revision } = await bench.deploy.pin(bench.taskQueue, packageName, version);
    await waitFor(`worker to apply revision ${revision}`, async () => {
      const status = await bench.workerStatus();
      const running = status.appliedRevision === revision && status.generation?.state === 'running';
      return running ? true : undefined;
    });
    if ((await lookupVersion(bench, bench.taskQueue)) !== version) wrongVersion += 1;
    const swap = index + 1;
    if (swap === 1 || swap % checkpointEvery === 0 || swap === versions.length) {
      await settleHotSwapWorker(bench);
      const point = await measure(pid);
      checkpoints.push({ swap, point, detail: await readSupervisorDetail(bench, pid) });
      console.error(`hot swap ${swap}/${versions.length}: supervisor ${mebibytes(point.own)} MiB`);
    }
  }
  return {
    first: (checkpoints[0] as Checkpoint).point,
    last: (checkpoints.at(-1) as Checkpoint).point,
    checkpoints,
    wrongVersion,
    durationMs: performance.now() - started,
  };
}

/** Sends a message to the baseline process and waits for the response of `type`. */
function request(child: ChildProcess, message: unknown, type: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (response: { type: string; message?: string }) => {
      if (response.type === 'failed') reject(new Error(response.message));
      if (response.type !== type && response.type !== 'failed') return;
      child.off('message', onMessage);
      resolve();
    };
    child.on('message', onMessage);
    if (message !== undefined) child.send(message as object);
  });
}

async function reloadPhase(
  bench: BenchStack,
  versions: string[],
  source: ModuleSource,
): Promise<PhaseResult> {
  const started = performance.now();
  const taskQueue = `bench-reload-${randomUUID().slice(0, 8)}`;
  const moduleFile = path.join(bench.dataDir, 'reload', 'activities.mjs');
  await mkdir(path.dirname(moduleFile), { recursive: true });
  const child = fork(reloadWorkerMain, [], {
    env: { ...process.env, TEMPORAL_ADDRESS: bench.temporalAddress, TASK_QUEUE: taskQueue },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await request(child, undefined, 'running');
    const pid = child.pid as number;
    let wrongVersion = 0;
    let first: MemoryPoint | undefined;
    for (const [index, version] of versions.entries()) {
      // Hot reload tools watch the file, so each version replaces the previous one in place.
      await writeFile(moduleFile, source(version));
      await request(child, { type: 'load', url: pathToFileURL(moduleFile).href }, 'loaded');
      if ((await lookupVersion(bench, taskQueue)) !== version) wrongVersion += 1;
      if (index === 0) {
        await pause(3000);
        first = await measure(pid);
      }
      if ((index + 1) % 50 === 0) console.error(`reload ${index + 1}/${versions.length}`);
    }
    await pause(3000);
    const last = await measure(pid);
    return {
      first: first as MemoryPoint,
      last,
      wrongVersion,
      durationMs: performance.now() - started,
    };
  } finally {
    child.send({ type: 'shutdown' });
    await exited;
  }
}

function kibibytes(bytes: number): string {
  return (bytes / 1024).toFixed(0);
}

function resultRow(name: string, result: PhaseResult): Array<string | number> {
  const { first, last } = result;
  const totalChange = ((last.total - first.total) / first.total) * 100;
  return [
    name,
    mebibytes(first.own),
    mebibytes(first.total),
    first.processes,
    mebibytes(last.own),
    mebibytes(last.total),
    last.processes,
    mebibytes(last.own - first.own),
    `${totalChange >= 0 ? '+' : ''}${totalChange.toFixed(1)} %`,
    result.wrongVersion,
    (result.durationMs / 1000).toFixed(0),
  ];
}

async function main(): Promise<void> {
  const loadAtStart = loadAverage();
  const bench = await startBenchStack({ name: 'memory' });
  try {
    const source = bundledActivitySource(moduleKilobytes);
    // One more version for the pin that the worker serves before the first swap.
    const versions = patchVersions(swaps + 1);
    console.error(`publishing ${versions.length} versions of ${packageName}`);
    await publishVersions(bench.stack, packageName, versions, source, 'module');
    const { revision } = await bench.deploy.pin(
      bench.taskQueue,
      packageName,
      versions[0] as string,
    );
    await waitFor(`worker to apply revision ${revision}`, async () =>
      (await bench.workerStatus()).appliedRevision === revision ? true : undefined,
    );

    console.error(`hot swap: ${swaps} swaps`);
    const hot = await hotSwapPhase(bench, versions.slice(1));
    console.error(`in-process reload baseline: ${swaps} re-imports`);
    const reload = await reloadPhase(bench, versions.slice(1), source);

    const table = markdownTable(
      [
        'worker',
        'after swap 1: top process MiB',
        'total MiB',
        'processes',
        `after swap ${swaps}: top process MiB`,
        'total MiB',
        'processes',
        'top process growth MiB',
        'total change',
        'wrong version',
        'phase s',
      ],
      [
        resultRow('hot swap (top process: supervisor)', hot),
        resultRow('baseline: re-import with ?v=N in one process', reload),
      ],
    );
    const checkpoints = hot.checkpoints as Checkpoint[];
    const firstCheckpoint = checkpoints[0] as Checkpoint;
    const detailTable = markdownTable(
      [
        'after swap',
        'supervisor RSS MiB',
        'growth since swap 1 MiB',
        'anonymous RSS MiB',
        'V8 heap total MiB',
        'V8 heap used MiB',
        'young generation MiB',
        'external MiB',
        '/metrics KiB',
        '/metrics samples with a version label',
      ],
      checkpoints.map(({ swap, point, detail }) => [
        swap,
        mebibytes(point.own),
        mebibytes(point.own - firstCheckpoint.point.own),
        mebibytes(detail.residentAnonymous),
        mebibytes(detail.heapTotal),
        mebibytes(detail.heapUsed),
        mebibytes(detail.newSpace),
        mebibytes(detail.external),
        kibibytes(detail.metricsBytes),
        detail.versionSamples,
      ]),
    );
    console.log(`${table}\n\n${detailTable}`);
    await writeSection(
      'Memory after many swaps',
      [
        recordHeader(
          `MEMORY_SWAPS=${swaps} MEMORY_MODULE_KB=${moduleKilobytes} MEMORY_CHECKPOINT_EVERY=${checkpointEvery} npm run bench -- memory-after-swaps`,
          loadAtStart,
        ),
        '',
        `Each of the ${swaps} versions of \`${packageName}\` is an ES module of about`,
        `${moduleKilobytes} KiB (a table of strings and a \`lookup\` activity), like a bundled`,
        'activity package. After each swap, one workflow calls `lookup`. "Wrong version" counts',
        'the calls whose result came from another version than the one /status showed as',
        'applied. The hot-swap worker runs with its defaults, so "total" counts the',
        'supervisor, the serving generation and the spare. The supervisor runs with the Node.js',
        `flags that the stack's launcher gives it (\`${supervisorNodeFlags.join(' ')}\`).`,
        'The baseline is one process with one',
        'Temporal Worker whose `lookup` calls the latest module, which it imports with',
        '`import(url + "?v=N")` after the file changed. Memory is the resident set size from',
        '/proc, the median of five samples 500 ms apart, taken once no generation is draining;',
        'the sum counts pages that processes share (such as the node binary) once per process.',
        'Targets: supervisor growth of 5 MiB or less, total within 10 % of its value after swap 1.',
        '',
        table,
        '',
        `The supervisor after swap 1, every ${checkpointEvery} swaps and after the last, each`,
        'reading taken the same way. The heap figures come from its /metrics at the same moment:',
        '',
        detailTable,
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
