import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { supervisorNodeFlags } from '@activity-deploy/worker/node-flags.js';

export interface WorkerProcessOptions {
  /** Environment of the worker: TASK_QUEUE, DEPLOY_API_URL, REGISTRY_URL, TEMPORAL_ADDRESS, … */
  env: NodeJS.ProcessEnv;
  /** Port of the worker's HTTP server; must be set, so the caller knows where to probe. */
  httpPort: number;
  /** Destination of the worker's stdout and stderr: inherited, dropped, or a file descriptor. @default 'inherit' */
  stdio?: 'inherit' | 'ignore' | number;
  startTimeoutMs?: number;
}

export interface WorkerProcess {
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<number | string>;
  /** Sends one SIGTERM and waits for the worker to drain and exit. */
  stop(): Promise<number | string>;
}

const workerMain = createRequire(import.meta.url).resolve('@activity-deploy/worker/main.js');

/** Starts a worker supervisor as a child process and waits until its HTTP server responds. */
export async function startWorkerProcess(options: WorkerProcessOptions): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [...supervisorNodeFlags, workerMain], {
    env: { ...process.env, ...options.env, WORKER_HTTP_PORT: String(options.httpPort) },
    stdio: ['ignore', options.stdio ?? 'inherit', options.stdio ?? 'inherit'],
    // Its own process group: a terminal's Ctrl-C must not send a second signal, which
    // would end in-flight activities instead of draining them.
    detached: true,
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));

  const url = `http://127.0.0.1:${options.httpPort}/`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`worker exited with code ${child.exitCode} during start`);
    try {
      const response = await fetch(new URL('healthz', url));
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`worker did not respond on ${url}healthz within the start timeout`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    child,
    exited,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
