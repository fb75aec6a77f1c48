// Cancels running activities at once when the worker process stops, through the SDK's own
// cancellation path, so that activity code receives the same CancelledFailure('WORKER_SHUTDOWN')
// that the SDK delivers when the shutdown grace period ends, only earlier.
//
// The SDK (1.24) cancels activities on shutdown only after `shutdownGraceTime`, and that
// time is fixed when the Worker is created. A generation cannot know then whether it will
// be retired by a swap, where in-flight activities must finish on their code, or stopped
// with the worker, where they should learn at once so they can heartbeat their progress.
// NOTE: this reaches into the SDK's internal Activity class (`lib/activity.js`), which
// contains the only handle to an execution's cancel function. The worker pins the SDK
// version exactly; recheck this file when upgrading it.
import type { Context } from '@temporalio/activity';
import {
  ActivityCancellationDetails,
  ApplicationFailure,
  CancelledFailure,
} from '@temporalio/common';
import { Activity } from '@temporalio/worker/lib/activity.js';

const running = new Set<Activity>();
/** Contexts of executions that this module cancelled. */
const cancelledForShutdown = new WeakSet<Context>();

/** Makes cancelRunningActivities able to find executions. Call once before the Worker runs. */
export function trackRunningActivities(): void {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the instance
  const run = Activity.prototype.run;
  Activity.prototype.run = async function trackedRun(this: Activity, input) {
    running.add(this);
    try {
      return await run.call(this, input);
    } finally {
      running.delete(this);
    }
  };
}

/** Cancels every running activity with reason WORKER_SHUTDOWN; returns how many. */
export function cancelRunningActivities(): number {
  let cancelled = 0;
  for (const activity of running) {
    if (activity.context.cancellationSignal.aborted) continue;
    cancelledForShutdown.add(activity.context);
    activity.cancel('WORKER_SHUTDOWN', new ActivityCancellationDetails({ workerShutdown: true }));
    cancelled += 1;
  }
  return cancelled;
}

/**
 * Returns the error an activity should end with. An activity that accepts a cancellation
 * from cancelRunningActivities ends as a retryable failure of type `WorkerShutdown`.
 * The SDK's core reports a shutdown cancellation as a failed attempt only when it issued
 * that cancellation itself, and a failed attempt is what lets Temporal retry the activity
 * at once, from its last heartbeat, on another worker.
 */
export function asShutdownFailure(context: Context, error: unknown): unknown {
  if (!cancelledForShutdown.has(context)) return error;
  const isCancellation =
    error instanceof CancelledFailure || (error as Error | undefined)?.name === 'AbortError';
  if (!isCancellation) return error;
  return ApplicationFailure.create({
    message: 'activity cancelled because its worker is shutting down',
    type: 'WorkerShutdown',
    nonRetryable: false,
    cause: error as Error,
  });
}
