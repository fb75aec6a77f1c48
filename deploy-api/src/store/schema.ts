import type { PostgresDatabase } from './postgres-database.js';
import type { SqliteDatabase } from './sqlite-database.js';

/**
 * Version of the schema below. SQLite keeps it in `PRAGMA user_version`, PostgreSQL in
 * the `schema_version` table. A database with a higher version is rejected at start.
 * Version 4 added the rollouts and auto-follow tables, which CREATE TABLE IF NOT EXISTS
 * adds to an older database.
 */
export const schemaVersion = 4;

/** Actions of a revision, as the CHECK constraint of both databases lists them. */
const revisionActions = "'pin', 'unpin', 'rollback', 'configure'";

/**
 * Tables that both databases share. Column types are the ones both accept (TEXT,
 * INTEGER); JSON is stored as TEXT and parsed by the store, and times are ISO 8601 TEXT.
 */
function tables(options: { strict: string; identity: string; real: string }): string {
  const { strict, identity, real } = options;
  return `
CREATE TABLE IF NOT EXISTS revisions (
  task_queue   TEXT    NOT NULL,
  revision     INTEGER NOT NULL,
  action       TEXT    NOT NULL CONSTRAINT revisions_action_check
                 CHECK (action IN (${revisionActions})),
  actor        TEXT    NOT NULL,
  reason       TEXT,
  created_at   TEXT    NOT NULL,
  packages     TEXT    NOT NULL,
  package_name TEXT,
  package_spec TEXT,
  rollback_to  INTEGER,
  PRIMARY KEY (task_queue, revision)
)${strict};

CREATE TABLE IF NOT EXISTS workers (
  task_queue  TEXT NOT NULL,
  worker_id   TEXT NOT NULL,
  report      TEXT NOT NULL,
  reported_at TEXT NOT NULL,
  PRIMARY KEY (task_queue, worker_id)
)${strict};

CREATE TABLE IF NOT EXISTS declared_activities (
  name       TEXT NOT NULL,
  version    TEXT NOT NULL,
  activities TEXT NOT NULL,
  PRIMARY KEY (name, version)
)${strict};

CREATE TABLE IF NOT EXISTS tokens (
  name        TEXT    PRIMARY KEY,
  role        TEXT    NOT NULL CHECK (role IN ('read', 'deploy', 'admin')),
  task_queues TEXT,
  digest      TEXT    NOT NULL UNIQUE,
  created_at  TEXT    NOT NULL,
  created_by  TEXT,
  bootstrap   INTEGER NOT NULL DEFAULT 0
)${strict};

CREATE TABLE IF NOT EXISTS vetoes (
  name       TEXT NOT NULL,
  version    TEXT NOT NULL,
  reason     TEXT NOT NULL,
  actor      TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (name, version)
)${strict};

CREATE TABLE IF NOT EXISTS audit (
  id         ${identity},
  created_at TEXT NOT NULL,
  actor      TEXT NOT NULL,
  action     TEXT NOT NULL,
  task_queue TEXT,
  target     TEXT,
  reason     TEXT,
  before     TEXT,
  after      TEXT
)${strict};
CREATE INDEX IF NOT EXISTS audit_by_queue ON audit (task_queue, id);

CREATE TABLE IF NOT EXISTS rollouts (
  task_queue         TEXT    NOT NULL,
  candidate_revision INTEGER NOT NULL,
  stable_revision    INTEGER NOT NULL,
  status             TEXT    NOT NULL
    CHECK (status IN ('progressing', 'paused', 'promoted', 'aborted')),
  steps              TEXT    NOT NULL,
  step_index         INTEGER NOT NULL,
  percent            INTEGER NOT NULL,
  step_started_at    TEXT    NOT NULL,
  next_step_at       TEXT,
  remaining_ms       INTEGER,
  max_failure_ratio  ${real} NOT NULL,
  min_calls          INTEGER NOT NULL,
  started_at         TEXT    NOT NULL,
  started_by         TEXT    NOT NULL,
  ended_at           TEXT,
  ended_by           TEXT,
  end_reason         TEXT,
  version            INTEGER NOT NULL,
  PRIMARY KEY (task_queue, candidate_revision)
)${strict};
-- At most one running rollout per queue, even with several replicas starting one at once.
CREATE UNIQUE INDEX IF NOT EXISTS rollouts_running ON rollouts (task_queue)
  WHERE status IN ('progressing', 'paused');

-- Versions that auto-follow skips on a queue, because a rollback moved away from them.
CREATE TABLE IF NOT EXISTS follow_skips (
  task_queue TEXT    NOT NULL,
  name       TEXT    NOT NULL,
  version    TEXT    NOT NULL,
  revision   INTEGER NOT NULL,
  created_at TEXT    NOT NULL,
  PRIMARY KEY (task_queue, name, version)
)${strict};

-- The latest auto-follow check of each following pin.
CREATE TABLE IF NOT EXISTS follow_checks (
  task_queue TEXT NOT NULL,
  name       TEXT NOT NULL,
  checked_at TEXT NOT NULL,
  outcome    TEXT NOT NULL,
  candidate  TEXT,
  code       TEXT,
  message    TEXT,
  release_at TEXT,
  PRIMARY KEY (task_queue, name)
)${strict};
`;
}

const sqliteTables = tables({
  strict: ' STRICT',
  identity: 'INTEGER PRIMARY KEY AUTOINCREMENT',
  real: 'REAL',
});

const postgresTables = tables({
  strict: '',
  identity: 'INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
  real: 'DOUBLE PRECISION',
});

function newerSchemaError(found: number, where: string): Error {
  return new Error(
    `the database schema is version ${found}, newer than this deploy API (${schemaVersion}); ` +
      `run a newer deploy API or point ${where} at another database`,
  );
}

/** Creates or upgrades the tables of a SQLite file. */
export async function migrateSqlite(db: SqliteDatabase): Promise<void> {
  const found = db.pragma('user_version') as number;
  if (found > schemaVersion) throw newerSchemaError(found, 'DEPLOY_API_DB');
  if (found === schemaVersion) return;
  await db.transaction(async () => {
    // Version 1 and 2 files have a revisions table whose CHECK constraint predates the
    // configure action. SQLite cannot change a constraint in place, so the table is rebuilt.
    if (found > 0 && found < 3) {
      db.exec('ALTER TABLE revisions RENAME TO revisions_before_configure');
      db.exec(sqliteTables);
      db.exec('INSERT INTO revisions SELECT * FROM revisions_before_configure');
      db.exec('DROP TABLE revisions_before_configure');
    }
    db.exec(sqliteTables);
    db.exec(`PRAGMA user_version = ${schemaVersion}`);
  });
}

/**
 * Creates or upgrades the tables of a PostgreSQL database. Replicas that start together
 * run this one at a time, because the transaction holds the write lock.
 */
export async function migratePostgres(db: PostgresDatabase): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.run('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = await tx.get<{ version: number }>(
      'SELECT MAX(version) AS version FROM schema_version',
    );
    const found = row?.version ?? 0;
    if (found > schemaVersion) throw newerSchemaError(found, 'DEPLOY_API_DATABASE_URL');
    if (found === schemaVersion) return;
    // node-postgres sends a statement without parameters as a simple query, which may
    // hold several statements.
    await tx.run(postgresTables);
    await tx.run('DELETE FROM schema_version');
    await tx.run('INSERT INTO schema_version (version) VALUES (?)', [schemaVersion]);
  });
}
