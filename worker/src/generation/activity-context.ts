import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { ActivityEntry } from '../ipc.js';
import { activityLogContext, type ActivityLogFields } from './logging.js';
import { asShutdownFailure } from './shutdown-cancellation.js';

/**
 * Labels each activity execution with the package, version and revision that serve it:
 * the SDK's activity logger (`log` from `@temporalio/activity`) gets them through
 * getLogAttributes, and console output through activityLogContext. It also turns a
 * cancellation for worker shutdown into a retryable failure; see asShutdownFailure.
 */
export function activityContextInterceptor(
  entries: readonly ActivityEntry[],
  revision: number,
): ActivityInterceptorsFactory {
  const byName = new Map(entries.map((entry) => [entry.name, entry]));
  return (context) => {
    const { info } = context;
    const entry = byName.get(info.activityType);
    const labels = {
      package: entry?.package ?? 'unknown',
      version: entry?.version ?? 'unknown',
      revision,
    };
    const fields: ActivityLogFields = {
      workflowId: info.workflowExecution?.workflowId,
      activityId: info.activityId,
      activityType: info.activityType,
      attempt: info.attempt,
      ...labels,
    };
    return {
      inbound: {
        async execute(input, next) {
          try {
            return await activityLogContext.run(fields, () => next(input));
          } catch (error) {
            throw asShutdownFailure(context, error);
          }
        },
      },
      outbound: {
        getLogAttributes: (attributes, next) => next({ ...attributes, ...labels }),
      },
    };
  };
}
