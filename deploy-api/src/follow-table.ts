import type { FollowCheck, PinnedPackage } from './client/types.js';
import type { SqlClient } from './store/sql.js';

/** A version that a rollback on a task queue moved away from. */
export interface SkippedVersion {
  version: string;
  /** The rollback revision that moved away from it. */
  revision: number;
  createdAt: string;
}

/** A following pin in the current revision of a task queue. */
export interface FollowingPin {
  taskQueue: string;
  pinned: PinnedPackage & { follow: NonNullable<PinnedPackage['follow']> };
}

interface CheckRow {
  checked_at: string;
  outcome: FollowCheck['outcome'];
  candidate: string | null;
  code: string | null;
  message: string | null;
  release_at: string | null;
}

/**
 * State of auto-follow beside the revisions: the versions each task queue skips because
 * a rollback moved away from them, and the latest check of each following pin. Package
 * sets are parsed in JavaScript, so the queries need no JSON functions of the database.
 */
export class FollowTable {
  readonly #sql: SqlClient;

  constructor(sql: SqlClient) {
    this.#sql = sql;
  }

  /** Returns the following pins of every task queue's current revision. */
  async followingPins(): Promise<FollowingPin[]> {
    const rows = await this.#sql.all<{ task_queue: string; packages: string }>(
      `SELECT r.task_queue, r.packages FROM revisions r
       JOIN (SELECT task_queue, MAX(revision) AS revision FROM revisions GROUP BY task_queue) l
         ON l.task_queue = r.task_queue AND l.revision = r.revision
       ORDER BY r.task_queue`,
    );
    return rows.flatMap((row) =>
      (JSON.parse(row.packages) as PinnedPackage[]).flatMap((pinned) =>
        pinned.follow === undefined
          ? []
          : [{ taskQueue: row.task_queue, pinned: { ...pinned, follow: pinned.follow } }],
      ),
    );
  }

  /** Returns the versions of `name` that task queue `taskQueue` skips, oldest first. */
  async skippedVersions(taskQueue: string, name: string): Promise<SkippedVersion[]> {
    const rows = await this.#sql.all<{ version: string; revision: number; created_at: string }>(
      `SELECT version, revision, created_at FROM follow_skips
       WHERE task_queue = ? AND name = ? ORDER BY revision, version`,
      [taskQueue, name],
    );
    return rows.map((row) => ({
      version: row.version,
      revision: row.revision,
      createdAt: row.created_at,
    }));
  }

  /** Records that rollback `revision` moved `taskQueue` away from `name@version`. */
  async addSkip(
    taskQueue: string,
    name: string,
    version: string,
    revision: number,
    at: string,
  ): Promise<void> {
    await this.#sql.run(
      `INSERT INTO follow_skips (task_queue, name, version, revision, created_at)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (task_queue, name, version) DO UPDATE SET revision = excluded.revision,
         created_at = excluded.created_at`,
      [taskQueue, name, version, revision, at],
    );
  }

  async removeSkip(taskQueue: string, name: string, version: string): Promise<void> {
    await this.#sql.run(
      'DELETE FROM follow_skips WHERE task_queue = ? AND name = ? AND version = ?',
      [taskQueue, name, version],
    );
  }

  async lastCheck(taskQueue: string, name: string): Promise<FollowCheck | undefined> {
    const row = await this.#sql.get<CheckRow>(
      `SELECT checked_at, outcome, candidate, code, message, release_at FROM follow_checks
       WHERE task_queue = ? AND name = ?`,
      [taskQueue, name],
    );
    return (
      row && {
        checkedAt: row.checked_at,
        outcome: row.outcome,
        candidate: row.candidate,
        code: row.code,
        message: row.message,
        releaseAt: row.release_at,
      }
    );
  }

  /** Stores the latest check of a pin, replacing the previous one. */
  async saveCheck(taskQueue: string, name: string, check: FollowCheck): Promise<void> {
    await this.#sql.run(
      `INSERT INTO follow_checks
         (task_queue, name, checked_at, outcome, candidate, code, message, release_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (task_queue, name) DO UPDATE SET checked_at = excluded.checked_at,
         outcome = excluded.outcome, candidate = excluded.candidate, code = excluded.code,
         message = excluded.message, release_at = excluded.release_at`,
      [
        taskQueue,
        name,
        check.checkedAt,
        check.outcome,
        check.candidate,
        check.code,
        check.message,
        check.releaseAt,
      ],
    );
  }
}
