// `--watch <folder>`: the worker serves a package from a local folder, with no registry
// and no deploy API, and swaps to each rebuild of it. A build that fails to load leaves
// the previous one serving.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '@activity-deploy/stack';
import type { WorkerStatus } from '@activity-deploy/worker';
import { supervisorNodeFlags } from '@activity-deploy/worker/node-flags.js';
import { waitFor } from './helpers/test-stack.js';
import { startWorkflowRunner, type WorkflowRunner } from './helpers/workflows.js';

const workerMain = createRequire(import.meta.url).resolve('@activity-deploy/worker/main.js');

const activitySource = (word: string) =>
  `exports.which = async () => ${JSON.stringify(word)};\n` +
  `exports.pid = async () => process.pid;\n`;

describe('worker watch mode', () => {
  let scratch: string;
  let packageDir: string;
  let worker: ChildProcess;
  let exited: Promise<number | string>;
  let url: string;
  let runner: WorkflowRunner;
  const taskQueue = `watch-${process.pid}`;

  const status = async () => (await (await fetch(`${url}status`)).json()) as WorkerStatus;
  const call = (activity: string) =>
    runner.call({ activity, args: [], taskQueue, startToCloseTimeoutMs: 5000 });

  /** Calls `which` until it returns `word`, and returns how long that took. */
  const waitForResult = async (word: string): Promise<number> => {
    const started = Date.now();
    await waitFor(`which() to return ${word}`, async () =>
      (await call('which')) === word ? true : undefined,
    );
    return Date.now() - started;
  };

  before(async () => {
    const temporalAddress = process.env.TEMPORAL_ADDRESS;
    if (!temporalAddress) throw new Error('TEMPORAL_ADDRESS is not set: run with npm test');
    scratch = await mkdtemp(path.join(os.tmpdir(), 'worker-watch-'));
    packageDir = path.join(scratch, 'package');
    await mkdir(path.join(packageDir, 'lib'), { recursive: true });
    await writeFile(
      path.join(packageDir, 'package.json'),
      JSON.stringify({ name: '@acme/watched', version: '0.1.0', main: 'lib/index.js' }),
    );
    await writeFile(path.join(packageDir, 'lib', 'index.js'), activitySource('first'));

    const port = await freePort();
    url = `http://127.0.0.1:${port}/`;
    const log = openSync(path.join(scratch, 'worker.log'), 'a');
    worker = spawn(process.execPath, [...supervisorNodeFlags, workerMain, '--watch', packageDir], {
      env: {
        ...process.env,
        TASK_QUEUE: taskQueue,
        TEMPORAL_ADDRESS: temporalAddress,
        DATA_DIR: path.join(scratch, 'data'),
        WORKER_HTTP_PORT: String(port),
        // Nothing listens here: watch mode must not need the deploy API or the registry.
        DEPLOY_API_URL: 'http://127.0.0.1:9/',
        REGISTRY_URL: 'http://127.0.0.1:9/',
        WORKER_SHUTDOWN_GRACE_SECONDS: '10',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    exited = new Promise((resolve) =>
      worker.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
    );
    runner = await startWorkflowRunner(temporalAddress);
  });

  after(async () => {
    worker?.kill('SIGKILL');
    await runner?.close();
    if (!process.env.KEEP_TEST_DATA) await rm(scratch, { recursive: true, force: true });
  });

  test('serves the folder without a control plane', async () => {
    const serving = await waitFor('the first build to serve', async () => {
      const current = await status().catch(() => undefined);
      return current?.state === 'serving' ? current : undefined;
    });
    assert.equal(serving.watchDir, packageDir);
    assert.equal(serving.appliedRevision, 1);
    assert.deepEqual(serving.activities.map((activity) => activity.name).sort(), ['pid', 'which']);
    assert.ok(serving.activities.every((activity) => activity.package === '@acme/watched'));
    assert.equal(await call('which'), 'first');
  });

  test('a rewrite swaps to the new code', async () => {
    const before = await status();
    await writeFile(path.join(packageDir, 'lib', 'index.js'), activitySource('second'));
    const tookMs = await waitForResult('second');
    const after = await status();
    assert.equal(after.appliedRevision, 2);
    assert.notEqual(after.generation?.pid, before.generation?.pid);
    assert.notEqual(after.activities[0]?.integrity, before.activities[0]?.integrity);
    // Visible, not asserted: the time depends on the machine's load.
    console.log(`# rewrite to new result: ${tookMs} ms`);
  });

  test('a broken build keeps the previous one', async () => {
    const before = await status();
    await writeFile(path.join(packageDir, 'lib', 'index.js'), 'throw new Error("half-saved");\n');
    const failed = await waitFor('the broken build to fail', async () => {
      const current = await status();
      return current.lastError?.revision === 3 ? current : undefined;
    });
    assert.equal(failed.lastError?.code, 'IMPORT_FAILED');
    assert.match(failed.lastError?.message ?? '', /half-saved/);
    assert.equal(failed.appliedRevision, 2);
    assert.equal(failed.generation?.pid, before.generation?.pid);
    assert.equal(await call('which'), 'second');

    await writeFile(path.join(packageDir, 'lib', 'index.js'), activitySource('third'));
    await waitForResult('third');
    const fixed = await status();
    assert.equal(fixed.appliedRevision, 4);
    assert.equal(fixed.lastError, null);
  });

  test('SIGTERM stops the watch worker', async () => {
    worker.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
