// Roles, vetoes, pin-time checks and the audit log of the deploy API, against a real
// Verdaccio and a real SQLite file.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AuditEntry, CreatedToken } from '@activity-deploy/deploy-api/client';
import { startControlPlane, type ControlPlane } from './helpers/control-plane.js';
import { copyTemplate, publish, publishGenerated } from './helpers/packages.js';

const activityModule = (names: string[]) =>
  names.map((name) => `exports.${name} = async () => ${JSON.stringify(name)};\n`).join('');

describe('deploy API guards', () => {
  let plane: ControlPlane;

  /** Publishes a package with one file that exports `activities`, plus extra manifest fields. */
  const publishPackage = (
    name: string,
    version: string,
    activities: string[],
    manifest: Record<string, unknown> = {},
  ) =>
    publishGenerated(
      plane.registry.url,
      plane.registry.publisherToken,
      { name, version, main: 'index.js', ...manifest },
      { 'index.js': activityModule(activities) },
    );

  const createToken = async (body: Record<string, unknown>): Promise<CreatedToken> => {
    const response = await plane.request('POST', '/v1/tokens', { body });
    assert.equal(response.status, 201, JSON.stringify(response.body));
    return response.body as CreatedToken;
  };

  const pin = (taskQueue: string, name: string, version: string, token?: string) =>
    plane.request('PUT', `/v1/task-queues/${taskQueue}/packages/${name}`, {
      body: { version },
      ...(token === undefined ? {} : { token }),
    });

  const audit = async (query = ''): Promise<AuditEntry[]> => {
    const response = await plane.request('GET', `/v1/audit${query}`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body.entries as AuditEntry[];
  };

  before(async () => {
    plane = await startControlPlane();
    for (const version of ['1.0.0', '1.1.0', '1.2.0']) {
      await publishPackage('@acme/alpha', version, ['alphaRun'], {
        temporalActivities: ['alphaRun'],
      });
    }
    await publishPackage('@acme/beta', '1.0.0', ['alphaRun', 'betaRun'], {
      temporalActivities: ['alphaRun', 'betaRun'],
    });
    await publishPackage('@acme/plain', '1.0.0', ['alphaRun']);
    await publishPackage('@acme/future-sdk', '1.0.0', ['futureRun'], {
      peerDependencies: { '@temporalio/activity': '^9.0.0' },
    });
    await publishPackage('@acme/future-node', '1.0.0', ['nodeRun'], {
      engines: { node: '>=99' },
    });
    await publishPackage('@acme/bad-list', '1.0.0', ['run'], { temporalActivities: 'run' });
  });

  after(async () => {
    await plane?.close();
  });

  test('bootstrap token is an admin named admin', async () => {
    const response = await plane.request('GET', '/v1/tokens');
    assert.equal(response.status, 200);
    assert.deepEqual(
      (response.body.tokens as Array<{ name: string; role: string; bootstrap: boolean }>).map(
        (token) => [token.name, token.role, token.bootstrap],
      ),
      [['admin', 'admin', true]],
    );
    assert.ok(!JSON.stringify(response.body).includes(plane.api.token), 'no secret listed');
  });

  test('deploy token acts only on its task queues', async () => {
    const deployer = await createToken({
      name: 'ci-staging',
      role: 'deploy',
      taskQueues: ['staging-*', 'qa'],
    });
    assert.match(deployer.token, /^[A-Za-z0-9_-]{43}$/);

    const allowed = await pin('staging-eu', '@acme/alpha', '1.0.0', deployer.token);
    assert.equal(allowed.status, 200, JSON.stringify(allowed.body));
    const history = await plane.client.revisions('staging-eu');
    assert.equal(history.revisions[0]?.actor, 'ci-staging');

    const denied = await pin('prod', '@acme/alpha', '1.0.0', deployer.token);
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.code, 'FORBIDDEN');
    assert.match(denied.body.error.message, /token ci-staging/);
    assert.match(denied.body.error.message, /role deploy/);
    assert.match(denied.body.error.message, /task queue prod/);

    const tokenAdmin = await plane.request('POST', '/v1/tokens', {
      body: { name: 'sneaky', role: 'admin' },
      token: deployer.token,
    });
    assert.equal(tokenAdmin.status, 403);
    assert.match(tokenAdmin.body.error.message, /needs role admin/);

    const veto = await plane.request('POST', '/v1/packages/@acme/alpha/versions/1.0.0/veto', {
      body: { reason: 'try' },
      token: deployer.token,
    });
    assert.equal(veto.status, 403);
    assert.equal(
      (await plane.request('GET', '/v1/packages/@acme/alpha/vetoes')).body.vetoes.length,
      0,
    );
  });

  test('read token reports workers but may not pin', async () => {
    const reader = await createToken({ name: 'worker-qa', role: 'read', taskQueues: ['qa'] });
    const report = {
      state: 'serving',
      appliedRevision: 0,
      desiredRevision: 0,
      versions: { node: process.versions.node, temporalSdk: '1.24.0' },
      lastError: null,
    };
    const reported = await plane.request('PUT', '/v1/task-queues/qa/workers/host-1', {
      body: report,
      token: reader.token,
    });
    assert.equal(reported.status, 204);
    const elsewhere = await plane.request('PUT', '/v1/task-queues/prod/workers/host-1', {
      body: report,
      token: reader.token,
    });
    assert.equal(elsewhere.status, 403);
    assert.match(elsewhere.body.error.message, /worker-qa.*task queue prod/);

    const pinned = await pin('qa', '@acme/alpha', '1.0.0', reader.token);
    assert.equal(pinned.status, 403);
    assert.match(pinned.body.error.message, /has role read.*needs role deploy/);

    const ownAudit = await plane.request('GET', '/v1/audit?taskQueue=qa', { token: reader.token });
    assert.equal(ownAudit.status, 200);
    const allAudit = await plane.request('GET', '/v1/audit', { token: reader.token });
    assert.equal(allAudit.status, 403);
  });

  test('deleted token is rejected with 401', async () => {
    const temporary = await createToken({ name: 'temporary', role: 'deploy' });
    const deleted = await plane.request('DELETE', '/v1/tokens/temporary', {
      body: { reason: 'rotated' },
    });
    assert.equal(deleted.status, 200);
    assert.equal(deleted.body.name, 'temporary');
    const rejected = await pin('staging-eu', '@acme/alpha', '1.1.0', temporary.token);
    assert.equal(rejected.status, 401);
    assert.equal(rejected.body.error.code, 'UNAUTHORIZED');

    const bootstrap = await plane.request('DELETE', '/v1/tokens/admin');
    assert.equal(bootstrap.status, 409);
    assert.equal(bootstrap.body.error.code, 'BOOTSTRAP_TOKEN_PROTECTED');
    const missing = await plane.request('DELETE', '/v1/tokens/temporary');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'TOKEN_NOT_FOUND');
    const duplicate = await plane.request('POST', '/v1/tokens', {
      body: { name: 'ci-staging', role: 'read' },
    });
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.body.error.code, 'TOKEN_EXISTS');
  });

  test('declared activity names clash across packages', async () => {
    assert.equal((await pin('clash', '@acme/alpha', '1.0.0')).status, 200);
    const clash = await pin('clash', '@acme/beta', '1.0.0');
    assert.equal(clash.status, 409);
    assert.equal(clash.body.error.code, 'ACTIVITY_NAME_CLASH');
    assert.match(clash.body.error.message, /activity alphaRun/);
    assert.match(clash.body.error.message, /@acme\/beta@1\.0\.0/);
    assert.match(clash.body.error.message, /@acme\/alpha@1\.0\.0/);

    // A package without a declared list passes; the worker finds a clash when it loads it.
    assert.equal((await pin('clash', '@acme/plain', '1.0.0')).status, 200);
    // Moving alpha to another version keeps its own names; it clashes with nothing.
    assert.equal((await pin('clash', '@acme/alpha', '1.2.0')).status, 200);

    const badList = await pin('clash', '@acme/bad-list', '1.0.0');
    assert.equal(badList.status, 409);
    assert.equal(badList.body.error.code, 'INCOMPATIBLE_PACKAGE');
    assert.match(badList.body.error.message, /@acme\/bad-list@1\.0\.0 declares temporalActivities/);
  });

  test('template build declares its activities for the clash check', async () => {
    const dir = await copyTemplate(plane.registry.url, plane.registry.publisherToken);
    await publish(dir);
    const manifest = await fetch(new URL('@acme%2fgreetings/1.0.0', plane.registry.url));
    const published = (await manifest.json()) as { temporalActivities?: string[] };
    assert.deepEqual(published.temporalActivities, ['greet', 'greetSlowly']);

    assert.equal((await pin('template', '@acme/greetings', '1.0.0')).status, 200);
    await publishPackage('@acme/copycat', '1.0.0', ['greet'], { temporalActivities: ['greet'] });
    const clash = await pin('template', '@acme/copycat', '1.0.0');
    assert.equal(clash.status, 409);
    assert.equal(clash.body.error.code, 'ACTIVITY_NAME_CLASH');
    assert.match(
      clash.body.error.message,
      /activity greet is declared by both @acme\/copycat@1\.0\.0 and @acme\/greetings@1\.0\.0/,
    );
  });

  test('package the workers cannot run is rejected', async () => {
    const report = {
      state: 'serving',
      appliedRevision: 0,
      desiredRevision: 0,
      versions: { node: process.versions.node, temporalSdk: '1.24.0' },
      lastError: null,
    };
    const reported = await plane.request('PUT', '/v1/task-queues/compat/workers/host-7', {
      body: report,
    });
    assert.equal(reported.status, 204);

    const sdk = await pin('compat', '@acme/future-sdk', '1.0.0');
    assert.equal(sdk.status, 409);
    assert.equal(sdk.body.error.code, 'INCOMPATIBLE_PACKAGE');
    assert.match(
      sdk.body.error.message,
      /@acme\/future-sdk@1\.0\.0 needs @temporalio\/activity \^9\.0\.0/,
    );
    assert.match(sdk.body.error.message, /worker host-7 .* SDK 1\.24\.0/);

    const node = await pin('compat', '@acme/future-node', '1.0.0');
    assert.equal(node.status, 409);
    assert.equal(node.body.error.code, 'INCOMPATIBLE_PACKAGE');
    assert.match(node.body.error.message, /Node\.js >=99/);
    assert.match(node.body.error.message, new RegExp(`Node\\.js ${process.versions.node}`));

    // A queue without worker reports has nothing to check against.
    assert.equal((await pin('no-workers', '@acme/future-sdk', '1.0.0')).status, 200);
    assert.equal((await plane.client.revisions('compat')).revisions.length, 0);
  });

  test('veto rolls back every queue that runs the version', async () => {
    assert.equal((await pin('veto-a', '@acme/alpha', '1.0.0')).status, 200);
    assert.equal((await pin('veto-a', '@acme/alpha', '1.1.0')).status, 200);
    assert.equal((await pin('veto-b', '@acme/alpha', '1.1.0')).status, 200);
    const poll = plane.client.getState('veto-a', { etag: '"r2"', waitSeconds: 30 });

    const response = await plane.request('POST', '/v1/packages/@acme/alpha/versions/1.1.0/veto', {
      body: { reason: 'corrupts orders' },
    });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.name, '@acme/alpha');
    assert.equal(response.body.version, '1.1.0');
    assert.equal(response.body.actor, 'admin');
    assert.equal(response.body.reason, 'corrupts orders');
    assert.deepEqual(response.body.rolledBack, [
      { taskQueue: 'veto-a', revision: 3 },
      { taskQueue: 'veto-b', revision: 2 },
    ]);

    const woke = await poll;
    assert.equal(woke.notModified, false);

    const [rollback] = (await plane.client.revisions('veto-a', 1)).revisions;
    assert.equal(rollback?.action, 'rollback');
    assert.equal(rollback?.rollbackTo, 1);
    assert.equal(rollback?.actor, 'admin');
    assert.match(rollback?.reason ?? '', /veto of @acme\/alpha@1\.1\.0: corrupts orders/);
    assert.deepEqual(
      rollback?.packages.map((entry) => entry.version),
      ['1.0.0'],
    );
    const [unpin] = (await plane.client.revisions('veto-b', 1)).revisions;
    assert.equal(unpin?.action, 'unpin');
    assert.deepEqual(unpin?.packages, []);
  });

  test('vetoed version stays out of pins and rollbacks', async () => {
    const exact = await pin('veto-c', '@acme/alpha', '1.1.0');
    assert.equal(exact.status, 409);
    assert.equal(exact.body.error.code, 'VERSION_VETOED');
    assert.match(exact.body.error.message, /@acme\/alpha@1\.1\.0.*corrupts orders/);

    const onlyVetoed = await pin('veto-c', '@acme/alpha', '~1.1.0');
    assert.equal(onlyVetoed.status, 409);
    assert.equal(onlyVetoed.body.error.code, 'VERSION_VETOED');

    const range = await pin('veto-c', '@acme/alpha', '>=1.0.0 <1.2.0');
    assert.equal(range.status, 200);
    assert.equal(range.body.packages[0].version, '1.0.0', 'the range skipped 1.1.0');

    const rollback = await plane.request('POST', '/v1/task-queues/veto-a/rollback', {
      body: { revision: 2 },
    });
    assert.equal(rollback.status, 409);
    assert.equal(rollback.body.error.code, 'VERSION_VETOED');
    assert.match(
      rollback.body.error.message,
      /revision 2 of task queue veto-a.*@acme\/alpha@1\.1\.0/,
    );

    const again = await plane.request('POST', '/v1/packages/@acme%2Falpha/versions/1.1.0/veto', {
      body: { reason: 'twice' },
    });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'VERSION_VETOED');

    for (const path of ['/v1/packages/@acme/alpha/vetoes', '/v1/packages/@acme%2Falpha/vetoes']) {
      const list = await plane.request('GET', path, { token: null });
      assert.equal(list.status, 200, path);
      assert.equal(list.body.name, '@acme/alpha');
      assert.deepEqual(
        (list.body.vetoes as Array<{ version: string }>).map((veto) => veto.version),
        ['1.1.0'],
      );
    }
  });

  test('lifted veto lets the version be pinned again', async () => {
    const lifted = await plane.request('DELETE', '/v1/packages/@acme%2Falpha/versions/1.1.0/veto', {
      body: { reason: 'fixed upstream' },
    });
    assert.equal(lifted.status, 200, JSON.stringify(lifted.body));
    assert.equal(lifted.body.version, '1.1.0');
    assert.equal((await pin('veto-c', '@acme/alpha', '1.1.0')).status, 200);
    const missing = await plane.request('DELETE', '/v1/packages/@acme/alpha/versions/1.1.0/veto');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'VETO_NOT_FOUND');
  });

  test('audit lists every write with before and after', async () => {
    const dryRun = await plane.request(
      'PUT',
      '/v1/task-queues/veto-c/packages/@acme/alpha?dryRun=true',
      { body: { version: '1.2.0' } },
    );
    assert.equal(dryRun.status, 200);

    const entries = await audit('?limit=1000');
    const actions = entries.map((entry) => entry.action);
    for (const action of [
      'pin',
      'unpin',
      'rollback',
      'veto',
      'veto-lift',
      'token-create',
      'token-delete',
    ]) {
      assert.ok(actions.includes(action as AuditEntry['action']), `audit has a ${action} entry`);
    }
    assert.ok(
      entries.every((entry, index) => index === 0 || entry.id < (entries[index - 1]?.id ?? 0)),
      'newest first',
    );
    const text = JSON.stringify(entries);
    assert.ok(!text.includes(plane.api.token), 'no secret in the audit log');

    const queueEntries = await audit('?taskQueue=veto-c');
    assert.deepEqual(
      queueEntries.map((entry) => [entry.action, entry.target]),
      [
        ['pin', '@acme/alpha@1.1.0'],
        ['pin', '@acme/alpha@1.0.0'],
      ],
      'the dry run is not recorded',
    );
    const [latest] = queueEntries;
    assert.equal(latest?.actor, 'admin');
    assert.deepEqual(
      (latest?.before as Array<{ version: string }>).map((entry) => entry.version),
      ['1.0.0'],
    );
    assert.deepEqual(
      (latest?.after as Array<{ version: string }>).map((entry) => entry.version),
      ['1.1.0'],
    );

    const vetoRollback = (await audit('?taskQueue=veto-a'))[0];
    assert.equal(vetoRollback?.action, 'rollback');
    assert.equal(vetoRollback?.target, 'revision 1');
    const created = entries.find((entry) => entry.action === 'token-create');
    assert.equal((created?.after as { role?: string } | null)?.role !== undefined, true);
    assert.equal('token' in (created?.after as object), false);
  });

  test('rejected requests change no state', async (t) => {
    await publishPackage('@acme/gamma', '1.0.0', ['gammaRun'], {
      temporalActivities: ['gammaRun'],
    });
    assert.equal((await pin('table', '@acme/gamma', '1.0.0')).status, 200);
    const deployer = await createToken({
      name: 'table-deployer',
      role: 'deploy',
      taskQueues: ['table'],
    });

    const snapshot = async () => ({
      revisions: await plane.client.revisions('table'),
      other: await plane.client.revisions('elsewhere'),
      vetoes: (await plane.request('GET', '/v1/packages/@acme/gamma/vetoes')).body,
      tokens: (await plane.request('GET', '/v1/tokens')).body,
      audit: await audit('?limit=1000'),
    });
    const before = await snapshot();

    const cases: Array<{
      name: string;
      method: string;
      path: string;
      body?: unknown;
      token?: string | null;
      status: number;
      code: string;
      message: RegExp;
    }> = [
      {
        name: 'pin of an invalid package name',
        method: 'PUT',
        path: '/v1/task-queues/table/packages/Bad%20Name',
        body: { version: '1.0.0' },
        status: 400,
        code: 'INVALID_PACKAGE_NAME',
        message: /"Bad Name"/,
      },
      {
        name: 'pin of a range that does not parse',
        method: 'PUT',
        path: '/v1/task-queues/table/packages/@acme/gamma',
        body: { version: '^^1' },
        status: 400,
        code: 'INVALID_VERSION_SPEC',
        message: /"\^\^1"/,
      },
      {
        name: 'pin with an unknown body property',
        method: 'PUT',
        path: '/v1/task-queues/table/packages/@acme/gamma',
        body: { version: '1.0.0', force: true },
        status: 400,
        code: 'INVALID_REQUEST',
        message: /"force"/,
      },
      {
        name: 'pin with a number where the reason is text',
        method: 'PUT',
        path: '/v1/task-queues/table/packages/@acme/gamma',
        body: { version: '1.0.0', reason: 7 },
        status: 400,
        code: 'INVALID_REQUEST',
        message: /body\.reason/,
      },
      {
        name: 'pin with a body over the size limit',
        method: 'PUT',
        path: '/v1/task-queues/table/packages/@acme/gamma',
        body: { version: '1.0.0', reason: 'x'.repeat(70_000) },
        status: 413,
        code: 'REQUEST_TOO_LARGE',
        message: /limit/,
      },
      {
        name: 'pin with an empty version',
        method: 'PUT',
        path: '/v1/task-queues/table/packages/@acme/gamma',
        body: { version: '' },
        status: 400,
        code: 'INVALID_REQUEST',
        message: /body\.version/,
      },
      {
        name: 'pin by a deploy token outside its queues',
        method: 'PUT',
        path: '/v1/task-queues/elsewhere/packages/@acme/gamma',
        body: { version: '1.0.0' },
        token: deployer.token,
        status: 403,
        code: 'FORBIDDEN',
        message: /table-deployer.*elsewhere/,
      },
      {
        name: 'unpin of an invalid package name',
        method: 'DELETE',
        path: '/v1/task-queues/table/packages/.hidden',
        status: 400,
        code: 'INVALID_PACKAGE_NAME',
        message: /"\.hidden"/,
      },
      {
        name: 'unpin with an unknown body property',
        method: 'DELETE',
        path: '/v1/task-queues/table/packages/@acme/gamma',
        body: { reason: 'x', when: 'now' },
        status: 400,
        code: 'INVALID_REQUEST',
        message: /"when"/,
      },
      {
        name: 'rollback to a revision that does not exist',
        method: 'POST',
        path: '/v1/task-queues/table/rollback',
        body: { revision: 42 },
        status: 404,
        code: 'REVISION_NOT_FOUND',
        message: /revision 42/,
      },
      {
        name: 'rollback with a revision that is not a number',
        method: 'POST',
        path: '/v1/task-queues/table/rollback',
        body: { revision: 'latest' },
        status: 400,
        code: 'INVALID_REQUEST',
        message: /body\.revision/,
      },
      {
        name: 'token with an invalid role',
        method: 'POST',
        path: '/v1/tokens',
        body: { name: 'bad-role', role: 'owner' },
        status: 400,
        code: 'INVALID_REQUEST',
        message: /body\.role.*read, deploy, admin/,
      },
      {
        name: 'token with an invalid name',
        method: 'POST',
        path: '/v1/tokens',
        body: { name: 'has space', role: 'read' },
        status: 400,
        code: 'INVALID_REQUEST',
        message: /body\.name/,
      },
      {
        name: 'token with an invalid task queue pattern',
        method: 'POST',
        path: '/v1/tokens',
        body: { name: 'bad-queue', role: 'deploy', taskQueues: ['a/b'] },
        status: 400,
        code: 'INVALID_REQUEST',
        message: /body\.taskQueues\.0/,
      },
      {
        name: 'admin token with task queues',
        method: 'POST',
        path: '/v1/tokens',
        body: { name: 'scoped-admin', role: 'admin', taskQueues: ['table'] },
        status: 400,
        code: 'INVALID_REQUEST',
        message: /body\.taskQueues/,
      },
      {
        name: 'token with an unknown property',
        method: 'POST',
        path: '/v1/tokens',
        body: { name: 'extra', role: 'read', expires: '2030' },
        status: 400,
        code: 'INVALID_REQUEST',
        message: /"expires"/,
      },
      {
        name: 'token created by a deploy token',
        method: 'POST',
        path: '/v1/tokens',
        body: { name: 'escalate', role: 'admin' },
        token: deployer.token,
        status: 403,
        code: 'FORBIDDEN',
        message: /table-deployer.*admin/,
      },
      {
        name: 'delete of a token that does not exist',
        method: 'DELETE',
        path: '/v1/tokens/nobody',
        status: 404,
        code: 'TOKEN_NOT_FOUND',
        message: /"nobody"/,
      },
      {
        name: 'veto without a reason',
        method: 'POST',
        path: '/v1/packages/@acme/gamma/versions/1.0.0/veto',
        body: {},
        status: 400,
        code: 'INVALID_REQUEST',
        message: /reason/,
      },
      {
        name: 'veto of a range',
        method: 'POST',
        path: '/v1/packages/@acme/gamma/versions/%5E1.0.0/veto',
        body: { reason: 'bad' },
        status: 400,
        code: 'INVALID_VERSION_SPEC',
        message: /"\^1\.0\.0"/,
      },
      {
        name: 'veto of an invalid package name',
        method: 'POST',
        path: '/v1/packages/@Acme/Gamma/versions/1.0.0/veto',
        body: { reason: 'bad' },
        status: 400,
        code: 'INVALID_PACKAGE_NAME',
        message: /"@Acme\/Gamma"/,
      },
      {
        name: 'veto with an unknown property',
        method: 'POST',
        path: '/v1/packages/@acme/gamma/versions/1.0.0/veto',
        body: { reason: 'bad', force: true },
        status: 400,
        code: 'INVALID_REQUEST',
        message: /"force"/,
      },
      {
        name: 'veto over the size limit',
        method: 'POST',
        path: '/v1/packages/@acme/gamma/versions/1.0.0/veto',
        body: { reason: 'x'.repeat(70_000) },
        status: 413,
        code: 'REQUEST_TOO_LARGE',
        message: /limit/,
      },
      {
        name: 'veto by a deploy token',
        method: 'POST',
        path: '/v1/packages/@acme/gamma/versions/1.0.0/veto',
        body: { reason: 'bad' },
        token: deployer.token,
        status: 403,
        code: 'FORBIDDEN',
        message: /table-deployer.*role admin/,
      },
      {
        name: 'veto without a token',
        method: 'POST',
        path: '/v1/packages/@acme/gamma/versions/1.0.0/veto',
        body: { reason: 'bad' },
        token: null,
        status: 401,
        code: 'UNAUTHORIZED',
        message: /Authorization/,
      },
      {
        name: 'lift of a veto that does not exist',
        method: 'DELETE',
        path: '/v1/packages/@acme/gamma/versions/1.0.0/veto',
        status: 404,
        code: 'VETO_NOT_FOUND',
        message: /@acme\/gamma@1\.0\.0 is not vetoed/,
      },
      {
        name: 'audit with an invalid task queue',
        method: 'GET',
        path: '/v1/audit?taskQueue=a%20b',
        status: 400,
        code: 'INVALID_TASK_QUEUE',
        message: /"a b"/,
      },
      {
        name: 'audit with an unknown query parameter',
        method: 'GET',
        path: '/v1/audit?actor=admin',
        status: 400,
        code: 'INVALID_REQUEST',
        message: /"actor"/,
      },
      {
        name: 'audit without a token',
        method: 'GET',
        path: '/v1/audit',
        token: null,
        status: 401,
        code: 'UNAUTHORIZED',
        message: /Authorization/,
      },
      {
        name: 'vetoes of an invalid package name',
        method: 'GET',
        path: '/v1/packages/NOPE/vetoes',
        status: 400,
        code: 'INVALID_PACKAGE_NAME',
        message: /"NOPE"/,
      },
    ];
    for (const entry of cases) {
      const response = await plane.request(entry.method, entry.path, {
        ...(entry.body === undefined ? {} : { body: entry.body }),
        ...(entry.token === undefined ? {} : { token: entry.token }),
      });
      t.diagnostic(`${entry.name}: ${response.status} ${response.body?.error?.message}`);
      assert.equal(response.status, entry.status, entry.name);
      assert.equal(response.body?.error?.code, entry.code, entry.name);
      assert.match(response.body?.error?.message ?? '', entry.message, entry.name);
      assert.deepEqual(await snapshot(), before, `${entry.name} changed no state`);
    }
  });
});
