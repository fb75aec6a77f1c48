// Package settings in the deploy API against a real Verdaccio and SQLite file: config
// stored with a pin, PATCH for settings alone, validation, diffs, history and rollback.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { startControlPlane, type ControlPlane } from './helpers/control-plane.js';
import { publish, setVersion, writePackage } from './helpers/packages.js';

const queue = 'billing';
const packagePath = `/v1/task-queues/${queue}/packages/@acme/invoices`;

describe('package settings in the deploy API', () => {
  let plane: ControlPlane;

  before(async () => {
    plane = await startControlPlane();
    const dir = await writePackage(
      { name: '@acme/invoices', version: '1.0.0', main: 'index.js' },
      { 'index.js': 'exports.issue = async () => "issued";\n' },
      plane.registry.url,
      plane.registry.publisherToken,
    );
    await publish(dir);
    await setVersion(dir, '1.1.0');
    await publish(dir);
  });

  after(async () => {
    await plane?.close();
  });

  /** Asserts that a rejected request left the history as it was. */
  const assertUnchanged = async (before: unknown) => {
    assert.deepEqual(await plane.client.revisions(queue), before);
  };

  test('pin without config returns no settings fields', async () => {
    const response = await plane.request('PUT', packagePath, { body: { version: '1.0.0' } });
    assert.equal(response.status, 200);
    assert.deepEqual(Object.keys(response.body.packages[0]).sort(), [
      'integrity',
      'name',
      'version',
    ]);
    assert.deepEqual(Object.keys(response.body.diff).sort(), ['added', 'changed', 'removed']);
  });

  test('pin with config stores it with sorted keys', async () => {
    const config = { timeoutMs: 2500, endpoint: 'http://127.0.0.1:9000', strict: true, tag: null };
    const response = await plane.request('PUT', packagePath, {
      body: { version: '1.0.0', config, reason: 'point at staging' },
    });
    assert.equal(response.status, 200);
    assert.equal(response.body.changed, true);
    assert.equal(response.body.revision, 2);
    assert.deepEqual(response.body.packages[0].config, config);
    assert.deepEqual(Object.keys(response.body.packages[0].config), [
      'endpoint',
      'strict',
      'tag',
      'timeoutMs',
    ]);
    assert.deepEqual(response.body.diff.changed, []);
    assert.deepEqual(response.body.diff.configured, [
      { name: '@acme/invoices', from: {}, to: { config } },
    ]);

    const state = await plane.request('GET', `/v1/task-queues/${queue}`);
    assert.deepEqual(state.body.packages[0].config, config);
    assert.equal(typeof state.body.packages[0].config.strict, 'boolean');
    assert.equal(state.headers.get('etag'), '"r2"');
  });

  test('same config again creates no revision', async () => {
    const response = await plane.request('PUT', packagePath, {
      body: {
        version: '1.0.0',
        config: { tag: null, strict: true, endpoint: 'http://127.0.0.1:9000', timeoutMs: 2500 },
      },
    });
    assert.equal(response.status, 200);
    assert.equal(response.body.changed, false);
    assert.equal(response.body.revision, 2);
  });

  test('pin of a new version keeps the config', async () => {
    const response = await plane.request('PUT', packagePath, { body: { version: '1.1.0' } });
    assert.equal(response.status, 200);
    assert.equal(response.body.packages[0].version, '1.1.0');
    assert.equal(response.body.packages[0].config.endpoint, 'http://127.0.0.1:9000');
    assert.deepEqual(response.body.diff.changed, [
      { name: '@acme/invoices', from: '1.0.0', to: '1.1.0' },
    ]);
    assert.equal(response.body.diff.configured, undefined);
  });

  const invalidConfigs: Array<[string, unknown, RegExp]> = [
    ['a nested object', { endpoint: { url: 'x' } }, /config\.endpoint/],
    ['an array value', { hosts: ['a', 'b'] }, /config\.hosts/],
    ['a key with a space', { 'bad key': 1 }, /config.*"bad key"/],
    ['a key starting with a digit', { '1st': 1 }, /config.*"1st"/],
    ['a string of 4097 characters', { blob: 'x'.repeat(4097) }, /config\.blob/],
    [
      '65 keys',
      Object.fromEntries(Array.from({ length: 65 }, (_, index) => [`k${index}`, index])),
      /config/,
    ],
    ['a list instead of an object', ['a'], /config/],
  ];
  for (const [label, config, field] of invalidConfigs) {
    test(`pin rejects config with ${label}`, async () => {
      const before = await plane.client.revisions(queue);
      const response = await plane.request('PUT', packagePath, {
        body: { version: '1.1.0', config },
      });
      assert.equal(response.status, 400);
      assert.equal(response.body.error.code, 'INVALID_REQUEST');
      assert.match(response.body.error.message, field);
      await assertUnchanged(before);
    });
  }

  test('config over 16384 bytes is rejected', async () => {
    const before = await plane.client.revisions(queue);
    const config = Object.fromEntries(
      Array.from({ length: 5 }, (_, index) => [`part${index}`, 'y'.repeat(4000)]),
    );
    const response = await plane.request('PUT', packagePath, {
      body: { version: '1.1.0', config },
    });
    assert.equal(response.status, 400);
    assert.equal(response.body.error.code, 'INVALID_PACKAGE_CONFIG');
    assert.match(response.body.error.message, /@acme\/invoices/);
    assert.match(response.body.error.message, /16384/);
    await assertUnchanged(before);
  });

  test('PATCH replaces the config as a configure revision', async () => {
    const response = await plane.request('PATCH', packagePath, {
      body: { config: { endpoint: 'http://127.0.0.1:9001' }, reason: 'move to the new host' },
    });
    assert.equal(response.status, 200);
    assert.equal(response.body.changed, true);
    assert.equal(response.body.packages[0].version, '1.1.0');
    assert.deepEqual(response.body.packages[0].config, { endpoint: 'http://127.0.0.1:9001' });
    assert.equal(response.body.diff.configured[0].to.config.endpoint, 'http://127.0.0.1:9001');
    assert.equal(response.body.diff.configured[0].from.config.timeoutMs, 2500);

    const [latest] = (await plane.client.revisions(queue, 1)).revisions;
    assert.equal(latest?.action, 'configure');
    assert.equal(latest?.reason, 'move to the new host');
    assert.deepEqual(latest?.package, { name: '@acme/invoices', spec: null });
    assert.deepEqual(latest?.packages[0]?.config, { endpoint: 'http://127.0.0.1:9001' });
  });

  test('PATCH disables activities, sorted, and the package', async () => {
    const some = await plane.client.configure(queue, '@acme/invoices', {
      disabledActivities: ['void', 'issue'],
    });
    assert.deepEqual(some.packages[0]?.disabledActivities, ['issue', 'void']);
    assert.deepEqual(some.packages[0]?.config, { endpoint: 'http://127.0.0.1:9001' });

    const all = await plane.client.configure(queue, '@acme/invoices', { disabled: true });
    assert.equal(all.packages[0]?.disabled, true);
    assert.deepEqual(all.diff.configured?.[0]?.to, {
      config: { endpoint: 'http://127.0.0.1:9001' },
      disabled: true,
      disabledActivities: ['issue', 'void'],
    });

    const enabled = await plane.client.configure(queue, '@acme/invoices', {
      disabled: false,
      disabledActivities: [],
    });
    assert.equal(enabled.packages[0]?.disabled, undefined);
    assert.equal(enabled.packages[0]?.disabledActivities, undefined);
  });

  test('PATCH with the same settings creates no revision', async () => {
    const before = await plane.client.revisions(queue);
    const result = await plane.client.configure(queue, '@acme/invoices', {
      config: { endpoint: 'http://127.0.0.1:9001' },
    });
    assert.equal(result.changed, false);
    await assertUnchanged(before);
  });

  const invalidPatches: Array<[string, unknown, string, RegExp]> = [
    ['no setting', { reason: 'nothing' }, 'INVALID_REQUEST', /config, disabled or disabled/],
    ['an unknown field', { enabled: true }, 'INVALID_REQUEST', /additional properties/],
    ['a version', { version: '1.0.0' }, 'INVALID_REQUEST', /additional properties/],
    ['an empty activity name', { disabledActivities: [''] }, 'INVALID_REQUEST', /disabledA/],
    ['a string for disabled', { disabled: 'yes' }, 'INVALID_REQUEST', /disabled/],
    ['a repeated activity', { disabledActivities: ['a', 'a'] }, 'INVALID_REQUEST', /duplicate/],
  ];
  for (const [label, body, code, message] of invalidPatches) {
    test(`PATCH rejects ${label}`, async () => {
      const before = await plane.client.revisions(queue);
      const response = await plane.request('PATCH', packagePath, { body });
      assert.equal(response.status, 400);
      assert.equal(response.body.error.code, code);
      assert.match(response.body.error.message, message);
      await assertUnchanged(before);
    });
  }

  test('PATCH of an unpinned package is 404', async () => {
    const response = await plane.request('PATCH', `/v1/task-queues/${queue}/packages/@acme/none`, {
      body: { disabled: true },
    });
    assert.equal(response.status, 404);
    assert.equal(response.body.error.code, 'PACKAGE_NOT_PINNED');
  });

  test('PATCH needs a token', async () => {
    const response = await plane.request('PATCH', packagePath, {
      body: { disabled: true },
      token: null,
    });
    assert.equal(response.status, 401);
  });

  test('PATCH honours If-Match and dry runs', async () => {
    const before = await plane.client.revisions(queue);
    const stale = await plane.request('PATCH', packagePath, {
      body: { disabled: true },
      headers: { 'if-match': '"r1"' },
    });
    assert.equal(stale.status, 412);
    const dry = await plane.client.configure(
      queue,
      '@acme/invoices',
      { disabled: true },
      { dryRun: true },
    );
    assert.equal(dry.dryRun, true);
    assert.equal(dry.packages[0]?.disabled, true);
    await assertUnchanged(before);
  });

  test('rollback restores the config of a revision', async () => {
    const history = await plane.client.revisions(queue);
    const withFirstConfig = history.revisions.find((record) => record.revision === 2);
    assert.ok(withFirstConfig);
    const result = await plane.client.rollback(queue, { revision: 2 });
    assert.equal(result.changed, true);
    assert.equal(result.packages[0]?.version, '1.0.0');
    assert.deepEqual(result.packages[0]?.config, withFirstConfig.packages[0]?.config);

    // The revision before has the same version but other settings: still a rollback.
    const previous = await plane.client.rollback(queue);
    assert.equal(previous.changed, true);
    assert.equal(previous.packages[0]?.version, '1.1.0');
    assert.deepEqual(previous.packages[0]?.config, { endpoint: 'http://127.0.0.1:9001' });
  });

  test('long-poll wakes on a PATCH', async () => {
    const current = await plane.request('GET', `/v1/task-queues/${queue}`);
    const etag = current.headers.get('etag') ?? '';
    const polling = plane.client.getState(queue, { etag, waitSeconds: 10 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await plane.client.configure(queue, '@acme/invoices', { config: { endpoint: 'polled' } });
    const result = await polling;
    assert.equal(result.notModified, false);
    if (result.notModified) return;
    assert.equal(result.state.packages[0]?.config?.endpoint, 'polled');
  });

  test('OpenAPI lists the PATCH route', async () => {
    const response = await plane.request('GET', '/openapi.json');
    assert.ok(response.body.paths['/v1/task-queues/{taskQueue}/packages/{*}'].patch);
  });

  const onSqlite = (process.env.TEST_DEPLOY_API_DATABASE ?? 'sqlite') === 'sqlite';
  test(
    'version 2 database gains the configure action',
    { skip: onSqlite ? false : 'an upgrade of SQLite files written by older versions' },
    async () => {
      const before = await plane.client.revisions(queue);
      await plane.api.close();
      // Put back the schema of version 2: the same table whose CHECK lacks 'configure'.
      const file = `${plane.dataDir}/deploy-api/deploy.db`;
      const db = new Database(file);
      const rows = db.prepare('SELECT * FROM revisions').all();
      db.exec(`DROP TABLE revisions;
      CREATE TABLE revisions (
        task_queue TEXT NOT NULL, revision INTEGER NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('pin', 'unpin', 'rollback')),
        actor TEXT NOT NULL, reason TEXT, created_at TEXT NOT NULL, packages TEXT NOT NULL,
        package_name TEXT, package_spec TEXT, rollback_to INTEGER,
        PRIMARY KEY (task_queue, revision)) STRICT;`);
      const insert = db.prepare(
        'INSERT INTO revisions VALUES (@task_queue, @revision, @action, @actor, @reason, ' +
          '@created_at, @packages, @package_name, @package_spec, @rollback_to)',
      );
      for (const row of rows as Array<Record<string, unknown>>) {
        insert.run(row.action === 'configure' ? { ...row, action: 'pin' } : row);
      }
      db.pragma('user_version = 2');
      db.close();

      await plane.restartApi();
      const migrated = await plane.client.revisions(queue);
      assert.equal(migrated.revisions.length, before.revisions.length);
      const result = await plane.client.configure(queue, '@acme/invoices', {
        config: { endpoint: 'after-migration' },
      });
      assert.equal(result.changed, true);
      assert.equal((await plane.client.revisions(queue, 1)).revisions[0]?.action, 'configure');
    },
  );
});
