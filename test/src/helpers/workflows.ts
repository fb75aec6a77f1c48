import { randomUUID } from 'node:crypto';
import type { ActivityCall } from '@activity-deploy/examples/workflows';
import { createWorkflowWorker } from '@activity-deploy/examples/workflow-worker';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';

/** A workflow worker for the example workflows, and a client that starts them. */
export interface WorkflowRunner {
  /** Runs `callActivity` and returns the activity's result. */
  call(call: ActivityCall): Promise<unknown>;
  /** Starts `callActivity` and returns its handle without waiting. */
  start(call: ActivityCall): Promise<{ result(): Promise<unknown>; workflowId: string }>;
  client: Client;
  close(): Promise<void>;
}

let runtimeInstalled = false;

export async function startWorkflowRunner(
  address: string,
  namespace = 'default',
): Promise<WorkflowRunner> {
  if (!runtimeInstalled) {
    // Keeps the SDK's routine state-change lines out of the test report.
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const taskQueue = `workflows-${randomUUID().slice(0, 8)}`;
  const nativeConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace });
  const worker: Worker = await createWorkflowWorker({
    connection: nativeConnection,
    namespace,
    taskQueue,
  });
  const running = worker.run();

  const start = async (call: ActivityCall) => {
    const handle = await client.workflow.start('callActivity', {
      taskQueue,
      workflowId: `call-${call.activity}-${randomUUID()}`,
      args: [call],
      workflowExecutionTimeout: '2 minutes',
    });
    return { result: () => handle.result() as Promise<unknown>, workflowId: handle.workflowId };
  };
  return {
    client,
    start,
    call: async (call) => (await start(call)).result(),
    close: async () => {
      worker.shutdown();
      await running;
      await connection.close();
      await nativeConnection.close();
    },
  };
}
