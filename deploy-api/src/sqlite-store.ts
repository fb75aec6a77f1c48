import Database from 'better-sqlite3';
import { AuditLog, auditSchema } from './audit-log.js';
import { FollowTable, followSchema } from './follow-table.js';
import type {
  PinnedPackage,
  RevisionAction,
  RevisionRecord,
  TaskQueueState,
  WorkerReport,
} from './client/types.js';
import { TokenTable, tokenSchema } from './token-table.js';
import { VetoTable, vetoSchema } from './veto-table.js';

/** A revision to record, computed from the current state inside the transaction. */
export interface RevisionDraft {
  action: RevisionAction;
  actor: string;
  reason: string | null;
  packages: PinnedPackage[];
  package: { name: string; spec: string | null } | null;
  rollbackTo: number | null;
  /**
   * Activity names that the pinned package declares in its package.json, stored with the
   * revision so that later pins on the queue can check for clashes.
   */
  declaredActivities?: { name: string; version: string; activities: string[] } | undefined;
  /** Versions a rollback moves the queue away from; auto-follow skips them afterwards. */
  skipVersions?: Array<{ name: string; version: string }> | undefined;
  /** Versions pinned explicitly or restored by rollback, which auto-follow may follow again. */
  unskipVersions?: Array<{ name: string; version: string }> | undefined;
}

/** Result of `append`: the states before and after the write, and the record it created. */
export interface AppendResult {
  previous: TaskQueueState;
  state: TaskQueueState;
  /** The new revision, or null when the write changed nothing. */
  record: RevisionRecord | null;
  /** True when the revision was computed but not stored. */
  dryRun: boolean;
}

const schemaVersion = 4;

const schema = `
CREATE TABLE IF NOT EXISTS revisions (
  task_queue   TEXT    NOT NULL,
  revision     INTEGER NOT NULL,
  action       TEXT    NOT NULL CHECK (action IN ('pin', 'unpin', 'rollback', 'configure')),
  actor        TEXT    NOT NULL,
  reason       TEXT,
  created_at   TEXT    NOT NULL,
  packages     TEXT    NOT NULL,
  package_name TEXT,
  package_spec TEXT,
  rollback_to  INTEGER,
  PRIMARY KEY (task_queue, revision)
) STRICT;

CREATE TABLE IF NOT EXISTS workers (
  task_queue  TEXT NOT NULL,
  worker_id   TEXT NOT NULL,
  report      TEXT NOT NULL,
  reported_at TEXT NOT NULL,
  PRIMARY KEY (task_queue, worker_id)
) STRICT;

CREATE TABLE IF NOT EXISTS declared_activities (
  name       TEXT NOT NULL,
  version    TEXT NOT NULL,
  activities TEXT NOT NULL,
  PRIMARY KEY (name, version)
) STRICT;
${tokenSchema}
${vetoSchema}
${auditSchema}
${followSchema}
`;

interface RevisionRow {
  revision: number;
  action: RevisionAction;
  actor: string;
  reason: string | null;
  created_at: string;
  packages: string;
  package_name: string | null;
  package_spec: string | null;
  rollback_to: number | null;
}

/**
 * Desired state and revision history in one SQLite file. Revisions are append-only:
 * the current state of a queue is its newest revision.
 */
export class SqliteStore {
  readonly #db: Database.Database;
  readonly tokens: TokenTable;
  readonly vetoes: VetoTable;
  readonly audit: AuditLog;
  readonly follows: FollowTable;
  readonly #latest: Database.Statement<[string], RevisionRow>;
  readonly #byNumber: Database.Statement<[string, number], RevisionRow>;
  readonly #list: Database.Statement<[string, number], RevisionRow>;
  readonly #insert: Database.Statement<unknown[]>;

  constructor(file: string) {
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('busy_timeout = 5000');
    this.#migrate();
    this.tokens = new TokenTable(this.#db);
    this.vetoes = new VetoTable(this.#db);
    this.audit = new AuditLog(this.#db);
    this.follows = new FollowTable(this.#db);
    const columns =
      'revision, action, actor, reason, created_at, packages, package_name, package_spec, rollback_to';
    this.#latest = this.#db.prepare(
      `SELECT ${columns} FROM revisions WHERE task_queue = ? ORDER BY revision DESC LIMIT 1`,
    );
    this.#byNumber = this.#db.prepare(
      `SELECT ${columns} FROM revisions WHERE task_queue = ? AND revision = ?`,
    );
    this.#list = this.#db.prepare(
      `SELECT ${columns} FROM revisions WHERE task_queue = ? ORDER BY revision DESC LIMIT ?`,
    );
    this.#insert = this.#db.prepare(
      `INSERT INTO revisions (task_queue, ${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  current(taskQueue: string): TaskQueueState {
    const row = this.#latest.get(taskQueue);
    return {
      taskQueue,
      revision: row?.revision ?? 0,
      packages: row ? (JSON.parse(row.packages) as PinnedPackage[]) : [],
    };
  }

  revision(taskQueue: string, revision: number): RevisionRecord | undefined {
    const row = this.#byNumber.get(taskQueue, revision);
    return row && toRecord(row);
  }

  /** Returns the history of a queue, newest first. */
  revisions(taskQueue: string, limit: number): RevisionRecord[] {
    return this.#list.all(taskQueue, limit).map(toRecord);
  }

  /**
   * Appends a revision in one immediate transaction. `plan` gets the state as it is
   * inside the transaction, so concurrent writers never overwrite each other's change;
   * it returns `null` when the write would change nothing, and may throw to reject it.
   */
  append(
    taskQueue: string,
    plan: (current: TaskQueueState) => RevisionDraft | null,
    options: { dryRun?: boolean } = {},
  ): AppendResult {
    const dryRun = options.dryRun ?? false;
    const run = this.#db.transaction((): AppendResult => {
      const current = this.current(taskQueue);
      const planned = plan(current);
      if (planned === null) return { previous: current, state: current, record: null, dryRun };
      const { declaredActivities, skipVersions, unskipVersions, ...draft } = planned;
      const record: RevisionRecord = {
        revision: current.revision + 1,
        createdAt: new Date().toISOString(),
        ...draft,
        packages: [...draft.packages].sort((a, b) => a.name.localeCompare(b.name)),
      };
      const state = { taskQueue, revision: record.revision, packages: record.packages };
      if (dryRun) return { previous: current, state, record, dryRun };
      this.#insert.run(
        taskQueue,
        record.revision,
        record.action,
        record.actor,
        record.reason,
        record.createdAt,
        JSON.stringify(record.packages),
        record.package?.name ?? null,
        record.package?.spec ?? null,
        record.rollbackTo,
      );
      if (declaredActivities) {
        this.#db
          .prepare(
            'INSERT OR REPLACE INTO declared_activities (name, version, activities) VALUES (?, ?, ?)',
          )
          .run(
            declaredActivities.name,
            declaredActivities.version,
            JSON.stringify(declaredActivities.activities),
          );
      }
      for (const skip of skipVersions ?? []) {
        this.follows.addSkip(taskQueue, skip.name, skip.version, record.revision, record.createdAt);
      }
      for (const unskip of unskipVersions ?? []) {
        this.follows.removeSkip(taskQueue, unskip.name, unskip.version);
      }
      this.audit.record(
        {
          actor: record.actor,
          action: record.action,
          taskQueue,
          target: auditTarget(record),
          reason: record.reason,
          before: current.packages,
          after: record.packages,
        },
        record.createdAt,
      );
      return { previous: current, state, record, dryRun };
    });
    return run.immediate();
  }

  /** Runs `body` in one immediate transaction; `append` calls inside it join that transaction. */
  transaction<T>(body: () => T): T {
    return this.#db.transaction(body).immediate();
  }

  /** Returns the activity names a package version declared when it was pinned, if any. */
  declaredActivities(name: string, version: string): string[] | undefined {
    const row = this.#db
      .prepare<[string, string], { activities: string }>(
        'SELECT activities FROM declared_activities WHERE name = ? AND version = ?',
      )
      .get(name, version);
    return row && (JSON.parse(row.activities) as string[]);
  }

  /** Returns the task queues whose current revision contains `name@version`. */
  queuesRunning(name: string, version: string): string[] {
    const rows = this.#db
      .prepare<[string, string], { task_queue: string }>(
        `SELECT r.task_queue FROM revisions r
         JOIN (SELECT task_queue, MAX(revision) AS revision FROM revisions GROUP BY task_queue) l
           ON l.task_queue = r.task_queue AND l.revision = r.revision
         WHERE EXISTS (SELECT 1 FROM json_each(r.packages) p
           WHERE json_extract(p.value, '$.name') = ? AND json_extract(p.value, '$.version') = ?)
         ORDER BY r.task_queue`,
      )
      .all(name, version);
    return rows.map((row) => row.task_queue);
  }

  /** Stores the latest report of a worker, replacing its previous one. */
  saveWorkerReport(taskQueue: string, workerId: string, report: WorkerReport, at: Date): void {
    this.#db
      .prepare(
        `INSERT INTO workers (task_queue, worker_id, report, reported_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (task_queue, worker_id) DO UPDATE SET report = excluded.report,
           reported_at = excluded.reported_at`,
      )
      .run(taskQueue, workerId, JSON.stringify(report), at.toISOString());
  }

  workerReports(
    taskQueue: string,
  ): Array<{ workerId: string; report: WorkerReport; reportedAt: string }> {
    const rows = this.#db
      .prepare<[string], { worker_id: string; report: string; reported_at: string }>(
        'SELECT worker_id, report, reported_at FROM workers WHERE task_queue = ? ORDER BY worker_id',
      )
      .all(taskQueue);
    return rows.map((row) => ({
      workerId: row.worker_id,
      report: JSON.parse(row.report) as WorkerReport,
      reportedAt: row.reported_at,
    }));
  }

  close(): void {
    this.#db.close();
  }

  #migrate(): void {
    const current = this.#db.pragma('user_version', { simple: true }) as number;
    if (current > schemaVersion) {
      throw new Error(
        `the database schema is version ${current}, newer than this deploy API (${schemaVersion}); ` +
          'run a newer deploy API or point DEPLOY_API_DB at another file',
      );
    }
    if (current > 0 && current < 3) this.#allowConfigureAction();
    this.#db.exec(schema);
    this.#db.pragma(`user_version = ${schemaVersion}`);
  }

  /**
   * Rebuilds the revisions table of a version 1 or 2 database, whose CHECK constraint
   * predates the configure action. SQLite cannot change a constraint in place.
   */
  #allowConfigureAction(): void {
    const rebuild = this.#db.transaction(() => {
      this.#db.exec('ALTER TABLE revisions RENAME TO revisions_before_configure');
      this.#db.exec(schema);
      this.#db.exec('INSERT INTO revisions SELECT * FROM revisions_before_configure');
      this.#db.exec('DROP TABLE revisions_before_configure');
    });
    rebuild.immediate();
  }
}

/** Returns the target of a revision as the audit log names it. */
function auditTarget(record: RevisionRecord): string | null {
  if (record.action === 'rollback') return `revision ${record.rollbackTo}`;
  const name = record.package?.name;
  if (name === undefined) return null;
  const pinned = record.packages.find((entry) => entry.name === name);
  return record.action === 'pin' && pinned ? `${name}@${pinned.version}` : name;
}

function toRecord(row: RevisionRow): RevisionRecord {
  return {
    revision: row.revision,
    action: row.action,
    actor: row.actor,
    reason: row.reason,
    createdAt: row.created_at,
    packages: JSON.parse(row.packages) as PinnedPackage[],
    package: row.package_name === null ? null : { name: row.package_name, spec: row.package_spec },
    rollbackTo: row.rollback_to,
  };
}
