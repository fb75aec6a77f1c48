#!/usr/bin/env node
// Runs the `greeting` workflow once and prints its result:
//   npm run greet -- Ada
// Connection settings come from the environment, or from .data/local.env when it exists.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { createWorkflowWorker, workflowTaskQueue } from './workflow-worker.js';
import type { greeting } from './workflows.js';

const localEnv = path.resolve(process.env.DATA_DIR ?? '.data', 'local.env');
if (existsSync(localEnv)) process.loadEnvFile(localEnv);

async function main(): Promise<void> {
  const name = process.argv[2] ?? 'World';
  const activityTaskQueue = process.env.TASK_QUEUE;
  if (!activityTaskQueue)
    throw new Error('missing TASK_QUEUE: start the stack with npm start first');
  Runtime.install({ logger: new DefaultLogger('ERROR') });

  const config = loadClientConnectConfig();
  const namespace = config.namespace ?? 'default';
  const workerConnection = await NativeConnection.connect(config.connectionOptions);
  const connection = await Connection.connect(config.connectionOptions);
  const client = new Client({ connection, namespace });
  const worker = await createWorkflowWorker({
    connection: workerConnection,
    namespace,
    taskQueue: workflowTaskQueue(activityTaskQueue),
  });
  const result = await worker.runUntil(
    client.workflow.execute<typeof greeting>('greeting', {
      taskQueue: workflowTaskQueue(activityTaskQueue),
      workflowId: `greeting-${Date.now()}`,
      args: [name, activityTaskQueue],
      workflowExecutionTimeout: '1 minute',
    }),
  );
  console.log(result);
  await connection.close();
  await workerConnection.close();
}

main().catch((error: unknown) => {
  console.error(`greeting failed: ${(error as Error).message}`);
  process.exit(1);
});
