import type { FastifyBaseLogger } from 'fastify';
import type { ChangeNotifier } from './change-notifier.js';
import type { TaskQueueState } from './client/types.js';
import type { Store } from './store/store.js';

/**
 * Wakes this process's long-polls when any API process on the same PostgreSQL database
 * commits a revision or moves a rollout. Each message costs one read of the queue's
 * state (`readState`, which includes its rollout). Messages that arrive during a read
 * are folded into one more read. On SQLite nothing is relayed, because the one process that
 * writes also wakes its own long-polls.
 */
export async function relayChanges(
  store: Store,
  notifier: ChangeNotifier,
  readState: (taskQueue: string) => Promise<TaskQueueState>,
  log: FastifyBaseLogger,
): Promise<void> {
  /** Queues with a read in progress, and whether another message came in meanwhile. */
  const reading = new Map<string, boolean>();

  const wake = (taskQueue: string): void => {
    if (reading.has(taskQueue)) {
      reading.set(taskQueue, true);
      return;
    }
    reading.set(taskQueue, false);
    void (async () => {
      try {
        do {
          reading.set(taskQueue, false);
          // Read even without waiters: a long-poll whose own read is still under way
          // starts waiting only later, and then finds this state in the notifier.
          notifier.notify(await readState(taskQueue));
        } while (reading.get(taskQueue));
      } catch (error) {
        // The long-polls time out and read again, so a failed read only delays them.
        log.error({ err: error, taskQueue }, 'reading a changed task queue failed');
      } finally {
        reading.delete(taskQueue);
      }
    })();
  };

  await store.watchChanges(
    (message) => wake(message.taskQueue),
    () => {
      log.info('change messages may have been lost; reading every watched task queue');
      for (const taskQueue of notifier.watchedQueues()) wake(taskQueue);
    },
  );
}
