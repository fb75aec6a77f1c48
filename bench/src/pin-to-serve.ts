#!/usr/bin/env node
// Measures the time from a pin to the first activity call served by the new version:
// the hot swap against the baseline of stopping the worker process and starting a new
// one, both in the same run on the same machine, on real parts on loopback.
//   npm run bench -- pin-to-serve                20 swaps of each kind, 2 s apart
//   SWAPS=50 npm run bench -- pin-to-serve       more samples
//   PAUSE_MS=0 npm run bench -- pin-to-serve     back-to-back swaps
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { DeployApiClient } from '@activity-deploy/deploy-api/client';
import { createWorkflowWorker } from '@activity-deploy/examples/workflow-worker';
import {
  freePort,
  startStack,
  startTemporalDevServer,
  startWorkerProcess,
  type RunningStack,
  type WorkerProcess,
} from '@activity-deploy/stack';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loadAverage, recordHeader, writeSection } from './lib/report.js';
import { summarize } from './lib/stats.js';

const run = promisify(execFile);
const swaps = Number(process.env.SWAPS ?? 20);
/** Pause before each sample, so that every swap starts from a settled worker. */
const pauseMs = Number(process.env.PAUSE_MS ?? 2000);
const pause = () => new Promise((resolve) => setTimeout(resolve, pauseMs));
const packageName = '@bench/echo';

function summarizeSwaps(samples: number[]) {
  return {
    ...summarize(samples),
    overTenSeconds: samples.filter((sample) => sample > 10_000).length,
  };
}

async function publishVersions(stack: RunningStack, count: number): Promise<string[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-echo-'));
  const host = stack.registry.url.replace(/^https?:/, '');
  await writeFile(
    path.join(dir, '.npmrc'),
    `registry=${stack.registry.url}\n${host}:_authToken=${stack.registry.publisherToken}\n`,
  );
  await writeFile(
    path.join(dir, 'index.js'),
    "const { version } = require('./package.json');\nexports.echo = async () => version;\n",
  );
  const versions: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const version = `1.0.${i}`;
    await writeFile(
      path.join(dir, 'package.json'),
      JSON.stringify({ name: packageName, version, main: 'index.js' }),
    );
    await run('npm', ['publish'], { cwd: dir });
    versions.push(version);
  }
  await rm(dir, { recursive: true, force: true });
  return versions;
}

async function main(): Promise<void> {
  const loadAtStart = loadAverage();
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const temporal = process.env.TEMPORAL_ADDRESS
    ? null
    : await startTemporalDevServer({ headless: true });
  const temporalAddress = process.env.TEMPORAL_ADDRESS ?? temporal?.address ?? '';
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-pin-to-serve-'));
  const taskQueue = 'bench-echo';
  const workerPort = await freePort();
  const workerEnv = {
    WORKER_SHUTDOWN_GRACE_SECONDS: '30',
    WORKER_POLL_WAIT_SECONDS: '30',
    LOG_LEVEL: 'warn',
  };
  const stack = await startStack({
    dataDir,
    taskQueue,
    registryPort: 0,
    deployApiPort: 0,
    workerPort,
    temporalPort: 0,
    temporalUiPort: 0,
    temporalAddress,
    temporalNamespace: 'default',
    proxyNpmjs: false,
    workerEnv,
    workerStdio: 'ignore',
    log: () => undefined,
  });

  const nativeConnection = await NativeConnection.connect({ address: temporalAddress });
  const connection = await Connection.connect({ address: temporalAddress });
  const client = new Client({ connection });
  const workflowQueue = `bench-workflows-${randomUUID().slice(0, 8)}`;
  const workflowWorker = await createWorkflowWorker({
    connection: nativeConnection,
    namespace: 'default',
    taskQueue: workflowQueue,
  });
  const workflowsRunning = workflowWorker.run();
  const echo = async () =>
    (await client.workflow.execute('callActivity', {
      taskQueue: workflowQueue,
      workflowId: `echo-${randomUUID()}`,
      args: [{ activity: 'echo', args: [], taskQueue, startToCloseTimeoutMs: 10_000 }],
    })) as string;
  const untilServed = async (version: string) => {
    for (;;) if ((await echo()) === version) return;
  };

  console.error(`publishing ${2 * swaps + 1} versions of ${packageName}`);
  const versions = await publishVersions(stack, 2 * swaps + 1);
  const api = stack.deployApi;
  const deploy = new DeployApiClient({ url: api.url, token: api.token });

  await deploy.pin(taskQueue, packageName, versions[0] as string);
  await untilServed(versions[0] as string);

  console.error(`hot swap: ${swaps} pins`);
  const hotSwap: number[] = [];
  for (let i = 1; i <= swaps; i += 1) {
    const version = versions[i] as string;
    await pause();
    const started = performance.now();
    await deploy.pin(taskQueue, packageName, version);
    await untilServed(version);
    hotSwap.push(performance.now() - started);
  }

  console.error(`restart baseline: ${swaps} restarts`);
  const restart: number[] = [];
  let worker: WorkerProcess = stack.worker;
  for (let i = swaps + 1; i <= 2 * swaps; i += 1) {
    const version = versions[i] as string;
    await pause();
    const started = performance.now();
    await worker.stop();
    await deploy.pin(taskQueue, packageName, version);
    worker = await startWorkerProcess({
      httpPort: workerPort,
      stdio: 'ignore',
      env: {
        ...workerEnv,
        DATA_DIR: dataDir,
        TASK_QUEUE: taskQueue,
        DEPLOY_API_URL: api.url,
        REGISTRY_URL: stack.registry.url,
        TEMPORAL_ADDRESS: temporalAddress,
      },
    });
    await untilServed(version);
    restart.push(performance.now() - started);
  }
  await worker.stop();

  const hot = summarizeSwaps(hotSwap);
  const base = summarizeSwaps(restart);
  const row = (name: string, s: ReturnType<typeof summarizeSwaps>) =>
    `| ${name} | ${swaps} | ${s.median.toFixed(0)} | ${s.p95.toFixed(0)} | ${s.min.toFixed(0)} | ` +
    `${s.max.toFixed(0)} | ${s.overTenSeconds} |`;
  const table = [
    '| path | samples | median ms | p95 ms | min ms | max ms | over 10 s |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    row('hot swap (pin, next generation, old one drains)', hot),
    row('baseline: stop the worker, pin, start a new worker', base),
  ].join('\n');
  console.log(table);

  await writeSection(
    'Pin to first call served by the new version',
    [
      recordHeader(`SWAPS=${swaps} PAUSE_MS=${pauseMs} npm run bench -- pin-to-serve`, loadAtStart),
      '',
      'Each sample starts at the pin request and ends when a workflow on the same Temporal dev',
      'server first gets the new version from the `echo` activity. The worker fetches the new',
      'tarball from the registry in both paths; calls run one at a time, each through a workflow',
      'with a 10 s start-to-close timeout. A sample above 10 s is a call whose task reached the',
      'old generation as it stopped polling and ran after Temporal retried it (README, Known',
      'limits). The hot swap uses the spare generation, which is started again after each swap.',
      `Each sample starts ${pauseMs} ms after the previous one ended. With PAUSE_MS below about`,
      '1000, a swap may find the next spare still loading the SDK.',
      '',
      table,
    ].join('\n'),
  );

  workflowWorker.shutdown();
  await workflowsRunning;
  await connection.close();
  await nativeConnection.close();
  await stack.deployApi.close();
  await stack.registry.close();
  await temporal?.stop();
  await rm(dataDir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
