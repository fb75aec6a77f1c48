// SIGTERM stops a worker: running activities are cancelled at once with WORKER_SHUTDOWN,
// can heartbeat their progress, and the worker exits 0 once they have ended. A second
// SIGTERM ends them at once and the worker exits non-zero.
import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, startWorkerProcess, type WorkerProcess } from '@activity-deploy/stack';
import { publish, writePackage } from './helpers/packages.js';
import { startTestStack, waitFor, type TestStack } from './helpers/test-stack.js';
import { startWorkflowRunner, type WorkflowRunner } from './helpers/workflows.js';

// Counts to `steps` with a heartbeat every 100 ms, resuming from the last heartbeat on a
// retry. On cancellation it notes the reason, heartbeats, works on for `afterCancelMs`,
// and ends with the cancellation. Every event goes to `file` as one JSON line.
const progressSource = `
const { Context, sleep } = require('@temporalio/activity');
const { appendFileSync } = require('node:fs');
exports.progress = async (file, steps, afterCancelMs) => {
  const context = Context.current();
  let step = context.info.heartbeatDetails ?? 0;
  const note = (event, extra) =>
    appendFileSync(file, JSON.stringify({ event, step, attempt: context.info.attempt,
      pid: process.pid, at: Date.now(), ...extra }) + '\\n');
  note('started');
  try {
    for (; step < steps; step += 1) {
      context.heartbeat(step);
      await sleep(100);
    }
  } catch (error) {
    note('cancelled', { message: error.message,
      workerShutdown: context.cancellationDetails?.workerShutdown ?? null });
    context.heartbeat(step);
    await new Promise((resolve) => setTimeout(resolve, afterCancelMs));
    note('ended');
    throw error;
  }
  note('completed');
  return step;
};
`;

interface ProgressEvent {
  event: string;
  step: number;
  attempt: number;
  pid: number;
  at: number;
  message?: string;
  workerShutdown?: boolean | null;
}

async function readEvents(file: string): Promise<ProgressEvent[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ProgressEvent);
}

describe('worker shutdown', () => {
  let stack: TestStack;
  let runner: WorkflowRunner;
  let scratch: string;
  let eventsFile: string;
  const extraWorkers: WorkerProcess[] = [];

  /** Starts one more worker on the stack's task queue, which applies the same pin. */
  const startWorker = async (name: string, env: NodeJS.ProcessEnv) => {
    const log = openSync(path.join(stack.dataDir, `${name}.log`), 'a');
    const worker = await startWorkerProcess({
      httpPort: await freePort(),
      stdio: log,
      env: {
        DATA_DIR: stack.dataDir,
        TASK_QUEUE: stack.taskQueue,
        DEPLOY_API_URL: stack.deployApi.url,
        DEPLOY_API_TOKEN: stack.deployApi.token,
        REGISTRY_URL: stack.registry.url,
        TEMPORAL_ADDRESS: stack.env.TEMPORAL_ADDRESS,
        LOG_LEVEL: 'info',
        ...env,
      },
    });
    closeSync(log);
    extraWorkers.push(worker);
    return worker;
  };

  const waitForEvent = (event: string, attempt: number) =>
    waitFor(`${event} on attempt ${attempt}`, async () => {
      const events = await readEvents(eventsFile);
      return events.find((entry) => entry.event === event && entry.attempt === attempt);
    });

  before(async () => {
    stack = await startTestStack();
    runner = await startWorkflowRunner(stack.env.TEMPORAL_ADDRESS as string);
    scratch = await mkdtemp(path.join(os.tmpdir(), 'worker-shutdown-'));
    eventsFile = path.join(scratch, 'events.jsonl');
    const dir = await writePackage(
      { name: '@acme/progress', version: '1.0.0', main: 'index.js' },
      { 'index.js': progressSource },
      stack.registry.url,
      stack.registry.publisherToken,
    );
    await publish(dir);
    const pinned = await stack.client.pin(stack.taskQueue, '@acme/progress', '1.0.0');
    await waitFor('progress applied', async () =>
      (await stack.workerStatus()).appliedRevision === pinned.revision ? true : undefined,
    );
  });

  after(async () => {
    for (const worker of extraWorkers) worker.child.kill('SIGKILL');
    await runner?.close();
    await stack?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  test('SIGTERM cancels and exits 0 after the activity', async () => {
    await runner.start({
      activity: 'progress',
      args: [eventsFile, 100_000, 1500],
      taskQueue: stack.taskQueue,
      maximumAttempts: 3,
      heartbeatTimeoutMs: 60_000,
    });
    await waitForEvent('started', 1);
    // Let a few heartbeats through, so the cancellation interrupts real progress.
    await new Promise((resolve) => setTimeout(resolve, 500));

    const signalledAt = Date.now();
    stack.worker.child.kill('SIGTERM');
    const code = await stack.worker.exited;
    const exitedAt = Date.now();

    assert.equal(code, 0);
    const events = await readEvents(eventsFile);
    const cancelled = events.find((entry) => entry.event === 'cancelled');
    const ended = events.find((entry) => entry.event === 'ended');
    assert.ok(cancelled, 'the activity saw a cancellation');
    assert.equal(cancelled.message, 'WORKER_SHUTDOWN');
    assert.equal(cancelled.workerShutdown, true);
    assert.ok(cancelled.at - signalledAt < 1000, 'the cancellation came at once');
    assert.ok(cancelled.step > 0, 'the activity had made progress');
    assert.ok(ended, 'the activity ended');
    assert.ok(ended.at - cancelled.at >= 1400, 'the activity kept its time after cancellation');
    assert.ok(exitedAt >= ended.at, 'the worker exited after the activity ended');
  });

  test('second SIGTERM exits non-zero', async () => {
    const secondWorker = await startWorker('second-worker', {
      WORKER_SHUTDOWN_GRACE_SECONDS: '60',
    });
    // Temporal retries the attempt that the first worker's shutdown failed, here.
    const resumed = await waitForEvent('started', 2);
    const first = (await readEvents(eventsFile)).find((entry) => entry.event === 'cancelled');
    assert.equal(resumed.step, first?.step, 'the retry resumed from the last heartbeat');

    secondWorker.child.kill('SIGTERM');
    await waitForEvent('cancelled', 2);
    secondWorker.child.kill('SIGTERM');
    const code = await secondWorker.exited;
    assert.notEqual(code, 0);
    const events = await readEvents(eventsFile);
    assert.ok(
      !events.some((entry) => entry.event === 'ended' && entry.attempt === 2),
      'the second signal ended the activity before it finished',
    );
  });

  test('force period ends the activity and exits non-zero', async () => {
    // The attempt that the second worker lost waits for its heartbeat timeout, so this
    // test uses a workflow of its own.
    const file = path.join(scratch, 'force.jsonl');
    const worker = await startWorker('third-worker', {
      WORKER_SHUTDOWN_GRACE_SECONDS: '0',
      WORKER_SHUTDOWN_FORCE_SECONDS: '1',
    });
    await runner.start({
      activity: 'progress',
      args: [file, 100_000, 10_000],
      taskQueue: stack.taskQueue,
      maximumAttempts: 1,
    });
    await waitFor('the activity to start', async () =>
      (await readEvents(file)).find((entry) => entry.event === 'started'),
    );
    const signalledAt = Date.now();
    worker.child.kill('SIGTERM');
    const code = await worker.exited;
    const tookMs = Date.now() - signalledAt;
    assert.notEqual(code, 0);
    assert.ok(tookMs >= 900, `exited after ${tookMs} ms, before the force period ended`);
    assert.ok(tookMs < 9000, `exited after ${tookMs} ms, not at the end of the force period`);
    const events = await readEvents(file);
    assert.ok(events.some((entry) => entry.event === 'cancelled'));
    assert.ok(!events.some((entry) => entry.event === 'ended'));
  });
});
