import { fileURLToPath } from 'node:url';
import { type NativeConnection, Worker } from '@temporalio/worker';

export const workflowsPath = fileURLToPath(new URL('./workflows.js', import.meta.url));

/** Returns the task queue of the example workflows, named after the activity task queue. */
export function workflowTaskQueue(activityTaskQueue: string): string {
  return `${activityTaskQueue}-workflows`;
}

/** Creates a workflow-only Worker for the example workflows. It bundles them on creation. */
export async function createWorkflowWorker(options: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
}): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowsPath,
  });
}
