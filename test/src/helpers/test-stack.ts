import { execFile } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DeployApiClient } from '@activity-deploy/deploy-api/client';
import { freePort, startStack, testDatabaseEnv, type RunningStack } from '@activity-deploy/stack';
import type { WorkerStatus } from '@activity-deploy/worker';

const run = promisify(execFile);

export interface TestStack extends RunningStack {
  dataDir: string;
  taskQueue: string;
  client: DeployApiClient;
  /** Database settings of the deploy API, for a test that starts it again. */
  databaseEnv: { DEPLOY_API_DATABASE_URL?: string };
  /** Worker log file, for reading after a failure. */
  workerLog: string;
  workerStatus(): Promise<WorkerStatus>;
  /** Stops every part and deletes the data directory unless KEEP_TEST_DATA is set. */
  close(): Promise<void>;
}

/**
 * Starts the registry, deploy API and a worker on free loopback ports in a new temporary
 * data directory, against the Temporal server in TEMPORAL_ADDRESS. The test runner
 * (scripts/run-tests.js) starts one dev server for the whole run and sets it.
 */
export async function startTestStack(
  options: {
    workerEnv?: NodeJS.ProcessEnv;
    deployApiEnv?: NodeJS.ProcessEnv;
    taskQueue?: string;
  } = {},
): Promise<TestStack> {
  const temporalAddress = process.env.TEMPORAL_ADDRESS;
  if (!temporalAddress) {
    throw new Error(
      'TEMPORAL_ADDRESS is not set: run the tests with npm test, which starts a dev server',
    );
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'activity-deploy-test-'));
  const taskQueue = options.taskQueue ?? `test-${path.basename(dataDir).slice(-6)}`;
  const workerLog = path.join(dataDir, 'worker.log');
  const databaseEnv = await testDatabaseEnv();
  const logFd = openSync(workerLog, 'a');
  const stack = await startStack({
    dataDir,
    taskQueue,
    registryPort: 0,
    deployApiPort: 0,
    workerPort: await freePort(),
    temporalPort: 0,
    temporalUiPort: 0,
    temporalAddress,
    temporalNamespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    proxyNpmjs: false,
    workerEnv: {
      WORKER_SHUTDOWN_GRACE_SECONDS: '60',
      WORKER_POLL_WAIT_SECONDS: '20',
      WORKER_RETRY_MAX_SECONDS: '2',
      WORKER_HEALTH_INTERVAL_SECONDS: '1',
      LOG_LEVEL: 'info',
      ...options.workerEnv,
    },
    workerStdio: logFd,
    deployApiEnv: { ...databaseEnv, ...options.deployApiEnv },
    log: () => undefined,
  });
  closeSync(logFd);
  const client = new DeployApiClient({ url: stack.deployApi.url, token: stack.deployApi.token });
  return {
    ...stack,
    dataDir,
    taskQueue,
    databaseEnv,
    client,
    workerLog,
    workerStatus: async () => {
      const response = await fetch(new URL('status', stack.worker.url));
      return (await response.json()) as WorkerStatus;
    },
    close: async () => {
      await stack.stop();
      if (!process.env.KEEP_TEST_DATA) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` every 100 ms until it returns a value other than undefined, or times out. */
export async function waitFor<T>(
  description: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${description}` +
          (lastError ? `: ${(lastError as Error).message}` : ''),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Runs npm in `cwd` and returns its output; rejects with npm's stderr on a non-zero exit. */
export async function npm(
  cwd: string,
  args: string[],
): Promise<{ stdout: string; stderr: string }> {
  return run('npm', args, { cwd, env: { ...process.env, npm_config_update_notifier: 'false' } });
}

/** Returns the value of the sample of `name` whose labels include `labels`, or NaN. */
export function metricValue(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = match[2] ?? '';
    const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
    if (wanted.every((pair) => present.split(',').includes(pair))) return Number(match[3]);
  }
  return Number.NaN;
}
