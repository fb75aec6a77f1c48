// The deploy API against a real Verdaccio and a real SQLite file: resolution of specs,
// conditional GETs and long-polls, and the rejection of bad input without side effects.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane } from './helpers/control-plane.js';
import { publish, publishGenerated, setVersion, writePackage } from './helpers/packages.js';
import { npm } from './helpers/test-stack.js';

const queue = 'orders';

describe('deploy API', () => {
  let plane: ControlPlane;

  before(async () => {
    plane = await startControlPlane();
    const dir = await writePackage(
      { name: '@acme/payments', version: '1.0.0', main: 'index.js' },
      { 'index.js': 'exports.charge = async () => "charged";\n' },
      plane.registry.url,
      plane.registry.publisherToken,
    );
    await publish(dir);
    await setVersion(dir, '1.2.0');
    await publish(dir);
    await setVersion(dir, '2.0.0-beta.1');
    await npm(dir, ['publish', '--tag', 'beta']);
  });

  after(async () => {
    await plane?.close();
  });

  test('unknown queue is revision 0 with no packages', async () => {
    const response = await plane.request('GET', '/v1/task-queues/never-used');
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, { taskQueue: 'never-used', revision: 0, packages: [] });
    assert.equal(response.headers.get('etag'), '"r0"');
  });

  test('pin resolves a range to the exact version and integrity', async () => {
    const response = await plane.request(
      'PUT',
      `/v1/task-queues/${queue}/packages/@acme/payments`,
      {
        body: { version: '^1.0.0', reason: 'launch' },
      },
    );
    assert.equal(response.status, 200);
    assert.equal(response.body.revision, 1);
    assert.equal(response.body.changed, true);
    assert.equal(response.body.packages[0].version, '1.2.0');
    assert.match(response.body.packages[0].integrity, /^sha512-[A-Za-z0-9+/=]+$/);
  });

  test('pin accepts a URL-encoded scoped name and an exact version', async () => {
    const response = await plane.request(
      'PUT',
      `/v1/task-queues/${queue}/packages/@acme%2Fpayments`,
      {
        body: { version: '1.0.0' },
      },
    );
    assert.equal(response.status, 200);
    assert.equal(response.body.revision, 2);
    assert.equal(response.body.packages[0].version, '1.0.0');
  });

  test('pin resolves a dist-tag', async () => {
    const response = await plane.request(
      'PUT',
      `/v1/task-queues/${queue}/packages/@acme/payments`,
      {
        body: { version: 'beta' },
      },
    );
    assert.equal(response.status, 200);
    assert.equal(response.body.packages[0].version, '2.0.0-beta.1');
  });

  test('pinning the pinned version creates no revision', async () => {
    const response = await plane.request(
      'PUT',
      `/v1/task-queues/${queue}/packages/@acme/payments`,
      {
        body: { version: '2.0.0-beta.1' },
      },
    );
    assert.equal(response.status, 200);
    assert.equal(response.body.changed, false);
    assert.equal(response.body.revision, 3);
  });

  test('If-None-Match with the current ETag returns 304', async () => {
    const first = await plane.request('GET', `/v1/task-queues/${queue}`);
    const etag = first.headers.get('etag') ?? '';
    const second = await plane.request('GET', `/v1/task-queues/${queue}`, {
      headers: { 'if-none-match': etag },
    });
    assert.equal(second.status, 304);
    assert.equal(second.headers.get('etag'), etag);
    // A Content-Length of a body that is not sent stalls HTTP clients that trust it.
    assert.equal(second.headers.get('content-length'), null);
  });

  test('long-poll returns 304 when nothing changes in time', async () => {
    const started = Date.now();
    const result = await plane.client.getState(queue, { etag: '"r3"', waitSeconds: 1 });
    assert.equal(result.notModified, true);
    assert.ok(Date.now() - started >= 900, 'the request was held for about one second');
  });

  test('long-poll wakes on a change', async () => {
    const started = Date.now();
    const poll = plane.client.getState(queue, { etag: '"r3"', waitSeconds: 30 });
    setTimeout(() => void plane.client.pin(queue, '@acme/payments', '1.2.0'), 300);
    const result = await poll;
    assert.equal(result.notModified, false);
    assert.equal(result.notModified ? null : result.state.revision, 4);
    assert.ok(Date.now() - started < 5000, 'the poll returned right after the pin');
  });

  test('rejected requests leave the state as it was', async (t) => {
    const before = await plane.request('GET', `/v1/task-queues/${queue}/revisions`);
    const cases: Array<{
      name: string;
      method: string;
      path: string;
      body?: unknown;
      rawBody?: string;
      token?: string | null;
      status: number;
      code: string;
      message: RegExp;
    }> = [
      {
        name: 'version not in the registry',
        method: 'PUT',
        path: `/v1/task-queues/${queue}/packages/@acme/payments`,
        body: { version: '9.9.9' },
        status: 404,
        code: 'VERSION_NOT_FOUND',
        message: /"9\.9\.9" of @acme\/payments/,
      },
      {
        name: 'dist-tag not in the registry',
        method: 'PUT',
        path: `/v1/task-queues/${queue}/packages/@acme/payments`,
        body: { version: 'nightly' },
        status: 404,
        code: 'VERSION_NOT_FOUND',
        message: /dist-tag "nightly"/,
      },
      {
        name: 'package not in the registry',
        method: 'PUT',
        path: `/v1/task-queues/${queue}/packages/@acme/unknown`,
        body: { version: '1.0.0' },
        status: 404,
        code: 'PACKAGE_NOT_FOUND',
        message: /@acme\/unknown/,
      },
      {
        name: 'invalid package name',
        method: 'PUT',
        path: `/v1/task-queues/${queue}/packages/Not%20Valid`,
        body: { version: '1.0.0' },
        status: 400,
        code: 'INVALID_PACKAGE_NAME',
        message: /"Not Valid"/,
      },
      {
        name: 'version that does not parse',
        method: 'PUT',
        path: `/v1/task-queues/${queue}/packages/@acme/payments`,
        body: { version: '>>1' },
        status: 400,
        code: 'INVALID_VERSION_SPEC',
        message: /">>1"/,
      },
      {
        name: 'git spec',
        method: 'PUT',
        path: `/v1/task-queues/${queue}/packages/@acme/payments`,
        body: { version: 'github:acme/payments' },
        status: 400,
        code: 'INVALID_VERSION_SPEC',
        message: /cannot be pinned/,
      },
      {
        name: 'unknown body property',
        method: 'PUT',
        path: `/v1/task-queues/${queue}/packages/@acme/payments`,
        body: { version: '1.0.0', force: true },
        status: 400,
        code: 'INVALID_REQUEST',
        message: /additional properties/,
      },
      {
        name: 'missing version',
        method: 'PUT',
        path: `/v1/task-queues/${queue}/packages/@acme/payments`,
        body: { reason: 'no version' },
        status: 400,
        code: 'INVALID_REQUEST',
        message: /version/,
      },
      {
        name: 'body that is not JSON',
        method: 'PUT',
        path: `/v1/task-queues/${queue}/packages/@acme/payments`,
        rawBody: '{"version":',
        status: 400,
        code: 'INVALID_REQUEST',
        message: /JSON/i,
      },
      {
        name: 'body over the size limit',
        method: 'PUT',
        path: `/v1/task-queues/${queue}/packages/@acme/payments`,
        body: { version: '1.0.0', reason: 'x'.repeat(70_000) },
        status: 413,
        code: 'REQUEST_TOO_LARGE',
        message: /limit/i,
      },
      {
        name: 'invalid task queue',
        method: 'PUT',
        path: `/v1/task-queues/${encodeURIComponent('has space')}/packages/@acme/payments`,
        body: { version: '1.0.0' },
        status: 400,
        code: 'INVALID_TASK_QUEUE',
        message: /"has space"/,
      },
      {
        name: 'write without a token',
        method: 'PUT',
        path: `/v1/task-queues/${queue}/packages/@acme/payments`,
        body: { version: '1.0.0' },
        token: null,
        status: 401,
        code: 'UNAUTHORIZED',
        message: /Authorization/,
      },
      {
        name: 'write with a wrong token',
        method: 'DELETE',
        path: `/v1/task-queues/${queue}/packages/@acme/payments`,
        token: 'wrong',
        status: 401,
        code: 'UNAUTHORIZED',
        message: /invalid token/,
      },
      {
        name: 'unpin of a package that is not pinned',
        method: 'DELETE',
        path: `/v1/task-queues/${queue}/packages/@acme/other`,
        status: 404,
        code: 'PACKAGE_NOT_PINNED',
        message: /@acme\/other is not pinned/,
      },
      {
        name: 'rollback to a revision that does not exist',
        method: 'POST',
        path: `/v1/task-queues/${queue}/rollback`,
        body: { revision: 99 },
        status: 404,
        code: 'REVISION_NOT_FOUND',
        message: /revision 99/,
      },
      {
        name: 'rollback to revision 0',
        method: 'POST',
        path: `/v1/task-queues/${queue}/rollback`,
        body: { revision: 0 },
        status: 400,
        code: 'INVALID_REQUEST',
        message: /revision/,
      },
      {
        name: 'rollback of a queue with one revision',
        method: 'POST',
        path: '/v1/task-queues/fresh/rollback',
        status: 409,
        code: 'NOTHING_TO_ROLL_BACK',
        message: /no earlier/,
      },
      {
        name: 'worker report with an invalid worker id',
        method: 'PUT',
        path: `/v1/task-queues/${queue}/workers/${encodeURIComponent('bad id')}`,
        body: {
          state: 'serving',
          appliedRevision: 1,
          desiredRevision: 1,
          versions: { node: '20', temporalSdk: '1.24.0' },
          lastError: null,
        },
        status: 400,
        code: 'INVALID_REQUEST',
        message: /"bad id"/,
      },
      {
        name: 'worker report without a token',
        method: 'PUT',
        path: `/v1/task-queues/${queue}/workers/host-1`,
        body: { state: 'serving' },
        token: null,
        status: 401,
        code: 'UNAUTHORIZED',
        message: /Authorization/,
      },
      {
        name: 'long-poll longer than the maximum',
        method: 'GET',
        path: `/v1/task-queues/${queue}?wait=500`,
        status: 400,
        code: 'INVALID_REQUEST',
        message: /wait/,
      },
    ];
    for (const entry of cases) {
      const response = await plane.request(entry.method, entry.path, {
        ...(entry.body === undefined ? {} : { body: entry.body }),
        ...(entry.rawBody === undefined ? {} : { rawBody: entry.rawBody }),
        ...(entry.token === undefined ? {} : { token: entry.token }),
      });
      t.diagnostic(`${entry.name}: ${response.status} ${response.body?.error?.code}`);
      assert.equal(response.status, entry.status, entry.name);
      assert.equal(response.body?.error?.code, entry.code, entry.name);
      assert.match(response.body?.error?.message ?? '', entry.message, entry.name);
    }
    const afterwards = await plane.request('GET', `/v1/task-queues/${queue}/revisions`);
    assert.deepEqual(afterwards.body, before.body);
    const fresh = await plane.request('GET', '/v1/task-queues/fresh');
    assert.equal(fresh.body.revision, 0);
    assert.deepEqual((await plane.client.workers(queue)).workers, []);
  });

  test('worker report keeps null revisions', async () => {
    const report = {
      state: 'starting',
      appliedRevision: null,
      desiredRevision: null,
      versions: { node: '20.20.2', temporalSdk: '1.24.0' },
      lastError: null,
    };
    const sent = await plane.request('PUT', `/v1/task-queues/${queue}/workers/new-host`, {
      body: report,
    });
    assert.equal(sent.status, 204);
    const listed = await plane.request('GET', `/v1/task-queues/${queue}/workers`);
    const worker = (listed.body.workers as Array<Record<string, unknown>>).find(
      (entry) => entry.workerId === 'new-host',
    );
    // A coercing validator would have stored 0, which reads as revision 0 applied.
    assert.equal(worker?.appliedRevision, null);
    assert.equal(worker?.desiredRevision, null);
  });

  test('If-Match with a stale ETag returns 412', async () => {
    const before = await plane.client.revisions(queue);
    const current = (await plane.client.getState(queue)) as { etag: string };
    const stale = await plane.request('PUT', `/v1/task-queues/${queue}/packages/@acme/payments`, {
      body: { version: '1.0.0' },
      headers: { 'if-match': '"r1"' },
    });
    assert.equal(stale.status, 412);
    assert.equal(stale.body.error.code, 'PRECONDITION_FAILED');
    assert.match(stale.body.error.message, new RegExp(`ETag ${current.etag}`));
    assert.deepEqual(await plane.client.revisions(queue), before);

    const fresh = await plane.client.pin(queue, '@acme/payments', '1.0.0', undefined, {
      ifMatch: current.etag,
    });
    assert.equal(fresh.revision, (before.revisions[0]?.revision ?? 0) + 1);
  });

  test('dry run returns the revision and stores nothing', async () => {
    const before = await plane.client.revisions(queue);
    const response = await plane.request(
      'PUT',
      `/v1/task-queues/${queue}/packages/@acme/payments?dryRun=true`,
      { body: { version: '1.2.0', reason: 'try it' } },
    );
    assert.equal(response.status, 200);
    assert.equal(response.body.dryRun, true);
    assert.equal(response.body.changed, true);
    assert.equal(response.body.revision, (before.revisions[0]?.revision ?? 0) + 1);
    assert.deepEqual(response.body.diff, {
      added: [],
      removed: [],
      changed: [{ name: '@acme/payments', from: '1.0.0', to: '1.2.0' }],
    });
    assert.equal(response.headers.get('etag'), null);
    assert.deepEqual(await plane.client.revisions(queue), before);

    const rollback = await plane.client.rollback(queue, {}, { dryRun: true });
    assert.equal(rollback.dryRun, true);
    assert.deepEqual(await plane.client.revisions(queue), before);
  });

  test('50 concurrent pins create 50 revisions', async () => {
    const names = Array.from({ length: 50 }, (_, index) => `@acme/bulk-${index}`);
    for (const name of names) {
      await publishGenerated(
        plane.registry.url,
        plane.registry.publisherToken,
        { name, version: '1.0.0', main: 'index.js' },
        { 'index.js': 'exports.run = async () => 1;\n' },
      );
    }
    const results = await Promise.all(names.map((name) => plane.client.pin('bulk', name, '1.0.0')));
    assert.deepEqual(
      results.map((result) => result.revision).sort((a, b) => a - b),
      Array.from({ length: 50 }, (_, index) => index + 1),
    );
    const { revisions } = await plane.client.revisions('bulk');
    assert.equal(revisions.length, 50);
    for (const record of revisions) {
      const changed = record.package?.name;
      assert.ok(changed, `revision ${record.revision} names its package`);
      assert.ok(
        record.packages.some((entry) => entry.name === changed),
        `revision ${record.revision} contains its own change ${changed}`,
      );
      assert.equal(record.packages.length, record.revision, 'no earlier change was lost');
    }
    const audit = await plane.request('GET', '/v1/audit?taskQueue=bulk&limit=1000');
    assert.equal(audit.body.entries.length, 50, 'one audit entry per pin');
  });

  test('unpin removes the package in a new revision', async () => {
    const response = await plane.request(
      'DELETE',
      `/v1/task-queues/${queue}/packages/@acme/payments`,
      {
        body: { reason: 'retired' },
      },
    );
    assert.equal(response.status, 200);
    assert.deepEqual(response.body.packages, []);
    const history = await plane.client.revisions(queue, 1);
    assert.equal(history.revisions[0]?.action, 'unpin');
    assert.equal(history.revisions[0]?.reason, 'retired');
  });

  test('state survives a restart of the API', async () => {
    const before = await plane.client.revisions(queue);
    await plane.restartApi();
    const afterwards = await plane.client.revisions(queue);
    assert.deepEqual(afterwards, before);
  });

  test('OpenAPI document lists every route', async () => {
    const response = await plane.request('GET', '/openapi.json');
    assert.equal(response.status, 200);
    assert.deepEqual(Object.keys(response.body.paths).sort(), [
      '/v1/audit',
      '/v1/hooks/registry',
      '/v1/packages/{name}/versions/{version}/veto',
      '/v1/packages/{name}/vetoes',
      '/v1/task-queues/{taskQueue}',
      '/v1/task-queues/{taskQueue}/follow',
      '/v1/task-queues/{taskQueue}/packages/{*}',
      '/v1/task-queues/{taskQueue}/revisions',
      '/v1/task-queues/{taskQueue}/rollback',
      '/v1/task-queues/{taskQueue}/rollout',
      '/v1/task-queues/{taskQueue}/rollout/abort',
      '/v1/task-queues/{taskQueue}/rollout/pause',
      '/v1/task-queues/{taskQueue}/rollout/promote',
      '/v1/task-queues/{taskQueue}/rollout/resume',
      '/v1/task-queues/{taskQueue}/rollouts',
      '/v1/task-queues/{taskQueue}/rollouts/{revision}',
      '/v1/task-queues/{taskQueue}/workers',
      '/v1/task-queues/{taskQueue}/workers/{workerId}',
      '/v1/tokens',
      '/v1/tokens/{name}',
    ]);
    assert.ok(response.body.paths['/v1/task-queues/{taskQueue}/packages/{*}'].put);
    assert.ok(response.body.paths['/v1/task-queues/{taskQueue}/packages/{*}'].delete);
    // Every operation that needs a token declares bearer security and lists 401 and 403.
    for (const [route, operations] of Object.entries<Record<string, any>>(response.body.paths)) {
      for (const [method, operation] of Object.entries<any>(operations)) {
        if (!operation.security) continue;
        assert.deepEqual(operation.security, [{ bearerAuth: [] }], `${method} ${route}`);
        assert.ok(operation.responses['401'], `${method} ${route} lists 401`);
        assert.ok(operation.responses['403'], `${method} ${route} lists 403`);
      }
    }
    const packageRoute = response.body.paths['/v1/task-queues/{taskQueue}/packages/{*}'];
    assert.ok(packageRoute.put.security, 'pin needs a token');
    assert.ok(packageRoute.delete.security, 'unpin needs a token');
    assert.ok(response.body.paths['/v1/tokens'].post.security, 'token creation needs a token');
    assert.ok(response.body.paths['/v1/hooks/registry'].post.security, 'the hook needs a token');
    const pinBody = packageRoute.put.requestBody.content['application/json'].schema;
    assert.equal(pinBody.properties.follow.type, 'boolean');
    assert.equal(pinBody.properties.minAgeSeconds.type, 'integer');
    assert.ok(response.body.components.schemas.FollowTarget);
    assert.ok(response.body.components.securitySchemes.bearerAuth);
  });

  test('registry down returns 503 and changes nothing', async () => {
    const before = await plane.client.revisions(queue);
    await plane.registry.close();
    const response = await plane.request(
      'PUT',
      `/v1/task-queues/${queue}/packages/@acme/payments`,
      {
        body: { version: '1.0.0' },
      },
    );
    assert.equal(response.status, 503);
    assert.equal(response.body.error.code, 'REGISTRY_UNAVAILABLE');
    assert.deepEqual(await plane.client.revisions(queue), before);
  });
});
