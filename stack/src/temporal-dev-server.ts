import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { freePort } from './free-port.js';
import { resolveTemporalCli } from './temporal-cli.js';

export interface DevServerOptions {
  /** gRPC port; 0 picks a free one. @default 0 */
  port?: number;
  /** Web UI port; 0 picks a free one. Ignored when `headless`. @default 0 */
  uiPort?: number;
  /** Run without the web UI. @default false */
  headless?: boolean;
  /** Namespace to create besides `default`. */
  namespace?: string;
  /** SQLite file that keeps workflow history across restarts; in memory when unset. */
  dbFile?: string;
  /** How long to wait for the server to pass health checks, in ms. @default 120000 */
  startTimeoutMs?: number;
  log?: (message: string) => void;
}

export interface RunningDevServer {
  /** `host:port` for `TEMPORAL_ADDRESS`. */
  address: string;
  /** Web UI base URL, or null when headless. */
  uiUrl: string | null;
  stop(): Promise<void>;
}

/**
 * Starts `temporal server start-dev` on loopback and waits until its frontend passes
 * health checks, for up to `startTimeoutMs`: a cold start on a small machine can take
 * longer than the SDK's own short wait for a local server.
 */
export async function startTemporalDevServer(
  options: DevServerOptions = {},
): Promise<RunningDevServer> {
  const log = options.log ?? (() => undefined);
  const cli = await resolveTemporalCli(process.env, log);
  const port = options.port || (await freePort());
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--log-level',
    'warn',
  ];
  let uiUrl: string | null = null;
  if (options.headless) {
    args.push('--headless');
  } else {
    const uiPort = options.uiPort || (await freePort());
    args.push('--ui-port', String(uiPort));
    uiUrl = `http://127.0.0.1:${uiPort}`;
  }
  if (options.namespace && options.namespace !== 'default')
    args.push('--namespace', options.namespace);
  if (options.dbFile) {
    await mkdir(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }

  // A process group of its own, so that a terminal's Ctrl-C does not stop Temporal
  // before the workers that use it have drained; stop() ends it last.
  const child = spawn(cli, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const address = `127.0.0.1:${port}`;
  try {
    await waitForHealthy(address, child, options.startTimeoutMs ?? 120_000, () => stderr);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  log(`Temporal dev server ready at ${address}`);
  return {
    address,
    uiUrl,
    stop: async () => {
      process.off('exit', killOnExit);
      await stopChild(child);
    },
  };
}

/**
 * Polls the frontend at `address` every 250 ms until getSystemInfo succeeds or `timeoutMs`
 * passes. `beforeAttempt` may throw to stop early. Returns the last error, or undefined
 * when the server responded.
 */
async function pollFrontend(
  address: string,
  timeoutMs: number,
  beforeAttempt: () => void = () => undefined,
): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = new Error('no attempt was made');
  while (Date.now() < deadline) {
    beforeAttempt();
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return undefined;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  return lastError;
}

/**
 * Checks that a Temporal frontend responds at `address`, retrying for `timeoutMs`.
 * Rejects with a message that names the address and the last connection error.
 */
export async function checkTemporalServer(address: string, timeoutMs = 10_000): Promise<void> {
  const error = await pollFrontend(address, timeoutMs);
  if (error === undefined) return;
  throw new Error(
    `no Temporal server responds at TEMPORAL_ADDRESS=${address}: ${(error as Error)?.message}`,
  );
}

async function waitForHealthy(
  address: string,
  child: ChildProcess,
  timeoutMs: number,
  stderr: () => string,
): Promise<void> {
  const error = await pollFrontend(address, timeoutMs, () => {
    if (child.exitCode !== null) {
      throw new Error(`temporal server start-dev exited with code ${child.exitCode}: ${stderr()}`);
    }
  });
  if (error === undefined) return;
  throw new Error(
    `Temporal dev server at ${address} was not ready within ${timeoutMs / 1000} s: ` +
      `${(error as Error)?.message}\n${stderr()}`,
  );
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
