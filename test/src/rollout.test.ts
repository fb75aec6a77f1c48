// Gradual rollouts across four real workers of one task queue. The workers whose hash
// bucket is below the percentage run the candidate, and the others stay on the stable
// revision. Raising the percentage only adds workers. An abort, a candidate that fails to
// import and a candidate whose activities fail all return every worker to stable.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { rolloutBucket } from '@activity-deploy/deploy-api/client';
import { freePort, startWorkerProcess, type WorkerProcess } from '@activity-deploy/stack';
import type { WorkerStatus } from '@activity-deploy/worker';
import { publishGenerated } from './helpers/packages.js';
import { startTestStack, waitFor, type TestStack } from './helpers/test-stack.js';
import { startWorkflowRunner, type WorkflowRunner } from './helpers/workflows.js';

const taskQueue = `rollout-${randomBytes(3).toString('hex')}`;
const packageName = '@acme/greeter';

/** Finds a worker id whose bucket on the test's queue lies in [low, high). */
function workerId(low: number, high: number, taken: string[]): string {
  for (let index = 0; index < 100_000; index += 1) {
    const id = `worker-${index}`;
    const bucket = rolloutBucket(taskQueue, id);
    if (bucket >= low && bucket < high && !taken.includes(id)) return id;
  }
  throw new Error(`no worker id with a bucket from ${low} to ${high}`);
}

// One worker in the first 10 %, one between 10 % and 50 %, two above 50 %.
const ids: string[] = [];
ids.push(workerId(0, 10, ids));
ids.push(workerId(10, 50, ids));
ids.push(workerId(50, 100, ids));
ids.push(workerId(50, 100, ids));
const [first, second, third, fourth] = ids as [string, string, string, string];

const workerEnv = {
  WORKER_REPORT_INTERVAL_SECONDS: '1',
  WORKER_SPARE_GENERATION: 'false',
  WORKER_SHUTDOWN_GRACE_SECONDS: '5',
  WORKER_RETRY_MAX_SECONDS: '2',
};

describe('rollout across workers', () => {
  let stack: TestStack;
  let runner: WorkflowRunner;
  const extra: WorkerProcess[] = [];
  const urls = new Map<string, string>();

  const status = async (id: string): Promise<WorkerStatus> => {
    const response = await fetch(new URL('status', urls.get(id)));
    return (await response.json()) as WorkerStatus;
  };

  /** Waits until every worker has applied the revision that `expected` names for it. */
  const waitForRevisions = (expected: Record<string, number>, timeoutMs = 90_000) =>
    waitFor(
      `revisions ${JSON.stringify(expected)}`,
      async () => {
        const statuses: Record<string, WorkerStatus> = {};
        for (const [id, revision] of Object.entries(expected)) {
          const current = await status(id);
          if (current.appliedRevision !== revision) return undefined;
          statuses[id] = current;
        }
        return statuses;
      },
      timeoutMs,
    );

  const publish = (version: string, source: string) =>
    publishGenerated(
      stack.registry.url,
      stack.registry.publisherToken,
      { name: packageName, version, main: 'index.js' },
      { 'index.js': source },
    );

  const waitForEnd = (candidate: number) =>
    waitFor(
      `rollout of revision ${candidate} to end`,
      async () => {
        const rollout = await stack.client.getRollout(taskQueue);
        return rollout.candidateRevision === candidate && rollout.endedAt !== null
          ? rollout
          : undefined;
      },
      90_000,
    );

  before(async () => {
    stack = await startTestStack({ taskQueue, workerEnv: { ...workerEnv, WORKER_ID: first } });
    urls.set(first, stack.worker.url);
    for (const id of [second, third, fourth]) {
      const dataDir = path.join(stack.dataDir, id);
      await mkdir(dataDir, { recursive: true });
      const worker = await startWorkerProcess({
        httpPort: await freePort(),
        stdio: openSync(path.join(stack.dataDir, `${id}.log`), 'a'),
        env: {
          ...workerEnv,
          DATA_DIR: dataDir,
          TASK_QUEUE: taskQueue,
          WORKER_ID: id,
          DEPLOY_API_URL: stack.deployApi.url,
          DEPLOY_API_TOKEN: stack.deployApi.token,
          REGISTRY_URL: stack.registry.url,
          TEMPORAL_ADDRESS: stack.env.TEMPORAL_ADDRESS,
          WORKER_POLL_WAIT_SECONDS: '20',
          WORKER_HEALTH_INTERVAL_SECONDS: '1',
        },
      });
      extra.push(worker);
      urls.set(id, worker.url);
    }
    runner = await startWorkflowRunner(stack.env.TEMPORAL_ADDRESS as string);
    const words: Array<[version: string, word: string]> = [
      ['1.0.0', 'one'],
      ['2.0.0', 'two'],
      ['3.0.0', 'three'],
    ];
    for (const [version, word] of words) {
      await publish(version, `exports.greet = async (name) => '${word} ' + name;\n`);
    }
    await publish('4.0.0', "throw new Error('missing GREETER_URL');\n");
    await publish(
      '5.0.0',
      "exports.greet = async () => { throw new Error('greeter 5 broke'); };\n",
    );
  });

  after(async () => {
    await runner?.close();
    for (const worker of extra) await worker.stop();
    await stack?.close();
  });

  test('raising the percentage only adds workers', async () => {
    await stack.client.pin(taskQueue, packageName, '1.0.0');
    await waitForRevisions({ [first]: 1, [second]: 1, [third]: 1, [fourth]: 1 });

    const started = await stack.client.pin(taskQueue, packageName, '2.0.0', {
      rollout: { steps: [{ percent: 10 }, { percent: 50 }] },
    });
    assert.equal(started.revision, 2);
    const atTen = await waitForRevisions({ [first]: 2, [second]: 1, [third]: 1, [fourth]: 1 });
    assert.equal(atTen[first]?.rollout?.onCandidate, true);
    assert.equal(atTen[second]?.rollout?.onCandidate, false);
    assert.equal(atTen[first]?.packages[0]?.version, '2.0.0');
    assert.equal(atTen[third]?.packages[0]?.version, '1.0.0');
    const { workers } = await stack.client.workers(taskQueue);
    for (const worker of workers) {
      assert.equal(worker.targetRevision, worker.workerId === first ? 2 : 1, worker.workerId);
    }

    await stack.client.rolloutAction(taskQueue, 'resume');
    const atFifty = await waitForRevisions({ [first]: 2, [second]: 2, [third]: 1, [fourth]: 1 });
    // The worker that was already in stays on the same generation process.
    assert.equal(atFifty[first]?.generation?.pid, atTen[first]?.generation?.pid);
    assert.equal(atFifty[third]?.generation?.pid, atTen[third]?.generation?.pid);
    assert.equal(atFifty[second]?.packages[0]?.version, '2.0.0');

    const promoted = await stack.client.rolloutAction(taskQueue, 'promote');
    assert.equal(promoted.status, 'promoted');
    const all = await waitForRevisions({ [first]: 2, [second]: 2, [third]: 2, [fourth]: 2 });
    assert.equal(all[fourth]?.rollout, null);
    const greeting = await runner.call({ activity: 'greet', args: ['Ada'], taskQueue });
    assert.equal(greeting, 'two Ada');
  });

  test('abort returns every worker to stable', async () => {
    const started = await stack.client.pin(taskQueue, packageName, '3.0.0', {
      rollout: { steps: [{ percent: 50 }] },
    });
    const candidate = started.revision;
    const during = await waitForRevisions({
      [first]: candidate,
      [second]: candidate,
      [third]: candidate - 1,
      [fourth]: candidate - 1,
    });
    const aborted = await stack.client.rolloutAction(taskQueue, 'abort', 'greets too loudly');
    assert.equal(aborted.status, 'aborted');
    const rollback = candidate + 1;
    const afterAbort = await waitForRevisions({
      [first]: rollback,
      [second]: rollback,
      [third]: rollback,
      [fourth]: rollback,
    });
    for (const id of ids) assert.equal(afterAbort[id]?.packages[0]?.version, '2.0.0', id);
    // The stable workers already ran these packages, so they kept their process.
    assert.equal(afterAbort[third]?.generation?.pid, during[third]?.generation?.pid);
    assert.equal(afterAbort[fourth]?.generation?.pid, during[fourth]?.generation?.pid);
    assert.notEqual(afterAbort[first]?.generation?.pid, during[first]?.generation?.pid);
    const [latest] = (await stack.client.revisions(taskQueue, 1)).revisions;
    assert.equal(latest?.action, 'rollback');
    assert.equal(latest?.rollbackTo, candidate - 1);
    assert.match(latest?.reason ?? '', /greets too loudly/);
  });

  test('import failure aborts the rollout', async () => {
    const started = await stack.client.pin(taskQueue, packageName, '4.0.0', {
      rollout: { steps: [{ percent: 50, pauseSeconds: 600 }] },
    });
    const candidate = started.revision;
    const ended = await waitForEnd(candidate);
    assert.equal(ended.status, 'aborted');
    assert.equal(ended.endedBy, 'auto-abort');
    assert.match(
      ended.endReason ?? '',
      new RegExp(`^worker (${first}|${second}) could not serve candidate revision ${candidate}`),
    );
    assert.match(ended.endReason ?? '', /@acme\/greeter@4\.0\.0\): IMPORT_FAILED: .*GREETER_URL/);
    const [latest] = (await stack.client.revisions(taskQueue, 1)).revisions;
    assert.equal(latest?.actor, 'auto-abort');
    assert.equal(latest?.revision, candidate + 1);
    const back = await waitForRevisions({
      [first]: candidate + 1,
      [second]: candidate + 1,
      [third]: candidate + 1,
      [fourth]: candidate + 1,
    });
    for (const id of ids) assert.equal(back[id]?.packages[0]?.version, '2.0.0', id);
    for (const id of ids) assert.equal(back[id]?.lastError, null, id);
  });

  test('failing activities abort the rollout', async () => {
    const started = await stack.client.pin(taskQueue, packageName, '5.0.0', {
      rollout: { steps: [{ percent: 50 }], minCalls: 4, maxFailureRatio: 2 },
    });
    const candidate = started.revision;
    await waitForRevisions({
      [first]: candidate,
      [second]: candidate,
      [third]: candidate - 1,
      [fourth]: candidate - 1,
    });
    const outcomes = { completed: 0, failed: 0 };
    for (let batch = 0; batch < 20; batch += 1) {
      const rollout = await stack.client.getRollout(taskQueue);
      if (rollout.endedAt !== null) break;
      const calls = Array.from({ length: 4 }, () =>
        runner
          .call({
            activity: 'greet',
            args: ['Ada'],
            taskQueue,
            maximumAttempts: 1,
            startToCloseTimeoutMs: 10_000,
          })
          .then(
            () => (outcomes.completed += 1),
            () => (outcomes.failed += 1),
          ),
      );
      await Promise.all(calls);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const ended = await waitForEnd(candidate);
    assert.ok(outcomes.failed >= 4, `calls: ${JSON.stringify(outcomes)}`);
    assert.equal(ended.status, 'aborted');
    assert.equal(ended.endedBy, 'auto-abort');
    assert.match(ended.endReason ?? '', /failed \d+ of \d+ activity calls/);
    assert.match(ended.endReason ?? '', /above 2 times the failure rate of stable revision/);
    await waitForRevisions({
      [first]: candidate + 1,
      [second]: candidate + 1,
      [third]: candidate + 1,
      [fourth]: candidate + 1,
    });
    assert.equal(await runner.call({ activity: 'greet', args: ['Ada'], taskQueue }), 'two Ada');
  });
});
