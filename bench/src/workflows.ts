// Workflows of the benchmarks. They run on their own task queue and call activities by
// name on the task queue under test, so the workflow side is the same for every worker.
import { proxyActivities } from '@temporalio/workflow';

export { callActivity } from '@activity-deploy/examples/workflows';

type AnyActivity = (...args: unknown[]) => Promise<unknown>;

export interface FanOutCall {
  activity: string;
  taskQueue: string;
  /** Number of activity calls the workflow starts at once. */
  count: number;
}

/** Calls one activity `count` times in parallel and returns how many calls completed. */
export async function fanOut(call: FanOutCall): Promise<number> {
  const activities = proxyActivities<Record<string, AnyActivity>>({
    taskQueue: call.taskQueue,
    startToCloseTimeout: '30 seconds',
  });
  const activity = activities[call.activity] as AnyActivity;
  const calls = Array.from({ length: call.count }, (_, index) => activity(index));
  await Promise.all(calls);
  return calls.length;
}
