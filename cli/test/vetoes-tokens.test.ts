// deployctl veto, unveto, vetoes, tokens and audit against a real deploy API and registry.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane } from './helpers/control-plane.js';
import { deployctl } from './helpers/run-deployctl.js';

const queue = 'billing';
const packageName = '@acme/invoices';

describe('deployctl vetoes, tokens and audit', () => {
  let plane: ControlPlane;

  before(async () => {
    plane = await startControlPlane();
    await plane.publish(packageName, '1.0.0');
    await plane.publish(packageName, '1.1.0');
    await plane.client.pin(queue, packageName, '1.0.0', 'launch');
    await plane.client.pin(queue, packageName, '1.1.0', 'next');
  });

  after(async () => {
    await plane?.close();
  });

  test('veto rolls back the queue running it', async () => {
    const args = ['veto', packageName, '1.1.0', '--reason', 'charges twice', '--json'];
    const result = await deployctl(args, plane.env);
    assert.equal(result.code, 0, result.stderr);
    const body = JSON.parse(result.stdout);
    assert.equal(body.version, '1.1.0');
    assert.deepEqual(body.rolledBack, [{ taskQueue: queue, revision: 3 }]);
  });

  test('pin of a vetoed version exits 1 (409)', async () => {
    const result = await deployctl(['pin', queue, packageName, '1.1.0'], plane.env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /VERSION_VETOED \(HTTP 409\)/);
  });

  test('vetoes lists the veto', async () => {
    const result = await deployctl(['vetoes', packageName], plane.env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^1\.1\.0\s+\S+\s+\S+\s+charges twice$/m);
  });

  test('unveto lifts the veto', async () => {
    const result = await deployctl(['unveto', packageName, '1.1.0'], plane.env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /lifted the veto of @acme\/invoices@1\.1\.0/);
    const list = await deployctl(['vetoes', packageName], plane.env);
    assert.match(list.stdout, /no version of @acme\/invoices is vetoed/);
  });

  test('read token cannot pin (403)', async () => {
    const args = ['tokens', 'create', 'viewer', '--role', 'read', '--json'];
    const created = await deployctl(args, plane.env);
    assert.equal(created.code, 0, created.stderr);
    const secret = (JSON.parse(created.stdout) as { token: string }).token;
    const env = { ...plane.env, DEPLOY_API_TOKEN: secret };
    const result = await deployctl(['pin', queue, packageName, '1.1.0'], env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /FORBIDDEN \(HTTP 403\)/);
    assert.ok(!result.stderr.includes(secret));
  });

  test('tokens list and delete', async () => {
    const listed = await deployctl(['tokens', 'list'], plane.env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^viewer\s+read\s+all\s/m);
    const deleted = await deployctl(['tokens', 'delete', 'viewer'], plane.env);
    assert.equal(deleted.code, 0, deleted.stderr);
    const after = await deployctl(['tokens', 'list', '--json'], plane.env);
    const names = (JSON.parse(after.stdout) as { tokens: Array<{ name: string }> }).tokens;
    assert.ok(!names.some((token) => token.name === 'viewer'));
  });

  test('audit lists the veto of the queue', async () => {
    const result = await deployctl(['audit', '--limit', '50', '--json'], plane.env);
    assert.equal(result.code, 0, result.stderr);
    const { entries } = JSON.parse(result.stdout) as { entries: Array<{ action: string }> };
    const actions = entries.map((entry) => entry.action);
    assert.ok(actions.includes('veto'), actions.join(','));
    assert.ok(actions.includes('token-create'), actions.join(','));
    const text = await deployctl(['audit', '--task-queue', queue], plane.env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^ID\s+TIME\s+ACTOR\s+ACTION\s+TASK QUEUE\s+TARGET\s+REASON$/m);
    assert.match(text.stdout, /\s+pin\s+billing\s/);
  });
});
