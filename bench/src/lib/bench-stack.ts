import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { DeployApiClient } from '@activity-deploy/deploy-api/client';
import {
  freePort,
  startStack,
  startTemporalDevServer,
  startWorkerProcess,
  type RunningDevServer,
  type RunningStack,
  type WorkerProcess,
} from '@activity-deploy/stack';
import type { WorkerStatus } from '@activity-deploy/worker';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';

const workflowsPath = fileURLToPath(new URL('../workflows.js', import.meta.url));

/** Every real part a benchmark needs, on loopback, in a temporary data directory. */
export interface BenchStack {
  stack: RunningStack;
  dataDir: string;
  taskQueue: string;
  temporalAddress: string;
  deploy: DeployApiClient;
  client: Client;
  /** Task queue of the workflow worker that runs `callActivity` and `fanOut`. */
  workflowQueue: string;
  /** The worker supervisor that serves `taskQueue`; replaced by `restartWorker`. */
  worker: WorkerProcess;
  workerStatus(): Promise<WorkerStatus>;
  /** Starts another worker supervisor on `taskQueue` with the stack's settings. */
  startWorker(env?: NodeJS.ProcessEnv, dataDir?: string): Promise<WorkerProcess>;
  close(): Promise<void>;
}

let runtimeInstalled = false;

/**
 * Starts a Temporal dev server (unless TEMPORAL_ADDRESS is set), the registry, the deploy
 * API and one worker supervisor through the stack helpers, then a workflow worker for the
 * benchmark workflows and a Temporal client.
 */
export async function startBenchStack(options: {
  name: string;
  workerEnv?: NodeJS.ProcessEnv;
}): Promise<BenchStack> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const temporal: RunningDevServer | null = process.env.TEMPORAL_ADDRESS
    ? null
    : await startTemporalDevServer({ headless: true });
  const temporalAddress = process.env.TEMPORAL_ADDRESS ?? temporal?.address ?? '';
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `bench-${options.name}-`));
  const taskQueue = `bench-${options.name}-${randomUUID().slice(0, 8)}`;
  const workerPort = await freePort();
  const workerEnv: NodeJS.ProcessEnv = {
    WORKER_SHUTDOWN_GRACE_SECONDS: '30',
    WORKER_POLL_WAIT_SECONDS: '30',
    LOG_LEVEL: 'warn',
    ...options.workerEnv,
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
  const workflowWorker = await Worker.create({
    connection: nativeConnection,
    namespace: 'default',
    taskQueue: workflowQueue,
    workflowsPath,
  });
  const workflowsRunning = workflowWorker.run();

  const bench: BenchStack = {
    stack,
    dataDir,
    taskQueue,
    temporalAddress,
    deploy: new DeployApiClient({ url: stack.deployApi.url, token: stack.deployApi.token }),
    client,
    workflowQueue,
    worker: stack.worker,
    async workerStatus() {
      const response = await fetch(new URL('status', bench.worker.url));
      return (await response.json()) as WorkerStatus;
    },
    startWorker: (env = {}, workerDataDir = dataDir) =>
      startWorkerProcess({
        httpPort: workerPort,
        stdio: 'ignore',
        env: {
          ...workerEnv,
          ...env,
          DATA_DIR: workerDataDir,
          TASK_QUEUE: taskQueue,
          DEPLOY_API_URL: stack.deployApi.url,
          DEPLOY_API_TOKEN: stack.deployApi.token,
          REGISTRY_URL: stack.registry.url,
          TEMPORAL_ADDRESS: temporalAddress,
        },
      }),
    async close() {
      await bench.worker.stop();
      workflowWorker.shutdown();
      await workflowsRunning;
      await connection.close();
      await nativeConnection.close();
      await stack.deployApi.close().catch(() => undefined);
      await stack.registry.close().catch(() => undefined);
      await temporal?.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return bench;
}

/** Polls `check` every `intervalMs` until it returns a value other than undefined, or times out. */
export async function waitFor<T>(
  description: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${description}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
