// Generations past the age or memory limit are replaced by fresh ones with the same set,
// through the same swap as a new revision, so calls keep succeeding.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { publish, writePackage } from './helpers/packages.js';
import { startTestStack, waitFor, type TestStack } from './helpers/test-stack.js';
import { startWorkflowRunner, type WorkflowRunner } from './helpers/workflows.js';

const files = {
  'index.js': [
    'exports.ping = async () => `pong from ${process.pid}`;',
    'exports.sleepy = async (ms) => {',
    '  await new Promise((resolve) => setTimeout(resolve, ms));',
    '  return `slept in ${process.pid}`;',
    '};',
    '',
  ].join('\n'),
};

async function startRecyclingStack(workerEnv: NodeJS.ProcessEnv) {
  const stack = await startTestStack({
    workerEnv: { WORKER_HEALTH_INTERVAL_SECONDS: '0.5', ...workerEnv },
  });
  const dir = await writePackage(
    { name: '@acme/recycled', version: '1.0.0', main: 'index.js' },
    files,
    stack.registry.url,
    stack.registry.publisherToken,
  );
  await publish(dir);
  const pinned = await stack.client.pin(stack.taskQueue, '@acme/recycled', '1.0.0');
  await waitFor('recycled applied', async () =>
    (await stack.workerStatus()).appliedRevision === pinned.revision ? true : undefined,
  );
  return stack;
}

describe('generation recycling', () => {
  let stack: TestStack;
  let runner: WorkflowRunner;

  before(async () => {
    stack = await startRecyclingStack({ WORKER_GENERATION_MAX_AGE_SECONDS: '2' });
    runner = await startWorkflowRunner(stack.env.TEMPORAL_ADDRESS as string);
  });

  after(async () => {
    await runner?.close();
    await stack?.close();
  });

  test('age limit recycles without failed calls', async () => {
    const first = await stack.workerStatus();
    const slow = await runner.start({
      activity: 'sleepy',
      args: [4000],
      taskQueue: stack.taskQueue,
      maximumAttempts: 1,
    });
    const pids = new Set<string>();
    const deadline = Date.now() + 7000;
    let calls = 0;
    while (Date.now() < deadline) {
      const result = await runner.call({
        activity: 'ping',
        args: [],
        taskQueue: stack.taskQueue,
        // A task that reaches a generation as it stops polling is lost with this
        // Temporal server and retried after this timeout; see GenerationProcess.drain.
        startToCloseTimeoutMs: 2000,
      });
      pids.add(String(result));
      calls += 1;
    }
    const status = await stack.workerStatus();
    assert.ok(status.recycles >= 2, `recycles: ${status.recycles}`);
    assert.equal(status.appliedRevision, first.appliedRevision, 'the revision stays the same');
    assert.ok(pids.size >= 2, `calls were served by ${pids.size} processes`);
    assert.ok(calls >= 5, `${calls} calls succeeded`);
    // The slow call outlived the age limit of the generation it ran on and still finished
    // there, on its only attempt.
    const slept = String(await slow.result());
    assert.match(slept, /^slept in \d+$/);
    assert.notEqual(slept, `slept in ${status.generation?.pid}`);
  });
});

describe('generation memory limit', () => {
  let stack: TestStack;

  before(async () => {
    // Every generation uses more than 1 MiB, so each is recycled once it reports.
    stack = await startRecyclingStack({ WORKER_GENERATION_MAX_RSS_MB: '1' });
  });

  after(async () => {
    await stack?.close();
  });

  test('memory limit recycles the generation', async () => {
    const first = await stack.workerStatus();
    const recycled = await waitFor('a recycle', async () => {
      const status = await stack.workerStatus();
      return status.recycles >= 1 && status.generation?.pid !== first.generation?.pid
        ? status
        : undefined;
    });
    assert.equal(recycled.state, 'serving');
    assert.equal(recycled.lastError, null);
  });
});
