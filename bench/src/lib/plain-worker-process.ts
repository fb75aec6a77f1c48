import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const plainWorkerMain = fileURLToPath(new URL('../plain-worker.js', import.meta.url));

export interface PlainWorker {
  child: ChildProcess;
  /** Resolves once its Worker polls. */
  running: Promise<void>;
  stop(): Promise<void>;
}

/** Forks the plain Temporal Worker of `plain-worker.ts` with `modules` registered. */
export function startPlainWorker(options: {
  temporalAddress: string;
  taskQueue: string;
  modules: string[];
}): PlainWorker {
  const child = fork(plainWorkerMain, [], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: options.temporalAddress,
      TASK_QUEUE: options.taskQueue,
      ACTIVITY_MODULES: options.modules.join(path.delimiter),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = new Promise<void>((resolve, reject) => {
    child.on('message', (message: { type: string }) => {
      if (message.type === 'running') resolve();
    });
    void exited.then(() => reject(new Error('plain worker exited before it was running')));
  });
  return {
    child,
    running,
    stop: async () => {
      if (child.connected) child.send({ type: 'shutdown' });
      else child.kill('SIGTERM');
      await exited;
    },
  };
}
