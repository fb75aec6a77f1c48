import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteStore } from '../src/sqlite-store.js';

const dir = await mkdtemp(path.join(os.tmpdir(), 'sqlite-store-'));
after(() => rm(dir, { recursive: true, force: true }));

const pkg = (version: string) => ({ name: '@acme/a', version, integrity: `sha512-${version}` });

test('append numbers revisions per task queue', () => {
  const store = new SqliteStore(path.join(dir, 'numbers.db'));
  const draft = (version: string) => () => ({
    action: 'pin' as const,
    actor: 'test',
    reason: null,
    packages: [pkg(version)],
    package: { name: '@acme/a', spec: version },
    rollbackTo: null,
  });
  assert.equal(store.append('one', draft('1.0.0')).state.revision, 1);
  assert.equal(store.append('one', draft('1.1.0')).state.revision, 2);
  assert.equal(store.append('two', draft('1.0.0')).state.revision, 1);
  assert.deepEqual(
    store.revisions('one', 10).map((record) => record.revision),
    [2, 1],
  );
  store.close();
});

test('plan that throws leaves no revision behind', () => {
  const store = new SqliteStore(path.join(dir, 'throws.db'));
  assert.throws(() =>
    store.append('q', () => {
      throw new Error('rejected');
    }),
  );
  assert.equal(store.current('q').revision, 0);
  assert.deepEqual(store.revisions('q', 10), []);
  store.close();
});

test('plan returning null records nothing', () => {
  const store = new SqliteStore(path.join(dir, 'noop.db'));
  const result = store.append('q', () => null);
  assert.equal(result.record, null);
  assert.equal(result.state.revision, 0);
  store.close();
});

test('database from a newer schema is refused', () => {
  const file = path.join(dir, 'newer.db');
  const store = new SqliteStore(file);
  store.close();
  const raw = new Database(file);
  raw.pragma('user_version = 99');
  raw.close();
  assert.throws(() => new SqliteStore(file), /schema is version 99/);
});

test('append records an audit entry unless it is a dry run', () => {
  const store = new SqliteStore(path.join(dir, 'audit.db'));
  const draft = (version: string) => () => ({
    action: 'pin' as const,
    actor: 'ci',
    reason: 'release',
    packages: [pkg(version)],
    package: { name: '@acme/a', spec: `^${version}` },
    rollbackTo: null,
  });
  store.append('q', draft('1.0.0'));
  store.append('q', draft('1.1.0'), { dryRun: true });
  const entries = store.audit.list({ taskQueue: 'q', limit: 10 });
  assert.equal(entries.length, 1);
  assert.equal(entries[0]?.action, 'pin');
  assert.equal(entries[0]?.actor, 'ci');
  assert.equal(entries[0]?.target, '@acme/a@1.0.0');
  assert.deepEqual(entries[0]?.before, []);
  assert.deepEqual(entries[0]?.after, [pkg('1.0.0')]);
  store.close();
});

test('transaction rolls back a veto and its revisions together', () => {
  const store = new SqliteStore(path.join(dir, 'veto.db'));
  assert.throws(() =>
    store.transaction(() => {
      store.vetoes.insert({
        name: '@acme/a',
        version: '1.0.0',
        reason: 'bad',
        actor: 'admin',
        createdAt: new Date().toISOString(),
      });
      store.append('q', () => ({
        action: 'unpin',
        actor: 'admin',
        reason: 'veto',
        packages: [],
        package: { name: '@acme/a', spec: null },
        rollbackTo: null,
      }));
      throw new Error('fails after the revision');
    }),
  );
  assert.equal(store.vetoes.get('@acme/a', '1.0.0'), undefined);
  assert.equal(store.current('q').revision, 0);
  assert.deepEqual(store.audit.list({ limit: 10 }), []);
  store.close();
});

test('database of schema version 2 gains the new tables', () => {
  const file = path.join(dir, 'v2.db');
  const raw = new Database(file);
  raw.exec(
    `CREATE TABLE revisions (task_queue TEXT NOT NULL, revision INTEGER NOT NULL,
       action TEXT NOT NULL, actor TEXT NOT NULL, reason TEXT, created_at TEXT NOT NULL,
       packages TEXT NOT NULL, package_name TEXT, package_spec TEXT, rollback_to INTEGER,
       PRIMARY KEY (task_queue, revision)) STRICT`,
  );
  raw
    .prepare(
      `INSERT INTO revisions VALUES ('q', 1, 'pin', 'admin', NULL, ?, ?, '@acme/a', '1.0.0', NULL)`,
    )
    .run(new Date().toISOString(), JSON.stringify([pkg('1.0.0')]));
  raw.pragma('user_version = 2');
  raw.close();
  const store = new SqliteStore(file);
  assert.equal(store.current('q').revision, 1);
  assert.deepEqual(store.queuesRunning('@acme/a', '1.0.0'), ['q']);
  assert.deepEqual(store.tokens.list(), []);
  store.close();
});

test('database of schema version 3 gains the follow tables', () => {
  const file = path.join(dir, 'v3.db');
  const first = new SqliteStore(file);
  first.append('q', () => ({
    action: 'pin',
    actor: 'admin',
    reason: null,
    packages: [pkg('1.0.0')],
    package: { name: '@acme/a', spec: '1.0.0' },
    rollbackTo: null,
  }));
  first.close();
  const raw = new Database(file);
  raw.exec('DROP TABLE follow_skips; DROP TABLE follow_checks');
  raw.pragma('user_version = 3');
  raw.close();

  const store = new SqliteStore(file);
  assert.equal(store.current('q').revision, 1);
  assert.deepEqual(store.follows.skippedVersions('q', '@acme/a'), []);
  assert.deepEqual(store.follows.followingPins(), []);
  const reopened = new Database(file);
  assert.equal(reopened.pragma('user_version', { simple: true }), 4);
  reopened.close();
  store.close();
});

test('rollback draft records skips and a pin clears them', () => {
  const store = new SqliteStore(path.join(dir, 'skips.db'));
  const following = { ...pkg('1.1.0'), follow: { spec: '^1.0.0' } };
  store.append('q', () => ({
    action: 'pin',
    actor: 'admin',
    reason: null,
    packages: [following],
    package: { name: '@acme/a', spec: '^1.0.0' },
    rollbackTo: null,
  }));
  assert.deepEqual(
    store.follows.followingPins().map((entry) => [entry.taskQueue, entry.pinned.version]),
    [['q', '1.1.0']],
  );
  const draft = {
    action: 'rollback' as const,
    actor: 'admin',
    reason: null,
    packages: [pkg('1.0.0')],
    package: null,
    rollbackTo: 1,
    skipVersions: [{ name: '@acme/a', version: '1.1.0' }],
  };
  store.append('q', () => draft, { dryRun: true });
  assert.deepEqual(store.follows.skippedVersions('q', '@acme/a'), []);
  store.append('q', () => draft);
  assert.deepEqual(
    store.follows.skippedVersions('q', '@acme/a').map((entry) => [entry.version, entry.revision]),
    [['1.1.0', 2]],
  );
  store.append('q', () => ({
    action: 'pin',
    actor: 'admin',
    reason: null,
    packages: [pkg('1.1.0')],
    package: { name: '@acme/a', spec: '1.1.0' },
    rollbackTo: null,
    unskipVersions: [{ name: '@acme/a', version: '1.1.0' }],
  }));
  assert.deepEqual(store.follows.skippedVersions('q', '@acme/a'), []);
  store.close();
});
