import type Database from 'better-sqlite3';
import type { AuditAction, AuditEntry } from './client/types.js';

/** A write to record; the log adds the id and time. */
export type AuditDraft = Omit<AuditEntry, 'id' | 'createdAt'>;

interface AuditRow {
  id: number;
  created_at: string;
  actor: string;
  action: AuditAction;
  task_queue: string | null;
  target: string | null;
  reason: string | null;
  before: string | null;
  after: string | null;
}

export const auditSchema = `
CREATE TABLE IF NOT EXISTS audit (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at TEXT NOT NULL,
  actor      TEXT NOT NULL,
  action     TEXT NOT NULL,
  task_queue TEXT,
  target     TEXT,
  reason     TEXT,
  before     TEXT,
  after      TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS audit_by_queue ON audit (task_queue, id);
`;

/**
 * Append-only log of every write. Callers record an entry inside the transaction of the
 * change it describes, so the log and the state never disagree.
 */
export class AuditLog {
  readonly #insert: Database.Statement<unknown[]>;
  readonly #all: Database.Statement<[number], AuditRow>;
  readonly #byQueue: Database.Statement<[string, number], AuditRow>;

  constructor(db: Database.Database) {
    this.#insert = db.prepare(
      `INSERT INTO audit (created_at, actor, action, task_queue, target, reason, before, after)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#all = db.prepare('SELECT * FROM audit ORDER BY id DESC LIMIT ?');
    this.#byQueue = db.prepare('SELECT * FROM audit WHERE task_queue = ? ORDER BY id DESC LIMIT ?');
  }

  record(draft: AuditDraft, createdAt = new Date().toISOString()): void {
    this.#insert.run(
      createdAt,
      draft.actor,
      draft.action,
      draft.taskQueue,
      draft.target,
      draft.reason,
      draft.before === null ? null : JSON.stringify(draft.before),
      draft.after === null ? null : JSON.stringify(draft.after),
    );
  }

  /** Returns the newest entries first, of one task queue when `taskQueue` is given. */
  list(options: { taskQueue?: string | undefined; limit: number }): AuditEntry[] {
    const rows =
      options.taskQueue === undefined
        ? this.#all.all(options.limit)
        : this.#byQueue.all(options.taskQueue, options.limit);
    return rows.map((row) => ({
      id: row.id,
      createdAt: row.created_at,
      actor: row.actor,
      action: row.action,
      taskQueue: row.task_queue,
      target: row.target,
      reason: row.reason,
      before: row.before === null ? null : (JSON.parse(row.before) as AuditEntry['before']),
      after: row.after === null ? null : (JSON.parse(row.after) as AuditEntry['after']),
    }));
  }
}
