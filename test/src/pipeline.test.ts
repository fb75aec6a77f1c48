// The product's main path on real parts: npm publish to Verdaccio, pin through the
// deploy API, a worker hot-swapping its generation on the Temporal dev server, rollback.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { copyTemplate, publish, setVersion } from './helpers/packages.js';
import { metricValue, npm, startTestStack, waitFor, type TestStack } from './helpers/test-stack.js';
import { startWorkflowRunner, type WorkflowRunner } from './helpers/workflows.js';

const packageName = '@acme/greetings';

describe('publish, pin, hot-swap and roll back', () => {
  let stack: TestStack;
  let runner: WorkflowRunner;
  let templateDir: string;

  const greet = (name: string) =>
    runner.call({
      activity: 'greet',
      args: [name],
      taskQueue: stack.taskQueue,
      // Short, so that a task lost while a generation stops polling is retried soon;
      // see GenerationProcess.drain.
      startToCloseTimeoutMs: 5000,
    });

  before(async () => {
    stack = await startTestStack({
      workerEnv: { WORKER_REPORT_INTERVAL_SECONDS: '0.5' },
      deployApiEnv: { DEPLOY_API_WORKER_STALE_SECONDS: '2' },
    });
    runner = await startWorkflowRunner(stack.env.TEMPORAL_ADDRESS as string);
    templateDir = await copyTemplate(stack.registry.url, stack.registry.publisherToken);
  });

  after(async () => {
    await runner?.close();
    await stack?.close();
  });

  test('published 1.0.0 serves its result after a pin', async () => {
    await setVersion(templateDir, '1.0.0');
    await publish(templateDir);
    const pinned = await stack.client.pin(stack.taskQueue, packageName, '1.0.0', 'first release');
    assert.equal(pinned.revision, 1);
    assert.equal(pinned.packages[0]?.version, '1.0.0');
    assert.match(pinned.packages[0]?.integrity ?? '', /^sha512-/);

    await waitFor('revision 1 applied', async () =>
      (await stack.workerStatus()).appliedRevision === 1 ? true : undefined,
    );
    assert.equal(await greet('Ada'), 'Hello, Ada! (@acme/greetings@1.0.0)');

    const status = await stack.workerStatus();
    assert.deepEqual(
      status.activities.map((entry) => `${entry.name} ${entry.package}@${entry.version}`).sort(),
      ['greet @acme/greetings@1.0.0', 'greetSlowly @acme/greetings@1.0.0'],
    );
    assert.equal(typeof status.generation?.pid, 'number');
  });

  test('registry rejects republishing 1.0.0', async () => {
    await assert.rejects(publish(templateDir), (error: Error & { stderr?: string }) => {
      assert.match(error.stderr ?? '', /409|cannot publish over|already present/i);
      return true;
    });
  });

  test('activity in flight across a swap finishes on the old version', async (t) => {
    await setVersion(templateDir, '1.1.0');
    await publish(templateDir);
    const before = await stack.workerStatus();

    const slow = await runner.start({
      activity: 'greetSlowly',
      args: ['Grace', 6],
      taskQueue: stack.taskQueue,
      heartbeatTimeoutMs: 3000,
      maximumAttempts: 1,
    });
    // Wait until the activity runs on the 1.0.0 generation before pinning 1.1.0.
    await waitFor('slow activity running', async () => {
      const description = await runner.client.workflow.getHandle(slow.workflowId).describe();
      const raw = description.raw.pendingActivities ?? [];
      return raw.some((activity) => activity.lastStartedTime) ? true : undefined;
    });

    const pinnedAt = Date.now();
    const pinned = await stack.client.pin(stack.taskQueue, packageName, '^1.1.0', 'next release');
    assert.equal(pinned.packages[0]?.version, '1.1.0');
    const result = await waitFor(
      'a greeting from 1.1.0',
      async () => {
        const greeting = await greet('Ada');
        return greeting === 'Hello, Ada! (@acme/greetings@1.1.0)' ? greeting : undefined;
      },
      10_000,
    );
    t.diagnostic(`pin to first 1.1.0 result: ${Date.now() - pinnedAt} ms`);
    assert.equal(result, 'Hello, Ada! (@acme/greetings@1.1.0)');

    const during = await stack.workerStatus();
    assert.equal(during.appliedRevision, 2);
    assert.notEqual(during.generation?.pid, before.generation?.pid);
    assert.equal(typeof before.spare?.pid, 'number', 'a spare generation waits before the swap');
    assert.equal(during.generation?.pid, before.spare?.pid, 'the swap loads the spare');
    assert.ok(
      during.draining.some((generation) => generation.pid === before.generation?.pid),
      'the 1.0.0 generation drains while its activity runs',
    );

    assert.equal(await slow.result(), 'Hello, Grace! (@acme/greetings@1.0.0)');
    await waitFor('old generation exited', async () =>
      (await stack.workerStatus()).draining.length === 0 ? true : undefined,
    );
  });

  test('rollback restores 1.0.0 and history lists every revision', async () => {
    const rolledBack = await stack.client.rollback(stack.taskQueue, { reason: 'bad release' });
    assert.equal(rolledBack.revision, 3);
    assert.equal(rolledBack.packages[0]?.version, '1.0.0');
    await waitFor(
      'a greeting from 1.0.0 again',
      async () =>
        (await greet('Ada')) === 'Hello, Ada! (@acme/greetings@1.0.0)' ? true : undefined,
      10_000,
    );

    const { revisions } = await stack.client.revisions(stack.taskQueue);
    assert.deepEqual(
      revisions.map((entry) => [
        entry.revision,
        entry.action,
        entry.packages[0]?.version,
        entry.reason,
      ]),
      [
        [3, 'rollback', '1.0.0', 'bad release'],
        [2, 'pin', '1.1.0', 'next release'],
        [1, 'pin', '1.0.0', 'first release'],
      ],
    );
    assert.equal(revisions[0]?.rollbackTo, 1);
    assert.deepEqual(revisions[1]?.package, { name: packageName, spec: '^1.1.0' });
    assert.ok(revisions.every((entry) => entry.actor === 'admin'));
  });

  test('metrics count swaps and executions by version', async () => {
    const text = await waitFor('a memory sample in /metrics', async () => {
      const body = await (await fetch(new URL('metrics', stack.worker.url))).text();
      return metricValue(body, 'activity_worker_generation_memory_bytes', { kind: 'rss' }) > 0
        ? body
        : undefined;
    });
    assert.equal(metricValue(text, 'activity_worker_applied_revision', {}), 3);
    assert.ok(metricValue(text, 'activity_worker_swaps_total', { result: 'applied' }) >= 3);
    for (const version of ['1.0.0', '1.1.0']) {
      const labels = { activity: 'greet', package: packageName, version, outcome: 'completed' };
      assert.ok(metricValue(text, 'activity_executions_total', labels) >= 1, version);
    }
    const slowLabels = { activity: 'greetSlowly', package: packageName, version: '1.0.0' };
    assert.equal(metricValue(text, 'activity_execution_duration_seconds_count', slowLabels), 1);
    assert.ok(metricValue(text, 'activity_execution_duration_seconds_sum', slowLabels) >= 6);
  });

  test('deploy API lists the worker and its revision', async () => {
    const { workers } = await waitFor('the worker report of revision 3', async () => {
      const list = await stack.client.workers(stack.taskQueue);
      return list.workers[0]?.appliedRevision === 3 ? list : undefined;
    });
    assert.equal(workers.length, 1);
    assert.equal(workers[0]?.stale, false);
    assert.equal(workers[0]?.state, 'serving');
    assert.equal(workers[0]?.desiredRevision, 3);
    assert.equal(workers[0]?.versions.temporalSdk, '1.24.0');
    assert.equal(workers[0]?.lastError, null);
  });

  test('worker drains and exits 0 on SIGTERM', async () => {
    const code = await stack.worker.stop();
    assert.equal(code, 0);
  });

  test('stopped worker turns stale', async () => {
    const worker = await waitFor('a stale worker', async () => {
      const { workers } = await stack.client.workers(stack.taskQueue);
      return workers[0]?.stale ? workers[0] : undefined;
    });
    assert.equal(worker.appliedRevision, 3);
    assert.equal(worker.state, 'stopped', 'the last report says the worker stopped');
  });

  test('registry serves the published versions', async () => {
    const { stdout } = await npm(templateDir, ['view', packageName, 'versions', '--json']);
    assert.deepEqual(JSON.parse(stdout), ['1.0.0', '1.1.0']);
  });
});
