// Package settings end to end: the template pinned with a config on the real registry,
// deploy API, worker and Temporal dev server; its activity reads the config through
// packageConfig(), and config changes and disabled activities reach the worker as swaps.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { copyTemplate, publish, setVersion } from './helpers/packages.js';
import { startTestStack, waitFor, type TestStack } from './helpers/test-stack.js';
import { startWorkflowRunner, type WorkflowRunner } from './helpers/workflows.js';

const packageName = '@acme/greetings';

describe('package settings reach activity code', () => {
  let stack: TestStack;
  let runner: WorkflowRunner;

  const greet = (name: string) =>
    runner.call({
      activity: 'greet',
      args: [name],
      taskQueue: stack.taskQueue,
      // Short, so that a task lost while a generation stops polling is retried soon.
      startToCloseTimeoutMs: 5000,
    });

  const waitForApplied = (revision: number) =>
    waitFor(`revision ${revision} applied`, async () => {
      const status = await stack.workerStatus();
      return status.appliedRevision === revision ? status : undefined;
    });

  const activityNames = async () =>
    (await stack.workerStatus()).activities.map((entry) => entry.name).sort();

  before(async () => {
    stack = await startTestStack();
    runner = await startWorkflowRunner(stack.env.TEMPORAL_ADDRESS as string);
    const templateDir = await copyTemplate(stack.registry.url, stack.registry.publisherToken);
    await setVersion(templateDir, '1.0.0');
    await publish(templateDir);
  });

  after(async () => {
    await runner?.close();
    await stack?.close();
  });

  test('activity returns a value from its config', async () => {
    const pinned = await stack.client.pin(stack.taskQueue, packageName, '1.0.0', {
      reason: 'first release',
      config: { greeting: 'Howdy' },
    });
    assert.equal(pinned.revision, 1);
    await waitForApplied(1);
    assert.equal(await greet('Ada'), 'Howdy, Ada! (@acme/greetings@1.0.0)');
  });

  test('config change swaps in the new value', async () => {
    const configured = await stack.client.configure(stack.taskQueue, packageName, {
      config: { greeting: 'Bonjour' },
    });
    assert.equal(configured.revision, 2);
    await waitForApplied(2);
    const result = await waitFor('a greeting with the new config', async () => {
      const greeting = String(await greet('Ada'));
      return greeting.startsWith('Bonjour') ? greeting : undefined;
    });
    assert.equal(result, 'Bonjour, Ada! (@acme/greetings@1.0.0)');
  });

  test('disabled activity is not registered', async () => {
    assert.deepEqual(await activityNames(), ['greet', 'greetSlowly']);
    await stack.client.configure(stack.taskQueue, packageName, {
      disabledActivities: ['greetSlowly'],
    });
    const status = await waitForApplied(3);
    assert.deepEqual(status.packages[0]?.disabledActivities, ['greetSlowly']);
    assert.deepEqual(await activityNames(), ['greet']);
    assert.equal(await greet('Ada'), 'Bonjour, Ada! (@acme/greetings@1.0.0)');
  });

  test('unknown disabled activity fails the load', async () => {
    await stack.client.configure(stack.taskQueue, packageName, {
      disabledActivities: ['greetLoudly'],
    });
    const failure = await waitFor('load failure of revision 4', async () => {
      const error = (await stack.workerStatus()).lastError;
      return error?.revision === 4 ? error : undefined;
    });
    assert.equal(failure.code, 'DISABLED_ACTIVITY_NOT_FOUND');
    assert.equal(failure.package, packageName);
    assert.match(failure.message, /greetLoudly/);

    const status = await stack.workerStatus();
    assert.equal(status.appliedRevision, 3, 'revision 3 keeps serving');
    assert.deepEqual(await activityNames(), ['greet']);
    assert.equal(await greet('Ada'), 'Bonjour, Ada! (@acme/greetings@1.0.0)');
  });

  test('disabled package leaves no generation', async () => {
    await stack.client.configure(stack.taskQueue, packageName, {
      disabled: true,
      disabledActivities: [],
    });
    const status = await waitForApplied(5);
    assert.equal(status.state, 'idle');
    assert.equal(status.generation, null);
    assert.deepEqual(status.activities, []);
  });

  test('rollback restores config and activities', async () => {
    const rolledBack = await stack.client.rollback(stack.taskQueue, { revision: 1 });
    assert.equal(rolledBack.revision, 6);
    assert.deepEqual(rolledBack.packages[0]?.config, { greeting: 'Howdy' });
    await waitForApplied(6);
    assert.deepEqual(await activityNames(), ['greet', 'greetSlowly']);
    assert.equal(await greet('Ada'), 'Howdy, Ada! (@acme/greetings@1.0.0)');
  });
});
