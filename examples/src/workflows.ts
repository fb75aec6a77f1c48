// Example workflows. They run on their own task queue and call activities on the task
// queue that a hot-swap worker serves, by name, so they never import activity code.
import { proxyActivities } from '@temporalio/workflow';

type AnyActivity = (...args: unknown[]) => Promise<unknown>;

/** Greets `name` through the `greet` activity of the @acme/greetings package. */
export async function greeting(name: string, activityTaskQueue: string): Promise<string> {
  const { greet } = proxyActivities<{ greet(name: string): Promise<string> }>({
    taskQueue: activityTaskQueue,
    startToCloseTimeout: '30 seconds',
  });
  return greet(name);
}

export interface ActivityCall {
  activity: string;
  args: unknown[];
  taskQueue: string;
  /** @default 60000 */
  startToCloseTimeoutMs?: number;
  heartbeatTimeoutMs?: number;
  /** 1 makes any failure fail the workflow, so a result proves a first-attempt success. */
  maximumAttempts?: number;
}

/** Calls one activity by name and returns its result. */
export async function callActivity(call: ActivityCall): Promise<unknown> {
  const activities = proxyActivities<Record<string, AnyActivity>>({
    taskQueue: call.taskQueue,
    startToCloseTimeout: call.startToCloseTimeoutMs ?? 60_000,
    ...(call.heartbeatTimeoutMs === undefined ? {} : { heartbeatTimeout: call.heartbeatTimeoutMs }),
    retry: {
      initialInterval: 200,
      ...(call.maximumAttempts === undefined ? {} : { maximumAttempts: call.maximumAttempts }),
    },
  });
  const activity = activities[call.activity] as AnyActivity;
  return activity(...call.args);
}
