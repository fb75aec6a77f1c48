import { CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { ActivitySample } from '../ipc.js';

/**
 * Reports each activity execution, with its outcome and duration, to `report`. The
 * generation forwards these to the supervisor, which labels them with the package and
 * version that served the call.
 */
export function activityMetricsInterceptor(
  report: (sample: ActivitySample) => void,
): ActivityInterceptorsFactory {
  return (context) => ({
    inbound: {
      async execute(input, next) {
        const started = performance.now();
        const activity = context.info.activityType;
        try {
          const result = await next(input);
          report({ activity, outcome: 'completed', durationMs: performance.now() - started });
          return result;
        } catch (error) {
          const cancelled =
            error instanceof CancelledFailure ||
            (error as Error | undefined)?.name === 'AbortError';
          const outcome = cancelled ? 'cancelled' : 'failed';
          report({ activity, outcome, durationMs: performance.now() - started });
          throw error;
        }
      },
    },
  });
}
