// deployctl pin, unpin, rollback and history against a real deploy API and registry,
// with the exit codes that scripts rely on.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane } from './helpers/control-plane.js';
import { deployctl } from './helpers/run-deployctl.js';

const queue = 'orders';
const packageName = '@acme/payments';

/** Returns a loopback port that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return address.port;
}

describe('deployctl writes', () => {
  let plane: ControlPlane;

  before(async () => {
    plane = await startControlPlane();
    await plane.publish(packageName, '1.0.0');
    await plane.publish(packageName, '1.1.0');
  });

  after(async () => {
    await plane?.close();
  });

  test('pin prints the revision and the change', async () => {
    const result = await deployctl(
      ['pin', queue, packageName, '1.0.0', '--reason', 'launch'],
      plane.env,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /pinned @acme\/payments@1\.0\.0: revision 1 of task queue orders/);
    assert.match(result.stdout, /\+ @acme\/payments@1\.0\.0/);
    const state = await plane.client.getState(queue);
    assert.equal(state.notModified ? -1 : state.state.revision, 1);
  });

  test('pin of a range with --json', async () => {
    const result = await deployctl(['pin', queue, packageName, '^1.0.0', '--json'], plane.env);
    assert.equal(result.code, 0, result.stderr);
    const body = JSON.parse(result.stdout);
    assert.equal(body.revision, 2);
    assert.equal(body.changed, true);
    assert.equal(body.packages[0].version, '1.1.0');
    assert.deepEqual(body.diff.changed, [{ name: packageName, from: '1.0.0', to: '1.1.0' }]);
  });

  test('pin of the pinned version changes nothing', async () => {
    const result = await deployctl(['pin', queue, packageName, '1.1.0'], plane.env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /already pinned; task queue orders stays at revision 2/);
  });

  test('pin --dry-run stores nothing', async () => {
    const result = await deployctl(
      ['pin', queue, packageName, '1.0.0', '--dry-run', '--json'],
      plane.env,
    );
    assert.equal(result.code, 0, result.stderr);
    const body = JSON.parse(result.stdout);
    assert.equal(body.dryRun, true);
    assert.equal(body.revision, 3);
    const { revisions } = await plane.client.revisions(queue);
    assert.equal(revisions.length, 2);
  });

  test('pin --dry-run says nothing was stored', async () => {
    const result = await deployctl(['pin', queue, packageName, '1.0.0', '--dry-run'], plane.env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /^dry run, nothing stored: would pin @acme\/payments@1\.0\.0 as revision 3 of task queue orders$/m,
    );
    assert.match(result.stdout, /~ @acme\/payments 1\.1\.0 -> 1\.0\.0/);
  });

  test('stale --if-match exits 4 and stores nothing', async () => {
    const result = await deployctl(
      ['pin', queue, packageName, '1.0.0', '--if-match', '1'],
      plane.env,
    );
    assert.equal(result.code, 4);
    assert.match(result.stderr, /PRECONDITION_FAILED \(HTTP 412\)/);
    const { revisions } = await plane.client.revisions(queue);
    assert.equal(revisions.length, 2);
  });

  test('current --if-match lets the write through', async () => {
    const result = await deployctl(['unpin', queue, packageName, '--if-match', '"r2"'], plane.env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /unpinned @acme\/payments: revision 3/);
    assert.match(result.stdout, /- @acme\/payments@1\.1\.0/);
  });

  test('unpin of a package not pinned exits 1 with the code', async () => {
    const result = await deployctl(['unpin', queue, packageName], plane.env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /PACKAGE_NOT_PINNED \(HTTP 404\)/);
  });

  test('rollback restores the previous package set', async () => {
    const result = await deployctl(['rollback', queue, '--reason', 'undo unpin'], plane.env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /rolled back to the packages of the previous revision: revision 4 of task queue orders/,
    );
    assert.match(result.stdout, /\+ @acme\/payments@1\.1\.0/);
  });

  test('rollback --to a revision with --json', async () => {
    const result = await deployctl(['rollback', queue, '--to', '1', '--json'], plane.env);
    assert.equal(result.code, 0, result.stderr);
    const body = JSON.parse(result.stdout);
    assert.equal(body.revision, 5);
    assert.equal(body.packages[0].version, '1.0.0');
  });

  test('history lists revisions newest first', async () => {
    const result = await deployctl(['history', queue], plane.env);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /^REVISION\s+ACTION\s+CHANGE\s+ACTOR\s+TIME\s+REASON$/);
    assert.match(lines[1] ?? '', /^5\s+rollback\s+to revision 1\s/);
    assert.match(lines[2] ?? '', /^4\s+rollback\s+to revision 2\s.*undo unpin$/);
    assert.match(lines[3] ?? '', /^3\s+unpin\s+@acme\/payments\s/);
    assert.match(lines[4] ?? '', /^2\s+pin\s+@acme\/payments \^1\.0\.0 -> 1\.1\.0\s/);
    assert.match(lines[5] ?? '', /^1\s+pin\s+@acme\/payments@1\.0\.0\s.*launch$/);
    assert.equal(lines.length, 6);
  });

  test('history --limit with --json', async () => {
    const result = await deployctl(['history', queue, '--limit', '2', '--json'], plane.env);
    assert.equal(result.code, 0, result.stderr);
    const body = JSON.parse(result.stdout) as { revisions: Array<{ revision: number }> };
    assert.deepEqual(
      body.revisions.map((entry) => entry.revision),
      [5, 4],
    );
  });

  test('invalid task queue exits 1 (400)', async () => {
    const result = await deployctl(['pin', 'bad queue', packageName, '1.0.0'], plane.env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /INVALID_TASK_QUEUE \(HTTP 400\)/);
  });

  test('wrong token exits 1 and is not printed (401)', async () => {
    const token = 'not-the-token-5f2c';
    const env = { ...plane.env, DEPLOY_API_TOKEN: token };
    const result = await deployctl(['pin', queue, packageName, '1.0.0'], env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /UNAUTHORIZED \(HTTP 401\)/);
    assert.ok(!result.stderr.includes(token));
    assert.ok(!result.stdout.includes(token));
  });

  test('--token overrides DEPLOY_API_TOKEN', async () => {
    const env = { ...plane.env, DEPLOY_API_TOKEN: 'wrong' };
    // One joined argument: a random token may start with "-", which would read as an option.
    const args = ['pin', 'other', packageName, '1.0.0', `--token=${plane.api.token}`];
    const result = await deployctl(args, env);
    assert.equal(result.code, 0, result.stderr);
  });

  test('unknown version exits 1 (404)', async () => {
    const result = await deployctl(['pin', queue, packageName, '9.9.9'], plane.env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /VERSION_NOT_FOUND \(HTTP 404\)/);
  });

  test('nothing to roll back exits 1 (409)', async () => {
    const result = await deployctl(['rollback', 'fresh-queue'], plane.env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /NOTHING_TO_ROLL_BACK \(HTTP 409\)/);
  });

  test('unreachable API exits 3', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/`;
    const result = await deployctl(['history', queue], { ...plane.env, DEPLOY_API_URL: url });
    assert.equal(result.code, 3);
    assert.match(result.stderr, /could not reach the deploy API at http:\/\/127\.0\.0\.1:\d+\//);
    assert.ok(!result.stderr.includes(plane.api.token));
  });

  test('--url overrides DEPLOY_API_URL', async () => {
    const env = { ...plane.env, DEPLOY_API_URL: `http://127.0.0.1:${await closedPort()}/` };
    const result = await deployctl(['history', queue, '--url', plane.api.url], env);
    assert.equal(result.code, 0, result.stderr);
  });

  test('pin --follow records the follow target', async () => {
    const result = await deployctl(
      ['pin', 'follow-queue', packageName, '^1.0.0', '--follow', '--min-age', '60'],
      plane.env,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /@acme\/payments@1\.1\.0 .* follows \^1\.0\.0, min age 60 s/);
    const state = await plane.client.getState('follow-queue');
    assert.ok(!state.notModified);
    assert.deepEqual(state.state.packages[0]?.follow, { spec: '^1.0.0', minAgeSeconds: 60 });

    const history = await deployctl(['history', 'follow-queue'], plane.env);
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, /@acme\/payments \^1\.0\.0 -> 1\.1\.0 \(following\)/);

    const status = await deployctl(['status', 'follow-queue'], plane.env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /auto-follow:/);
    assert.match(status.stdout, /@acme\/payments +follows \^1\.0\.0, min age 60 s/);
  });

  test('pin --min-age without --follow exits 2', async () => {
    const result = await deployctl(
      ['pin', 'follow-queue', packageName, '^1.0.0', '--min-age', '60'],
      plane.env,
    );
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--min-age needs --follow/);
  });

  test('pin --follow of an exact version exits 1', async () => {
    const result = await deployctl(
      ['pin', 'follow-queue', packageName, '1.0.0', '--follow'],
      plane.env,
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /INVALID_FOLLOW \(HTTP 400\)/);
  });
});
