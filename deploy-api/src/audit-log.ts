import type { AuditAction, AuditEntry } from './client/types.js';
import type { SqlClient } from './store/sql.js';

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

/**
 * Append-only log of every write. Callers record an entry inside the transaction of the
 * change it describes, so the log and the state never disagree.
 */
export class AuditLog {
  readonly #sql: SqlClient;

  constructor(sql: SqlClient) {
    this.#sql = sql;
  }

  async record(draft: AuditDraft, createdAt = new Date().toISOString()): Promise<void> {
    await this.#sql.run(
      `INSERT INTO audit (created_at, actor, action, task_queue, target, reason, before, after)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        createdAt,
        draft.actor,
        draft.action,
        draft.taskQueue,
        draft.target,
        draft.reason,
        draft.before === null ? null : JSON.stringify(draft.before),
        draft.after === null ? null : JSON.stringify(draft.after),
      ],
    );
  }

  /** Returns the newest entries first, of one task queue when `taskQueue` is given. */
  async list(options: { taskQueue?: string | undefined; limit: number }): Promise<AuditEntry[]> {
    const rows =
      options.taskQueue === undefined
        ? await this.#sql.all<AuditRow>('SELECT * FROM audit ORDER BY id DESC LIMIT ?', [
            options.limit,
          ])
        : await this.#sql.all<AuditRow>(
            'SELECT * FROM audit WHERE task_queue = ? ORDER BY id DESC LIMIT ?',
            [options.taskQueue, options.limit],
          );
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
