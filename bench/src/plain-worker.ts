// Baseline worker of the throughput and cold-start benchmarks: a plain Temporal Worker
// with its activities imported once at start and registered statically, as a team runs
// one without this product. It sends `running` over IPC once the Worker polls and stops
// on a `shutdown` message.
// Environment: TEMPORAL_ADDRESS, TASK_QUEUE, ACTIVITY_MODULES (module files separated
// by the platform's path delimiter).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';

type Activity = (...args: unknown[]) => Promise<unknown>;

async function importActivities(files: string[]): Promise<Record<string, Activity>> {
  const activities: Record<string, Activity> = {};
  for (const file of files) {
    const namespace = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(namespace)) {
      if (typeof value === 'function') activities[name] = value as Activity;
    }
  }
  return activities;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  const files = (process.env.ACTIVITY_MODULES ?? '').split(path.delimiter).filter(Boolean);
  const activities = await importActivities(files);
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    taskQueue: process.env.TASK_QUEUE ?? 'bench-plain',
    activities,
  });
  process.on('message', (message: { type: string }) => {
    if (message.type === 'shutdown') worker.shutdown();
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
