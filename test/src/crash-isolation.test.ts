// Activity code that takes its process down: process.exit, an exception outside any
// promise, and a blocked event loop. Each takes down at most its generation; the
// supervisor keeps serving HTTP, reports the crash, and starts a replacement.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { WorkerStatus } from '@activity-deploy/worker';
import { publish, writePackage } from './helpers/packages.js';
import { startTestStack, waitFor, type TestStack } from './helpers/test-stack.js';
import { startWorkflowRunner, type WorkflowRunner } from './helpers/workflows.js';

describe('crash isolation', () => {
  let stack: TestStack;
  let runner: WorkflowRunner;

  const call = (activity: string, ...args: unknown[]) =>
    runner.call({ activity, args, taskQueue: stack.taskQueue, startToCloseTimeoutMs: 5000 });

  /** Calls an activity that kills its generation and waits for the replacement. */
  const crashAndRecover = async (
    activity: string,
    expectedCode: string,
  ): Promise<{ failed: WorkerStatus; replaced: WorkerStatus }> => {
    const before = await stack.workerStatus();
    const crashed = runner.start({
      activity,
      args: [],
      taskQueue: stack.taskQueue,
      maximumAttempts: 1,
      // Short, so the call on the crashed process times out quickly.
      startToCloseTimeoutMs: 3000,
    });
    const failed = await waitFor(`${expectedCode} reported`, async () => {
      const status = await stack.workerStatus();
      return status.restarts > before.restarts ? status : undefined;
    });
    assert.equal(failed.lastError?.code, expectedCode);
    assert.equal((await fetch(new URL('healthz', stack.worker.url))).status, 200);

    const replaced = await waitFor('replacement generation', async () => {
      const status = await stack.workerStatus();
      const pid = status.generation?.pid;
      return status.state === 'serving' && pid !== before.generation?.pid ? status : undefined;
    });
    assert.equal(await call('ping'), 'pong');
    // The crashed call itself fails: it ran on the process that went away.
    await assert.rejects((await crashed).result());
    return { failed, replaced };
  };

  before(async () => {
    stack = await startTestStack({
      workerEnv: { WORKER_HEALTH_INTERVAL_SECONDS: '0.5', WORKER_HANG_TIMEOUT_SECONDS: '3' },
    });
    runner = await startWorkflowRunner(stack.env.TEMPORAL_ADDRESS as string);
    const dir = await writePackage(
      { name: '@acme/crashy', version: '1.0.0', main: 'index.js' },
      {
        'index.js': [
          'exports.ping = async () => "pong";',
          'exports.exitNow = async () => { process.exit(3); };',
          'exports.throwLater = async () => {',
          "  setTimeout(() => { throw new Error('thrown outside the promise'); }, 10);",
          '  await new Promise((resolve) => setTimeout(resolve, 5000));',
          '};',
          'exports.blockLoop = async () => { const end = Date.now() + 8000; while (Date.now() < end); };',
          '',
        ].join('\n'),
      },
      stack.registry.url,
      stack.registry.publisherToken,
    );
    await publish(dir);
    const pinned = await stack.client.pin(stack.taskQueue, '@acme/crashy', '1.0.0');
    await waitFor('crashy applied', async () =>
      (await stack.workerStatus()).appliedRevision === pinned.revision ? true : undefined,
    );
  });

  after(async () => {
    await runner?.close();
    await stack?.close();
  });

  test('process.exit replaces the generation', async () => {
    const { failed, replaced } = await crashAndRecover('exitNow', 'GENERATION_EXITED');
    assert.equal(replaced.restarts, 1);
    assert.match(failed.lastError?.message ?? '', /exited unexpectedly \(3\)/);
    assert.equal(replaced.lastError, null, 'a successful restart clears lastError');
    assert.equal(replaced.errors[0]?.code, 'GENERATION_EXITED', 'the crash stays in errors');
  });

  test('exception outside a promise replaces the generation', async () => {
    const { replaced } = await crashAndRecover('throwLater', 'GENERATION_EXITED');
    assert.equal(replaced.restarts, 2);
  });

  test('blocked event loop replaces the generation', async () => {
    const { failed, replaced } = await crashAndRecover('blockLoop', 'GENERATION_UNRESPONSIVE');
    assert.equal(replaced.restarts, 3);
    assert.match(failed.lastError?.message ?? '', /did not answer health pings for 3 s/);
    assert.deepEqual(
      replaced.errors.slice(0, 3).map((error) => error.code),
      ['GENERATION_UNRESPONSIVE', 'GENERATION_EXITED', 'GENERATION_EXITED'],
    );
  });

  test('status reports generation memory', async () => {
    const status = await waitFor('a memory sample', async () => {
      const current = await stack.workerStatus();
      return current.generation?.memory ? current : undefined;
    });
    assert.ok((status.generation?.memory?.rss ?? 0) > 10 * 2 ** 20, 'rss above 10 MiB');
    assert.ok((status.generation?.memory?.heapUsed ?? 0) > 0);
  });
});
