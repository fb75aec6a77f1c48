// deployctl status against a real deploy API and registry. The worker reports here are
// sent through the deploy API's report route by the test itself; test/src has the run
// with a real worker process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { WorkerRecord, WorkerReport } from '@activity-deploy/deploy-api/client';
import { snapshot } from '../src/commands/status.js';
import { startControlPlane, type ControlPlane } from './helpers/control-plane.js';
import { deployctl } from './helpers/run-deployctl.js';

const queue = 'payments';
const packageName = '@acme/ledger';
const main = fileURLToPath(new URL('../src/main.js', import.meta.url));

function report(appliedRevision: number | null, desiredRevision: number): WorkerReport {
  return {
    state: 'running',
    appliedRevision,
    desiredRevision,
    versions: { node: process.versions.node, temporalSdk: '1.24.0' },
    lastError: null,
  };
}

describe('deployctl status', () => {
  let plane: ControlPlane;

  before(async () => {
    plane = await startControlPlane();
    await plane.publish(packageName, '1.0.0');
    await plane.publish(packageName, '2.0.0');
    await plane.client.pin(queue, packageName, '1.0.0', 'launch');
  });

  after(async () => {
    await plane?.close();
  });

  test('queue without workers says so', async () => {
    const result = await deployctl(['status', queue], plane.env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /task queue payments at revision 1 \(ETag "r1"\)/);
    assert.match(result.stdout, /@acme\/ledger@1\.0\.0 {2}sha512-/);
    assert.match(result.stdout, /workers: none has reported/);
  });

  test('until-converged without workers times out with 5', async () => {
    const args = ['status', queue, '--until-converged', '--timeout', '1'];
    const result = await deployctl(args, plane.env);
    assert.equal(result.code, 5);
    assert.match(result.stderr, /not converged: 0 of 0 active workers applied revision 1/);
  });

  test('--json counts converged workers', async () => {
    await plane.client.reportWorker(queue, 'worker-a', report(1, 1));
    await plane.client.reportWorker(queue, 'worker-b', report(0, 1));
    const result = await deployctl(['status', queue, '--json'], plane.env);
    assert.equal(result.code, 0, result.stderr);
    const body = JSON.parse(result.stdout);
    assert.equal(body.revision, 1);
    assert.equal(body.etag, '"r1"');
    assert.equal(body.workers.length, 2);
    assert.deepEqual(body.convergence, { active: 2, stale: 0, converged: 1, complete: false });
  });

  test('human output lists each worker', async () => {
    const result = await deployctl(['status', queue], plane.env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /workers: 1 of 2 converged on revision 1/);
    assert.match(result.stdout, /^worker-a\s+running\s+1\s+1\s+\d+\.\d+\.\d+\s+1\.24\.0\s/m);
    assert.match(result.stdout, /^worker-b\s+running\s+0\s+1\s/m);
  });

  test('until-converged exits 5 while one worker lags', async () => {
    const args = ['status', queue, '--until-converged', '--timeout', '2', '--interval', '1'];
    const result = await deployctl(args, plane.env);
    assert.equal(result.code, 5);
    assert.match(result.stderr, /not converged: 1 of 2 active workers applied revision 1/);
  });

  test('until-converged exits 0 once the last worker applies', async () => {
    const args = ['status', queue, '--until-converged', '--timeout', '30', '--interval', '1'];
    const pending = deployctl(args, plane.env);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await plane.client.reportWorker(queue, 'worker-b', report(1, 1));
    const result = await pending;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /workers: 2 of 2 converged on revision 1/);
  });

  test('--watch prints each new revision until Ctrl-C', async () => {
    const child = spawn(process.execPath, [main, 'status', queue, '--watch', '--json'], {
      env: { ...process.env, ...plane.env },
    });
    const revisions: number[] = [];
    let buffered = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const sawRevision = (revision: number) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (revisions.includes(revision)) {
            child.stdout.off('data', check);
            resolve();
          }
        };
        child.stdout.on('data', check);
        check();
      });
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) revisions.push((JSON.parse(line) as { revision: number }).revision);
    });
    const exited = once(child, 'exit');
    await sawRevision(1);
    await plane.client.pin(queue, packageName, '2.0.0', 'next');
    await sawRevision(2);
    child.kill('SIGINT');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 130, stderr);
    assert.deepEqual([...new Set(revisions)], [1, 2]);
  });

  test('--timeout without --until-converged is a usage error', async () => {
    const result = await deployctl(['status', queue, '--timeout', '5'], plane.env);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--timeout needs --until-converged/);
  });
});

describe('status convergence', () => {
  const state = { taskQueue: 'q', revision: 3, packages: [] };
  const worker = (workerId: string, applied: number | null, stale: boolean): WorkerRecord => ({
    ...report(applied, 3),
    workerId,
    reportedAt: new Date(0).toISOString(),
    stale,
  });

  test('stale workers do not block convergence', () => {
    const status = snapshot(state, '"r3"', [worker('a', 3, false), worker('b', 2, true)]);
    assert.deepEqual(status.convergence, { active: 1, stale: 1, converged: 1, complete: true });
  });

  test('only stale workers is not converged', () => {
    const status = snapshot(state, '"r3"', [worker('a', 3, true)]);
    assert.deepEqual(status.convergence, { active: 0, stale: 1, converged: 0, complete: false });
  });

  test('an older applied revision is not converged', () => {
    const status = snapshot(state, '"r3"', [worker('a', 3, false), worker('b', 2, false)]);
    assert.deepEqual(status.convergence, { active: 2, stale: 0, converged: 1, complete: false });
  });

  test('rollout workers converge on their target', () => {
    const onStable = { ...worker('b', 2, false), targetRevision: 2 };
    const behind = { ...worker('c', 2, false), targetRevision: 3 };
    const status = snapshot(state, '"r3.1"', [worker('a', 3, false), onStable, behind]);
    assert.deepEqual(status.convergence, { active: 3, stale: 0, converged: 2, complete: false });
  });
});
