import type Database from 'better-sqlite3';
import type { FollowCheck, PinnedPackage } from './client/types.js';

export const followSchema = `
CREATE TABLE IF NOT EXISTS follow_skips (
  task_queue TEXT    NOT NULL,
  name       TEXT    NOT NULL,
  version    TEXT    NOT NULL,
  revision   INTEGER NOT NULL,
  created_at TEXT    NOT NULL,
  PRIMARY KEY (task_queue, name, version)
) STRICT;

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
) STRICT;
`;

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
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  /** Returns the following pins of every task queue's current revision. */
  followingPins(): FollowingPin[] {
    const rows = this.#db
      .prepare<[], { task_queue: string; packages: string }>(
        `SELECT r.task_queue, r.packages FROM revisions r
         JOIN (SELECT task_queue, MAX(revision) AS revision FROM revisions GROUP BY task_queue) l
           ON l.task_queue = r.task_queue AND l.revision = r.revision
         ORDER BY r.task_queue`,
      )
      .all();
    return rows.flatMap((row) =>
      (JSON.parse(row.packages) as PinnedPackage[]).flatMap((pinned) =>
        pinned.follow === undefined
          ? []
          : [{ taskQueue: row.task_queue, pinned: { ...pinned, follow: pinned.follow } }],
      ),
    );
  }

  /** Returns the versions of `name` that task queue `taskQueue` skips, oldest first. */
  skippedVersions(taskQueue: string, name: string): SkippedVersion[] {
    return this.#db
      .prepare<[string, string], { version: string; revision: number; created_at: string }>(
        `SELECT version, revision, created_at FROM follow_skips
         WHERE task_queue = ? AND name = ? ORDER BY revision, version`,
      )
      .all(taskQueue, name)
      .map((row) => ({ version: row.version, revision: row.revision, createdAt: row.created_at }));
  }

  /** Records that rollback `revision` moved `taskQueue` away from `name@version`. */
  addSkip(taskQueue: string, name: string, version: string, revision: number, at: string): void {
    this.#db
      .prepare(
        `INSERT INTO follow_skips (task_queue, name, version, revision, created_at)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (task_queue, name, version) DO UPDATE SET revision = excluded.revision,
           created_at = excluded.created_at`,
      )
      .run(taskQueue, name, version, revision, at);
  }

  removeSkip(taskQueue: string, name: string, version: string): void {
    this.#db
      .prepare('DELETE FROM follow_skips WHERE task_queue = ? AND name = ? AND version = ?')
      .run(taskQueue, name, version);
  }

  lastCheck(taskQueue: string, name: string): FollowCheck | undefined {
    const row = this.#db
      .prepare<[string, string], CheckRow>(
        `SELECT checked_at, outcome, candidate, code, message, release_at FROM follow_checks
         WHERE task_queue = ? AND name = ?`,
      )
      .get(taskQueue, name);
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
  saveCheck(taskQueue: string, name: string, check: FollowCheck): void {
    this.#db
      .prepare(
        `INSERT INTO follow_checks
           (task_queue, name, checked_at, outcome, candidate, code, message, release_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (task_queue, name) DO UPDATE SET checked_at = excluded.checked_at,
           outcome = excluded.outcome, candidate = excluded.candidate, code = excluded.code,
           message = excluded.message, release_at = excluded.release_at`,
      )
      .run(
        taskQueue,
        name,
        check.checkedAt,
        check.outcome,
        check.candidate,
        check.code,
        check.message,
        check.releaseAt,
      );
  }
}
