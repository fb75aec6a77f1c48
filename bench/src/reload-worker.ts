// Baseline of the memory benchmark: one process with one Temporal Worker that swaps its
// activity code in place, as in-process hot reload does. On each `load` message it
// imports the module again with a new query string, which makes Node evaluate it as a
// new module; the old module instance stays in Node's module map for good.
// Environment: TEMPORAL_ADDRESS, TASK_QUEUE.
import { NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';

type Activity = (...args: unknown[]) => Promise<unknown>;

interface LoadMessage {
  type: 'load';
  /** file: URL of the module, without a query string. */
  url: string;
}

let current: Record<string, unknown> = {};
let loads = 0;

/** Calls the export of the current module that has the activity's name. */
const dispatch =
  (name: string): Activity =>
  (...args) =>
    (current[name] as Activity)(...args);

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    taskQueue: process.env.TASK_QUEUE ?? 'bench-reload',
    activities: { lookup: dispatch('lookup') },
  });
  process.on('message', (message: LoadMessage | { type: 'shutdown' }) => {
    if (message.type === 'shutdown') {
      worker.shutdown();
      return;
    }
    loads += 1;
    import(`${message.url}?v=${loads}`).then(
      (namespace: Record<string, unknown>) => {
        current = namespace;
        process.send?.({ type: 'loaded', loads });
      },
      (error: unknown) => process.send?.({ type: 'failed', message: String(error) }),
    );
  });
  const running = worker.run();
  process.send?.({ type: 'running' });
  await running;
  await connection.close();
  process.disconnect();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
