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
