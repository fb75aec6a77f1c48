// What a worker reports to an operator: readiness, /status with activities and swaps, /metrics
// with the Temporal SDK's own metrics, and JSON logs that name the activity behind each
// line, from the SDK's activity logger and from console output alike.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { publish, writePackage } from './helpers/packages.js';
import { metricValue, startTestStack, waitFor, type TestStack } from './helpers/test-stack.js';
import { startWorkflowRunner, type WorkflowRunner } from './helpers/workflows.js';

const observedSource = (version: string) => `
const { log } = require('@temporalio/activity');
exports.chatty = async (word) => {
  log.info('chatty through the activity logger', { word });
  console.log('chatty through console.log %s', word);
  console.error('chatty through console.error');
  return '${version} ' + word;
};
`;

type LogLine = Record<string, unknown>;

describe('worker observability', () => {
  let stack: TestStack;
  let runner: WorkflowRunner;

  const readyz = async () => {
    const response = await fetch(new URL('readyz', stack.worker.url));
    return { status: response.status, body: (await response.json()) as { ready: boolean } };
  };

  const publishVersion = async (version: string) => {
    const dir = await writePackage(
      { name: '@acme/observed', version, main: 'index.js' },
      { 'index.js': observedSource(version) },
      stack.registry.url,
      stack.registry.publisherToken,
    );
    await publish(dir);
    const pinned = await stack.client.pin(stack.taskQueue, '@acme/observed', version);
    return waitFor(`${version} applied`, async () => {
      const status = await stack.workerStatus();
      return status.appliedRevision === pinned.revision ? status : undefined;
    });
  };

  before(async () => {
    stack = await startTestStack();
    runner = await startWorkflowRunner(stack.env.TEMPORAL_ADDRESS as string);
  });

  after(async () => {
    await runner?.close();
    await stack?.close();
  });

  test('readyz is 503 before anything serves', async () => {
    const { status, body } = await readyz();
    assert.equal(status, 503);
    assert.equal(body.ready, false);
  });

  test('status lists activities and swaps', async () => {
    const applied = await publishVersion('1.0.0');
    assert.equal((await readyz()).status, 200);

    const [activity] = applied.activities;
    assert.equal(activity?.name, 'chatty');
    assert.equal(activity?.package, '@acme/observed');
    assert.equal(activity?.version, '1.0.0');
    assert.match(activity?.integrity ?? '', /^sha512-/);
    assert.ok(Date.parse(activity?.loadedAt ?? '') > 0, 'loadedAt is a time');
    assert.ok((applied.generation?.pid ?? 0) > 0);
    assert.ok((applied.generation?.loadMs ?? -1) >= 0);

    const [swap] = applied.swaps;
    assert.equal(swap?.revision, applied.appliedRevision);
    assert.equal(swap?.reason, 'revision');
    assert.equal(swap?.result, 'applied');
    assert.ok((swap?.durations.total ?? 0) > 0);
    assert.ok((swap?.durations.fetchInstall ?? -1) >= 0);
    assert.ok((swap?.durations.load ?? -1) >= 0);
    assert.equal(swap?.durations.drain, null, 'nothing was serving before');
    assert.equal(swap?.code, null);

    const second = await publishVersion('1.1.0');
    assert.equal(second.swaps.length, 2);
    assert.equal(second.swaps[0]?.revision, second.appliedRevision);
    const drained = await waitFor('drain time of the previous generation', async () => {
      const status = await stack.workerStatus();
      return status.swaps[0]?.durations.drain !== null ? status : undefined;
    });
    assert.ok((drained.swaps[0]?.durations.drain ?? -1) >= 0);
    const memory = await waitFor('memory of the generation', async () => {
      const status = await stack.workerStatus();
      return status.generation?.memory ?? undefined;
    });
    assert.ok(memory.rss > 0);
  });

  test('activity log lines carry their activity', async () => {
    const handle = await runner.start({
      activity: 'chatty',
      args: ['hello'],
      taskQueue: stack.taskQueue,
    });
    assert.equal(await handle.result(), '1.1.0 hello');
    const revision = (await stack.workerStatus()).appliedRevision;

    const lines = await waitFor('the activity log lines', async () => {
      const text = await readFile(stack.workerLog, 'utf8');
      const parsed = text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as LogLine);
      return parsed.filter((line) => line.workflowId === handle.workflowId).length >= 3
        ? parsed
        : undefined;
    });
    const expected = {
      workflowId: handle.workflowId,
      attempt: 1,
      package: '@acme/observed',
      version: '1.1.0',
      revision,
    };
    for (const message of [
      'chatty through the activity logger',
      'chatty through console.log hello',
      'chatty through console.error',
    ]) {
      const line = lines.find((entry) => entry.msg === message);
      assert.ok(line, `a log line "${message}"`);
      for (const [key, value] of Object.entries(expected)) {
        assert.equal(line[key], value, `${key} of "${message}"`);
      }
      assert.equal(typeof line.activityId, 'string', `activityId of "${message}"`);
    }
    const consoleError = lines.find((entry) => entry.msg === 'chatty through console.error');
    assert.equal(consoleError?.level, 50, 'console.error logs at error level');
  });

  test('metrics include the SDK runtime metrics', async () => {
    const text = await waitFor('SDK metrics on /metrics', async () => {
      const response = await fetch(new URL('metrics', stack.worker.url));
      const body = await response.text();
      return /^temporal_activity_execution_latency/m.test(body) ? body : undefined;
    });
    assert.ok(metricValue(text, 'activity_worker_swaps_total', { result: 'applied' }) >= 2);
    assert.match(text, /^# TYPE temporal_\w+ /m);
    const names = text
      .split('\n')
      .filter((line) => line.startsWith('# TYPE '))
      .map((line) => line.split(' ')[2]);
    assert.equal(new Set(names).size, names.length, 'no metric name appears twice');
  });

  test('readyz is 503 after unpinning', async () => {
    const unpinned = await stack.client.unpin(stack.taskQueue, '@acme/observed');
    await waitFor('unpin applied', async () =>
      (await stack.workerStatus()).appliedRevision === unpinned.revision ? true : undefined,
    );
    const { status, body } = await readyz();
    assert.equal(status, 503);
    assert.equal(body.ready, false);
  });
});
