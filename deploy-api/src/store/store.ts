import { AuditLog } from '../audit-log.js';
import { FollowTable } from '../follow-table.js';
import type {
  PinnedPackage,
  RevisionAction,
  RevisionRecord,
  TaskQueueState,
  WorkerReport,
} from '../client/types.js';
import { RolloutTable } from '../rollout-table.js';
import { TokenTable } from '../token-table.js';
import { VetoTable } from '../veto-table.js';
import { PostgresDatabase } from './postgres-database.js';
import { migratePostgres, migrateSqlite } from './schema.js';
import type { SqlClient, SqlDatabase, SqlTransaction } from './sql.js';
import { SqliteDatabase } from './sqlite-database.js';

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

/**
 * Computes the revision of a write from the state inside the transaction. It reads
 * through `tx`, returns `null` when the write would change nothing, and throws to reject it.
 */
export type RevisionPlan = (
  current: TaskQueueState,
  tx: Store,
) => RevisionDraft | null | Promise<RevisionDraft | null>;

/** Location of the store's data: a SQLite file, or a PostgreSQL database. */
export type StoreLocation =
  | { kind: 'sqlite'; file: string }
  | {
      kind: 'postgres';
      connectionString: string;
      poolMax: number;
      onError: (error: Error, context: string) => void;
    };

/** A revision committed by this or another API process, as `watchChanges` reports it. */
export interface ChangeMessage {
  taskQueue: string;
  revision: number;
}

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

const columns =
  'revision, action, actor, reason, created_at, packages, package_name, package_spec, rollback_to';

/**
 * Desired state and revision history, on SQLite or PostgreSQL. Revisions are
 * append-only: the current state of a queue is its newest revision. A store made by
 * `transaction` reads and writes inside that transaction.
 */
export class Store {
  readonly tokens: TokenTable;
  readonly vetoes: VetoTable;
  readonly audit: AuditLog;
  readonly rollouts: RolloutTable;
  readonly follows: FollowTable;
  readonly #db: SqlDatabase;
  readonly #sql: SqlClient;
  /** The open transaction this store belongs to, or undefined outside one. */
  readonly #tx: SqlTransaction | undefined;

  private constructor(db: SqlDatabase, tx?: SqlTransaction) {
    this.#db = db;
    this.#tx = tx;
    this.#sql = tx ?? db.client;
    this.tokens = new TokenTable(this.#sql);
    this.vetoes = new VetoTable(this.#sql);
    this.audit = new AuditLog(this.#sql);
    this.rollouts = new RolloutTable(this.#sql);
    this.follows = new FollowTable(this.#sql);
  }

  /** Opens the database, creating or upgrading its tables. */
  static async open(location: StoreLocation): Promise<Store> {
    if (location.kind === 'sqlite') {
      const db = new SqliteDatabase(location.file);
      try {
        await migrateSqlite(db);
      } catch (error) {
        await db.close();
        throw error;
      }
      return new Store(db);
    }
    const db = new PostgresDatabase(location);
    try {
      await migratePostgres(db);
    } catch (error) {
      await db.close();
      throw error;
    }
    return new Store(db);
  }

  get dialect(): SqlDatabase['dialect'] {
    return this.#db.dialect;
  }

  async current(taskQueue: string): Promise<TaskQueueState> {
    const row = await this.#sql.get<RevisionRow>(
      `SELECT ${columns} FROM revisions WHERE task_queue = ? ORDER BY revision DESC LIMIT 1`,
      [taskQueue],
    );
    return {
      taskQueue,
      revision: row?.revision ?? 0,
      packages: row ? (JSON.parse(row.packages) as PinnedPackage[]) : [],
    };
  }

  async revision(taskQueue: string, revision: number): Promise<RevisionRecord | undefined> {
    const row = await this.#sql.get<RevisionRow>(
      `SELECT ${columns} FROM revisions WHERE task_queue = ? AND revision = ?`,
      [taskQueue, revision],
    );
    return row && toRecord(row);
  }

  /** Returns the history of a queue, newest first. */
  async revisions(taskQueue: string, limit: number): Promise<RevisionRecord[]> {
    const rows = await this.#sql.all<RevisionRow>(
      `SELECT ${columns} FROM revisions WHERE task_queue = ? ORDER BY revision DESC LIMIT ?`,
      [taskQueue, limit],
    );
    return rows.map(toRecord);
  }

  /**
   * Appends a revision in one write transaction, or in the open one of a store made by
   * `transaction`. `plan` gets the state as it is inside the transaction, so concurrent
   * writers, in this process or another, never overwrite each other's change.
   */
  async append(
    taskQueue: string,
    plan: RevisionPlan,
    options: { dryRun?: boolean } = {},
  ): Promise<AppendResult> {
    const dryRun = options.dryRun ?? false;
    return this.transaction(async (tx) => {
      const current = await tx.current(taskQueue);
      const planned = await plan(current, tx);
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
      await tx.#insertRevision(taskQueue, record);
      if (declaredActivities) await tx.#saveDeclaredActivities(declaredActivities);
      for (const skip of skipVersions ?? []) {
        await tx.follows.addSkip(
          taskQueue,
          skip.name,
          skip.version,
          record.revision,
          record.createdAt,
        );
      }
      for (const unskip of unskipVersions ?? []) {
        await tx.follows.removeSkip(taskQueue, unskip.name, unskip.version);
      }
      await tx.audit.record(
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
      await tx.announceChange({ taskQueue, revision: record.revision });
      return { previous: current, state, record, dryRun };
    });
  }

  /**
   * Runs `body` in one write transaction, serialised against every other write on the
   * database. Inside a transaction already, `body` joins it.
   */
  async transaction<T>(body: (tx: Store) => Promise<T>): Promise<T> {
    if (this.#tx) return body(this);
    return this.#db.transaction((tx) => body(new Store(this.#db, tx)));
  }

  /**
   * Calls `onChange` for every revision committed through any API process on the same
   * database, and `onResync` when messages may have been lost. On SQLite, which one
   * process serves, the routes wake their own long-polls and this reports nothing.
   */
  async watchChanges(
    onChange: (message: ChangeMessage) => void,
    onResync: () => void,
  ): Promise<void> {
    if (this.#db.dialect === 'sqlite') return;
    await this.#db.listen((payload) => {
      onChange(JSON.parse(payload) as ChangeMessage);
    }, onResync);
  }

  /** Returns the activity names a package version declared when it was pinned, if any. */
  async declaredActivities(name: string, version: string): Promise<string[] | undefined> {
    const row = await this.#sql.get<{ activities: string }>(
      'SELECT activities FROM declared_activities WHERE name = ? AND version = ?',
      [name, version],
    );
    return row && (JSON.parse(row.activities) as string[]);
  }

  /** Returns the task queues whose current revision contains `name@version`. */
  async queuesRunning(name: string, version: string): Promise<string[]> {
    // The package sets are JSON text, filtered here so that the query runs on both databases.
    const rows = await this.#sql.all<{ task_queue: string; packages: string }>(
      `SELECT r.task_queue, r.packages FROM revisions r
       JOIN (SELECT task_queue, MAX(revision) AS revision FROM revisions GROUP BY task_queue) l
         ON l.task_queue = r.task_queue AND l.revision = r.revision
       ORDER BY r.task_queue`,
    );
    return rows
      .filter((row) =>
        (JSON.parse(row.packages) as PinnedPackage[]).some(
          (entry) => entry.name === name && entry.version === version,
        ),
      )
      .map((row) => row.task_queue);
  }

  /** Stores the latest report of a worker, replacing its previous one. */
  async saveWorkerReport(
    taskQueue: string,
    workerId: string,
    report: WorkerReport,
    at: Date,
  ): Promise<void> {
    await this.#sql.run(
      `INSERT INTO workers (task_queue, worker_id, report, reported_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (task_queue, worker_id) DO UPDATE SET report = excluded.report,
         reported_at = excluded.reported_at`,
      [taskQueue, workerId, JSON.stringify(report), at.toISOString()],
    );
  }

  async workerReports(
    taskQueue: string,
  ): Promise<Array<{ workerId: string; report: WorkerReport; reportedAt: string }>> {
    const rows = await this.#sql.all<{ worker_id: string; report: string; reported_at: string }>(
      'SELECT worker_id, report, reported_at FROM workers WHERE task_queue = ? ORDER BY worker_id',
      [taskQueue],
    );
    return rows.map((row) => ({
      workerId: row.worker_id,
      report: JSON.parse(row.report) as WorkerReport,
      reportedAt: row.reported_at,
    }));
  }

  async close(): Promise<void> {
    await this.#db.close();
  }

  /**
   * Tells the other API processes that the state of a queue changed, once the open
   * transaction commits. Appending a revision does this itself; other changes of what
   * the state returns (a rollout's step) call it. Outside a transaction it does nothing.
   */
  async announceChange(message: ChangeMessage): Promise<void> {
    if (this.#tx) await this.#db.notify(this.#tx, JSON.stringify(message));
  }

  async #insertRevision(taskQueue: string, record: RevisionRecord): Promise<void> {
    await this.#sql.run(
      `INSERT INTO revisions (task_queue, ${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
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
      ],
    );
  }

  async #saveDeclaredActivities(declared: {
    name: string;
    version: string;
    activities: string[];
  }): Promise<void> {
    await this.#sql.run(
      `INSERT INTO declared_activities (name, version, activities) VALUES (?, ?, ?)
       ON CONFLICT (name, version) DO UPDATE SET activities = excluded.activities`,
      [declared.name, declared.version, JSON.stringify(declared.activities)],
    );
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
