// Activity packages with dependencies of their own: arborist installs them from the
// private registry, while @temporalio/activity stays the worker's single copy.
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { publish, writePackage } from './helpers/packages.js';
import { startTestStack, waitFor, type TestStack } from './helpers/test-stack.js';
import { startWorkflowRunner, type WorkflowRunner } from './helpers/workflows.js';

describe('package dependencies', () => {
  let stack: TestStack;
  let runner: WorkflowRunner;

  const publishFixture = async (
    manifest: Record<string, unknown>,
    files: Record<string, string>,
  ) => {
    const dir = await writePackage(
      manifest,
      files,
      stack.registry.url,
      stack.registry.publisherToken,
    );
    await publish(dir);
  };

  before(async () => {
    stack = await startTestStack();
    runner = await startWorkflowRunner(stack.env.TEMPORAL_ADDRESS as string);
  });

  after(async () => {
    await runner?.close();
    await stack?.close();
  });

  test('dependency from the registry is installed', async () => {
    await publishFixture(
      { name: '@acme/strings', version: '1.2.0', main: 'index.js' },
      { 'index.js': 'exports.shout = (text) => `${String(text).toUpperCase()}!`;\n' },
    );
    await publishFixture(
      {
        name: '@acme/announcer',
        version: '1.0.0',
        type: 'module',
        main: 'index.js',
        dependencies: { '@acme/strings': '^1.0.0' },
        devDependencies: { '@acme/not-published': '^1.0.0' },
        peerDependencies: { '@temporalio/activity': '^1.11.0' },
      },
      {
        'index.js':
          "import { shout } from '@acme/strings';\n" +
          "import { activityInfo } from '@temporalio/activity';\n" +
          'export async function announce(text) {\n' +
          '  return `${shout(text)} (${activityInfo().activityType})`;\n' +
          '}\n',
      },
    );
    const pinned = await stack.client.pin(stack.taskQueue, '@acme/announcer', '1.0.0');
    const status = await waitFor('announcer applied', async () => {
      const current = await stack.workerStatus();
      if (current.lastError)
        throw new Error(`${current.lastError.code}: ${current.lastError.message}`);
      return current.appliedRevision === pinned.revision ? current : undefined;
    });
    assert.deepEqual(
      status.activities.map((entry) => entry.name),
      ['announce'],
    );
    const result = await runner.call({
      activity: 'announce',
      args: ['ready'],
      taskQueue: stack.taskQueue,
      startToCloseTimeoutMs: 5000,
    });
    assert.equal(result, 'READY! (announce)');
  });

  test('peer SDK is not installed next to the package', async () => {
    const packagesDir = path.join(stack.dataDir, 'worker', 'packages');
    const [entry] = (await readdir(packagesDir)).filter((name) =>
      name.startsWith('@acme+announcer@'),
    );
    assert.ok(entry, 'announcer is in the package cache');
    const installed = path.join(
      packagesDir,
      entry,
      'node_modules',
      '@acme',
      'announcer',
      'node_modules',
    );
    assert.ok((await stat(path.join(installed, '@acme', 'strings', 'package.json'))).isFile());
    assert.deepEqual(
      // .package-lock.json is arborist's record of what it installed.
      (await readdir(installed)).filter((name) => !name.startsWith('.')).sort(),
      ['@acme'],
      'only the production dependency is installed: no @temporalio copy, no dev dependency',
    );
    assert.deepEqual(await readdir(path.join(installed, '@acme')), ['strings']);
  });

  test('missing dependency fails with INSTALL_FAILED', async () => {
    const serving = await stack.workerStatus();
    await publishFixture(
      {
        name: '@acme/needs-missing',
        version: '1.0.0',
        main: 'index.js',
        dependencies: { '@acme/never-published': '^1.0.0' },
      },
      { 'index.js': 'exports.needsMissing = async () => "unreachable";\n' },
    );
    const pinned = await stack.client.pin(stack.taskQueue, '@acme/needs-missing', '1.0.0');
    const failed = await waitFor('needs-missing to fail', async () => {
      const current = await stack.workerStatus();
      return current.lastError?.revision === pinned.revision ? current : undefined;
    });
    assert.equal(failed.lastError?.code, 'INSTALL_FAILED');
    assert.match(failed.lastError?.message ?? '', /@acme\/needs-missing@1\.0\.0/);
    assert.equal(failed.generation?.pid, serving.generation?.pid);
  });
});
