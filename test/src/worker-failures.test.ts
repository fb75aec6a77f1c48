// How the worker treats packages it must not run: a module that throws on import, two
// packages with the same activity name, a peer range the host SDK does not satisfy, and
// a tarball whose bytes differ from the pinned integrity. In every case the generation
// that is serving keeps serving, and the failure shows in /status.
import assert from 'node:assert/strict';
import { openSync } from 'node:fs';
import { copyFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { deployApiOptionsFromEnv, startDeployApi } from '@activity-deploy/deploy-api';
import { DeployApiClient } from '@activity-deploy/deploy-api/client';
import { resolveRegistryOptions, startRegistry } from '@activity-deploy/registry';
import { freePort, startWorkerProcess } from '@activity-deploy/stack';
import type { WorkerStatus } from '@activity-deploy/worker';
import { publish, writePackage } from './helpers/packages.js';
import { metricValue, npm, startTestStack, waitFor, type TestStack } from './helpers/test-stack.js';
import { startWorkflowRunner, type WorkflowRunner } from './helpers/workflows.js';

describe('worker with bad packages', () => {
  let stack: TestStack;
  let runner: WorkflowRunner;

  const call = (activity: string, ...args: unknown[]) =>
    runner.call({ activity, args, taskQueue: stack.taskQueue, startToCloseTimeoutMs: 5000 });

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
    return dir;
  };

  const waitForFailure = (revision: number) =>
    waitFor(`revision ${revision} to fail`, async () => {
      const status = await stack.workerStatus();
      return status.lastError?.revision === revision ? status : undefined;
    });

  const waitForApplied = (revision: number) =>
    waitFor(`revision ${revision} applied`, async () => {
      const status = await stack.workerStatus();
      return status.appliedRevision === revision ? status : undefined;
    });

  /** Checks that the generation from `serving` still runs and still serves calls. */
  const assertStillServing = async (serving: WorkerStatus, failed: WorkerStatus) => {
    assert.equal(failed.appliedRevision, serving.appliedRevision);
    assert.equal(failed.generation?.pid, serving.generation?.pid);
    assert.equal(await call('hello', 'Ada'), 'hello Ada from activity hello');
  };

  before(async () => {
    // Reports older than a second count as stale, so a test can pin while the deploy API
    // has no fresh report to check compatibility against, as with a worker that joins later.
    stack = await startTestStack({ deployApiEnv: { DEPLOY_API_WORKER_STALE_SECONDS: '1' } });
    runner = await startWorkflowRunner(stack.env.TEMPORAL_ADDRESS as string);
  });

  after(async () => {
    await runner?.close();
    await stack?.close();
  });

  test('ES module package uses the host SDK', async () => {
    await publishFixture(
      {
        name: '@acme/hello',
        version: '1.0.0',
        type: 'module',
        exports: { '.': { import: './index.js' } },
        peerDependencies: { '@temporalio/activity': '^1.11.0' },
      },
      {
        'index.js':
          "import { activityInfo } from '@temporalio/activity';\n" +
          'export async function hello(name) {\n' +
          '  const info = activityInfo();\n' +
          '  return `hello ${name} from activity ${info.activityType}`;\n' +
          '}\n' +
          'export const notAnActivity = 42;\n',
      },
    );
    await stack.client.pin(stack.taskQueue, '@acme/hello', '1.0.0');
    const status = await waitForApplied(1);
    assert.deepEqual(
      status.activities.map(({ name, package: owner, version }) => ({
        name,
        package: owner,
        version,
      })),
      [{ name: 'hello', package: '@acme/hello', version: '1.0.0' }],
    );
    assert.equal(await call('hello', 'Ada'), 'hello Ada from activity hello');
  });

  test('CommonJS package serves next to the ES module one', async () => {
    await publishFixture(
      { name: '@acme/legacy', version: '1.0.0', main: 'lib/main.js' },
      {
        'lib/main.js':
          'function shout(text) { return Promise.resolve(String(text).toUpperCase()); }\n' +
          'module.exports = { shout };\n',
      },
    );
    await stack.client.pin(stack.taskQueue, '@acme/legacy', '1.0.0');
    const status = await waitForApplied(2);
    assert.deepEqual(status.activities.map((entry) => entry.name).sort(), ['hello', 'shout']);
    assert.equal(await call('shout', 'quiet'), 'QUIET');
  });

  test('package that throws on import is refused', async () => {
    const serving = await stack.workerStatus();
    await publishFixture(
      { name: '@acme/broken', version: '1.0.0', main: 'index.js' },
      { 'index.js': "throw new Error('missing PAYMENTS_URL');\n" },
    );
    const pinned = await stack.client.pin(stack.taskQueue, '@acme/broken', '1.0.0');
    const failed = await waitForFailure(pinned.revision);
    assert.equal(failed.lastError?.code, 'IMPORT_FAILED');
    assert.equal(failed.lastError?.package, '@acme/broken');
    assert.equal(failed.lastError?.version, '1.0.0');
    assert.match(failed.lastError?.message ?? '', /missing PAYMENTS_URL/);
    const metrics = await (await fetch(new URL('metrics', stack.worker.url))).text();
    const failures = metricValue(metrics, 'activity_worker_load_failures_total', {
      code: 'IMPORT_FAILED',
    });
    assert.ok(failures >= 1, `IMPORT_FAILED count ${failures}`);
    const reported = await waitFor('the failure in the deploy API', async () => {
      const { workers } = await stack.client.workers(stack.taskQueue);
      return workers[0]?.lastError?.revision === pinned.revision ? workers[0] : undefined;
    });
    assert.equal(reported.lastError?.code, 'IMPORT_FAILED');
    assert.equal(reported.lastError?.package, '@acme/broken');
    assert.equal(reported.appliedRevision, serving.appliedRevision);
    assert.equal(failed.desiredRevision, pinned.revision);
    await assertStillServing(serving, failed);

    const unpinned = await stack.client.unpin(stack.taskQueue, '@acme/broken');
    const recovered = await waitForApplied(unpinned.revision);
    assert.equal(recovered.lastError, null);
  });

  test('two packages exporting one activity name are refused', async () => {
    const serving = await stack.workerStatus();
    await publishFixture(
      { name: '@acme/hello-too', version: '1.0.0', main: 'index.js' },
      { 'index.js': 'exports.hello = async () => "the other hello";\n' },
    );
    const pinned = await stack.client.pin(stack.taskQueue, '@acme/hello-too', '1.0.0');
    const failed = await waitForFailure(pinned.revision);
    assert.equal(failed.lastError?.code, 'ACTIVITY_NAME_CLASH');
    assert.match(failed.lastError?.message ?? '', /@acme\/hello@1\.0\.0/);
    assert.match(failed.lastError?.message ?? '', /@acme\/hello-too@1\.0\.0/);
    await assertStillServing(serving, failed);
    await waitForApplied((await stack.client.unpin(stack.taskQueue, '@acme/hello-too')).revision);
  });

  test('peer range the host SDK does not satisfy is refused', async () => {
    const serving = await stack.workerStatus();
    await publishFixture(
      {
        name: '@acme/ancient',
        version: '1.0.0',
        main: 'index.js',
        peerDependencies: { '@temporalio/activity': '^0.23.0' },
      },
      { 'index.js': 'exports.ancient = async () => "old";\n' },
    );
    // With a fresh report of this worker, the deploy API rejects the pin itself.
    await waitFor('a stale worker report', async () => {
      const { workers } = await stack.client.workers(stack.taskQueue);
      return workers.every((worker) => worker.stale) ? workers : undefined;
    });
    const pinned = await stack.client.pin(stack.taskQueue, '@acme/ancient', '1.0.0');
    const failed = await waitForFailure(pinned.revision);
    assert.equal(failed.lastError?.code, 'PEER_DEPENDENCY_MISMATCH');
    assert.match(failed.lastError?.message ?? '', /@temporalio\/activity@\^0\.23\.0/);
    await assertStillServing(serving, failed);
    await waitForApplied((await stack.client.unpin(stack.taskQueue, '@acme/ancient')).revision);
  });

  test('tarball changed in the registry is never run', async () => {
    const serving = await stack.workerStatus();
    await publishFixture(
      { name: '@acme/tampered', version: '1.0.0', main: 'index.js' },
      { 'index.js': 'exports.tampered = async () => "approved code";\n' },
    );
    // Replace the stored tarball with other bytes under the same name and version, as an
    // attacker with write access to the registry's disk could. The packument keeps the
    // integrity of the approved tarball, and so does the pin.
    const evil = await writePackage(
      { name: '@acme/tampered', version: '1.0.0', main: 'index.js' },
      { 'index.js': 'exports.tampered = async () => "injected code";\n' },
      stack.registry.url,
      stack.registry.publisherToken,
    );
    const { stdout } = await npm(evil, ['pack', '--json']);
    const packed = (JSON.parse(stdout) as Array<{ filename: string }>)[0]?.filename as string;
    const storageDir = path.join(stack.dataDir, 'registry', 'storage', '@acme', 'tampered');
    await copyFile(path.join(evil, packed), path.join(storageDir, 'tampered-1.0.0.tgz'));

    const pinned = await stack.client.pin(stack.taskQueue, '@acme/tampered', '1.0.0');
    const failed = await waitForFailure(pinned.revision);
    assert.equal(failed.lastError?.code, 'EINTEGRITY');
    assert.equal(failed.lastError?.package, '@acme/tampered');
    assert.ok(!failed.activities.some((entry) => entry.name === 'tampered'));
    await assertStillServing(serving, failed);

    const cached = await readdir(path.join(stack.dataDir, 'worker', 'packages'));
    assert.ok(
      !cached.some((entry) => entry.startsWith('@acme+tampered')),
      `no copy of the tampered package in the cache: ${cached.join(', ')}`,
    );
  });

  test('restarted worker serves offline, then catches up', async (t) => {
    const last = await waitForApplied(
      (await stack.client.unpin(stack.taskQueue, '@acme/tampered')).revision,
    );
    assert.equal(await stack.worker.stop(), 0);
    await stack.deployApi.close();
    await stack.registry.close();

    const port = await freePort();
    const restartedAt = Date.now();
    const logFd = openSync(path.join(stack.dataDir, 'restarted-worker.log'), 'a');
    const restarted = await startWorkerProcess({
      httpPort: port,
      stdio: logFd,
      env: {
        DATA_DIR: stack.dataDir,
        TASK_QUEUE: stack.taskQueue,
        DEPLOY_API_URL: stack.deployApi.url,
        REGISTRY_URL: stack.registry.url,
        TEMPORAL_ADDRESS: stack.env.TEMPORAL_ADDRESS,
        WORKER_RETRY_MAX_SECONDS: '2',
      },
    });
    try {
      const status = await waitFor('restored revision', async () => {
        const response = await fetch(new URL('status', restarted.url));
        const body = (await response.json()) as WorkerStatus;
        return body.appliedRevision === last.appliedRevision ? body : undefined;
      });
      assert.equal(status.deployApi.reachable, false);
      t.diagnostic(`restored after ${Date.now() - restartedAt} ms`);
      assert.equal(await call('hello', 'Ada'), 'hello Ada from activity hello');
      t.diagnostic(`first call served after ${Date.now() - restartedAt} ms`);
      assert.equal(await call('shout', 'still here'), 'STILL HERE');

      // Bring the registry and the deploy API back on the same ports and data.
      const registry = await startRegistry(
        resolveRegistryOptions({
          dataDir: stack.dataDir,
          port: Number(new URL(stack.registry.url).port),
        }),
      );
      const api = await startDeployApi(
        deployApiOptionsFromEnv({
          ...stack.databaseEnv,
          DATA_DIR: stack.dataDir,
          DEPLOY_API_PORT: new URL(stack.deployApi.url).port,
          REGISTRY_URL: registry.url,
        }),
        false,
      );
      try {
        await publishFixture(
          { name: '@acme/legacy', version: '1.1.0', main: 'lib/main.js' },
          { 'lib/main.js': 'exports.shout = async (text) => `${String(text).toUpperCase()}!!`;\n' },
        );
        const client = new DeployApiClient({ url: api.url, token: api.token });
        const pinned = await client.pin(stack.taskQueue, '@acme/legacy', '1.1.0');
        const caughtUp = await waitFor('caught up', async () => {
          const response = await fetch(new URL('status', restarted.url));
          const body = (await response.json()) as WorkerStatus;
          return body.appliedRevision === pinned.revision ? body : undefined;
        });
        assert.equal(caughtUp.deployApi.reachable, true);
        assert.equal(await call('shout', 'back'), 'BACK!!');
        t.diagnostic(`caught up after ${Date.now() - restartedAt} ms`);
      } finally {
        await api.close();
        await registry.close();
      }
    } finally {
      assert.equal(await restarted.stop(), 0);
    }
  });
});
