import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createPostgresDatabase } from '../src/store/create-database.js';
import { Store, type ChangeMessage, type RevisionPlan } from '../src/store/store.js';

// Runs on the database that `npm test` chose for this pass (TEST_DEPLOY_API_DATABASE).
const database = process.env.TEST_DEPLOY_API_DATABASE ?? 'sqlite';
const onPostgres = database === 'postgres';
const postgresUrl = process.env.TEST_POSTGRES_URL;
if (onPostgres && !postgresUrl)
  throw new Error('TEST_DEPLOY_API_DATABASE=postgres needs TEST_POSTGRES_URL');

const dir = await mkdtemp(path.join(os.tmpdir(), 'store-'));
after(() => rm(dir, { recursive: true, force: true }));

/** Returns where a new, empty store lives: a new SQLite file or a new PostgreSQL database. */
async function newLocation(name: string) {
  if (onPostgres) {
    return {
      kind: 'postgres' as const,
      connectionString: await createPostgresDatabase(postgresUrl!, 'store'),
      poolMax: 4,
      onError: (error: Error) => {
        throw error;
      },
    };
  }
  return { kind: 'sqlite' as const, file: path.join(dir, `${name}.db`) };
}

const openStore = async (name: string) => Store.open(await newLocation(name));

const pkg = (version: string) => ({ name: '@acme/a', version, integrity: `sha512-${version}` });

const pinDraft =
  (version: string, actor = 'test'): RevisionPlan =>
  () => ({
    action: 'pin' as const,
    actor,
    reason: null,
    packages: [pkg(version)],
    package: { name: '@acme/a', spec: version },
    rollbackTo: null,
  });

test('append numbers revisions per task queue', async () => {
  const store = await openStore('numbers');
  assert.equal((await store.append('one', pinDraft('1.0.0'))).state.revision, 1);
  assert.equal((await store.append('one', pinDraft('1.1.0'))).state.revision, 2);
  assert.equal((await store.append('two', pinDraft('1.0.0'))).state.revision, 1);
  assert.deepEqual(
    (await store.revisions('one', 10)).map((record) => record.revision),
    [2, 1],
  );
  assert.deepEqual((await store.current('one')).packages, [pkg('1.1.0')]);
  await store.close();
});

test('plan that throws leaves no revision behind', async () => {
  const store = await openStore('throws');
  await assert.rejects(
    store.append('q', () => {
      throw new Error('rejected');
    }),
    /rejected/,
  );
  assert.equal((await store.current('q')).revision, 0);
  assert.deepEqual(await store.revisions('q', 10), []);
  assert.deepEqual(await store.audit.list({ limit: 10 }), []);
  await store.close();
});

test('plan returning null records nothing', async () => {
  const store = await openStore('noop');
  const result = await store.append('q', () => null);
  assert.equal(result.record, null);
  assert.equal(result.state.revision, 0);
  await store.close();
});

test('concurrent appends lose no write', async () => {
  const location = await newLocation('concurrent');
  const first = await Store.open(location);
  // On PostgreSQL the writers are two stores, as two API replicas would be. A SQLite file
  // serves one API process, whose writes share one store.
  const second = onPostgres ? await Store.open(location) : first;
  // Each plan reads the state inside its transaction and adds one package, so a lost
  // update would show as a missing package or a duplicate revision number.
  const add =
    (index: number): RevisionPlan =>
    (current) => ({
      action: 'pin',
      actor: `writer-${index}`,
      reason: null,
      packages: [
        ...current.packages,
        { name: `@acme/p${index}`, version: '1.0.0', integrity: 'sha512-x' },
      ],
      package: { name: `@acme/p${index}`, spec: '1.0.0' },
      rollbackTo: null,
    });
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, index) =>
      (index % 2 === 0 ? first : second).append('q', add(index)),
    ),
  );
  const revisions = results.map((result) => result.state.revision).sort((a, b) => a - b);
  assert.deepEqual(
    revisions,
    Array.from({ length: 20 }, (_, index) => index + 1),
  );
  const state = await first.current('q');
  assert.equal(state.packages.length, 20);
  assert.equal((await second.audit.list({ taskQueue: 'q', limit: 100 })).length, 20);
  await first.close();
  if (second !== first) await second.close();
});

test('database from a newer schema is refused', async () => {
  const location = await newLocation('newer');
  const store = await Store.open(location);
  await store.close();
  if (location.kind === 'sqlite') {
    const raw = new Database(location.file);
    raw.pragma('user_version = 99');
    raw.close();
  } else {
    const raw = new pg.Client({ connectionString: location.connectionString });
    await raw.connect();
    await raw.query('UPDATE schema_version SET version = 99');
    await raw.end();
  }
  await assert.rejects(Store.open(location), /schema is version 99/);
});

test('opening a store again keeps its data', async () => {
  const location = await newLocation('reopen');
  const store = await Store.open(location);
  await store.append('q', pinDraft('1.0.0'));
  await store.close();
  const reopened = await Store.open(location);
  assert.equal((await reopened.current('q')).revision, 1);
  await reopened.close();
});

test('append records an audit entry unless it is a dry run', async () => {
  const store = await openStore('audit');
  const draft =
    (version: string): RevisionPlan =>
    () => ({
      action: 'pin' as const,
      actor: 'ci',
      reason: 'release',
      packages: [pkg(version)],
      package: { name: '@acme/a', spec: `^${version}` },
      rollbackTo: null,
    });
  await store.append('q', draft('1.0.0'));
  const dryRun = await store.append('q', draft('1.1.0'), { dryRun: true });
  assert.equal(dryRun.state.revision, 2);
  assert.equal((await store.current('q')).revision, 1);
  const entries = await store.audit.list({ taskQueue: 'q', limit: 10 });
  assert.equal(entries.length, 1);
  assert.equal(entries[0]?.action, 'pin');
  assert.equal(entries[0]?.actor, 'ci');
  assert.equal(entries[0]?.target, '@acme/a@1.0.0');
  assert.deepEqual(entries[0]?.before, []);
  assert.deepEqual(entries[0]?.after, [pkg('1.0.0')]);
  await store.close();
});

test('transaction rolls back a veto and its revisions together', async () => {
  const store = await openStore('veto');
  await assert.rejects(
    store.transaction(async (tx) => {
      await tx.vetoes.insert({
        name: '@acme/a',
        version: '1.0.0',
        reason: 'bad',
        actor: 'admin',
        createdAt: new Date().toISOString(),
      });
      await tx.append('q', () => ({
        action: 'unpin',
        actor: 'admin',
        reason: 'veto',
        packages: [],
        package: { name: '@acme/a', spec: null },
        rollbackTo: null,
      }));
      throw new Error('fails after the revision');
    }),
    /fails after the revision/,
  );
  assert.equal(await store.vetoes.get('@acme/a', '1.0.0'), undefined);
  assert.equal((await store.current('q')).revision, 0);
  assert.deepEqual(await store.audit.list({ limit: 10 }), []);
  await store.close();
});

test('queuesRunning finds the queues whose current revision has the version', async () => {
  const store = await openStore('running');
  await store.append('a', pinDraft('1.0.0'));
  await store.append('b', pinDraft('1.0.0'));
  await store.append('b', pinDraft('1.1.0'));
  await store.append('c', pinDraft('1.0.0'));
  assert.deepEqual(await store.queuesRunning('@acme/a', '1.0.0'), ['a', 'c']);
  assert.deepEqual(await store.queuesRunning('@acme/a', '1.1.0'), ['b']);
  assert.deepEqual(await store.queuesRunning('@acme/other', '1.0.0'), []);
  await store.close();
});

test('worker report replaces the previous one', async () => {
  const store = await openStore('workers');
  const report = (appliedRevision: number) => ({
    state: 'serving',
    appliedRevision,
    desiredRevision: appliedRevision,
    versions: { node: '20.0.0', temporalSdk: '1.24.0' },
    lastError: null,
  });
  await store.saveWorkerReport('q', 'w1', report(1), new Date('2026-01-01T00:00:00Z'));
  await store.saveWorkerReport('q', 'w1', report(2), new Date('2026-01-01T00:01:00Z'));
  const reports = await store.workerReports('q');
  assert.equal(reports.length, 1);
  assert.equal(reports[0]?.report.appliedRevision, 2);
  assert.equal(reports[0]?.reportedAt, '2026-01-01T00:01:00.000Z');
  await store.close();
});

test(
  'revision committed through one store reaches the other',
  { skip: onPostgres ? false : 'only PostgreSQL serves several API processes' },
  async () => {
    const location = await newLocation('watch');
    const writer = await Store.open(location);
    const reader = await Store.open(location);
    const messages: ChangeMessage[] = [];
    let received!: () => void;
    const arrived = new Promise<void>((resolve) => (received = resolve));
    await reader.watchChanges(
      (message) => {
        messages.push(message);
        received();
      },
      () => undefined,
    );
    await assert.rejects(
      writer.append('q', () => {
        throw new Error('rolled back');
      }),
    );
    await writer.append('q', pinDraft('1.0.0'));
    await arrived;
    // The rolled-back write sent nothing, so the first message is the committed revision.
    assert.deepEqual(messages[0], { taskQueue: 'q', revision: 1 });
    await writer.close();
    await reader.close();
  },
);

test(
  'database of schema version 2 gains the new tables',
  { skip: onPostgres ? 'a SQLite file format upgrade' : false },
  async () => {
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
    const store = await Store.open({ kind: 'sqlite', file });
    assert.equal((await store.current('q')).revision, 1);
    assert.deepEqual(await store.queuesRunning('@acme/a', '1.0.0'), ['q']);
    assert.deepEqual(await store.tokens.list(), []);
    // The rebuilt table accepts the configure action, which version 2 did not know.
    await store.append('q', (current) => ({
      action: 'configure',
      actor: 'test',
      reason: null,
      packages: current.packages,
      package: { name: '@acme/a', spec: null },
      rollbackTo: null,
    }));
    assert.equal((await store.current('q')).revision, 2);
    await store.close();
  },
);

const rolloutOf = (candidateRevision: number) => ({
  taskQueue: 'q',
  candidateRevision,
  stableRevision: 1,
  status: 'progressing' as const,
  steps: [{ percent: 10, pauseSeconds: 60 }],
  stepIndex: 0,
  percent: 10,
  stepStartedAt: new Date().toISOString(),
  nextStepAt: new Date().toISOString(),
  remainingMs: null,
  analysis: { maxFailureRatio: 1.5, minCalls: 20 },
  startedAt: new Date().toISOString(),
  startedBy: 'admin',
  endedAt: null,
  endedBy: null,
  endReason: null,
  version: 1,
});

test('rollouts allow one running rollout per queue', async () => {
  const store = await openStore('rollouts');
  const rollout = rolloutOf(2);
  await store.rollouts.insert(rollout);
  assert.deepEqual(await store.rollouts.running('q'), rollout);
  // A second running rollout on the queue breaks the partial unique index.
  await assert.rejects(store.rollouts.insert(rolloutOf(3)), /unique|UNIQUE/);
  assert.equal(await store.rollouts.update({ ...rollout, status: 'promoted', version: 2 }), true);
  // The stored version is 2 now, so an update based on version 1 changes nothing.
  assert.equal(await store.rollouts.update({ ...rollout, status: 'aborted', version: 2 }), false);
  assert.equal(await store.rollouts.running('q'), undefined);
  assert.equal((await store.rollouts.get('q', 2))?.status, 'promoted');
  await store.rollouts.insert(rolloutOf(3));
  assert.deepEqual(
    (await store.rollouts.list('q', 10)).map((entry) => entry.candidateRevision),
    [3, 2],
  );
  await store.close();
});

test(
  'database of schema version 3 gains rollouts and follow tables',
  { skip: onPostgres ? 'a SQLite file format upgrade' : false },
  async () => {
    const file = path.join(dir, 'v3.db');
    const old = await Store.open({ kind: 'sqlite', file });
    await old.append('q', pinDraft('1.0.0'));
    await old.close();
    // Turn the file back into a version 3 database, which had no rollouts or follow tables.
    const raw = new Database(file);
    raw.exec(
      'DROP INDEX rollouts_running; DROP TABLE rollouts; DROP TABLE follow_skips; ' +
        'DROP TABLE follow_checks',
    );
    raw.pragma('user_version = 3');
    raw.close();

    const store = await Store.open({ kind: 'sqlite', file });
    assert.equal((await store.current('q')).revision, 1);
    await store.rollouts.insert(rolloutOf(2));
    assert.equal((await store.rollouts.running('q'))?.candidateRevision, 2);
    assert.deepEqual(await store.follows.skippedVersions('q', '@acme/a'), []);
    assert.deepEqual(await store.follows.followingPins(), []);
    await store.close();
    const check = new Database(file);
    assert.equal(check.pragma('user_version', { simple: true }), 4);
    check.close();
  },
);

test('rollback draft records skips and a pin clears them', async () => {
  const store = await openStore('skips');
  const following = { ...pkg('1.1.0'), follow: { spec: '^1.0.0' } };
  await store.append('q', () => ({
    action: 'pin',
    actor: 'admin',
    reason: null,
    packages: [following],
    package: { name: '@acme/a', spec: '^1.0.0' },
    rollbackTo: null,
  }));
  assert.deepEqual(
    (await store.follows.followingPins()).map((entry) => [entry.taskQueue, entry.pinned.version]),
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
  await store.append('q', () => draft, { dryRun: true });
  assert.deepEqual(await store.follows.skippedVersions('q', '@acme/a'), []);
  await store.append('q', () => draft);
  assert.deepEqual(
    (await store.follows.skippedVersions('q', '@acme/a')).map((entry) => [
      entry.version,
      entry.revision,
    ]),
    [['1.1.0', 2]],
  );
  await store.append('q', () => ({
    action: 'pin',
    actor: 'admin',
    reason: null,
    packages: [pkg('1.1.0')],
    package: { name: '@acme/a', spec: '1.1.0' },
    rollbackTo: null,
    unskipVersions: [{ name: '@acme/a', version: '1.1.0' }],
  }));
  assert.deepEqual(await store.follows.skippedVersions('q', '@acme/a'), []);
  await store.close();
});
