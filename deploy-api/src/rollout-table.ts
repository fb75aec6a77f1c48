import type Database from 'better-sqlite3';
import type { Rollout, RolloutStatus, RolloutStep } from './client/types.js';

// At most one rollout per task queue may be progressing or paused: the partial unique
// index enforces that in the database, so two replicas cannot both start one.
export const rolloutSchema = `
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
  max_failure_ratio  REAL    NOT NULL,
  min_calls          INTEGER NOT NULL,
  started_at         TEXT    NOT NULL,
  started_by         TEXT    NOT NULL,
  ended_at           TEXT,
  ended_by           TEXT,
  end_reason         TEXT,
  version            INTEGER NOT NULL,
  PRIMARY KEY (task_queue, candidate_revision)
) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS rollouts_running ON rollouts (task_queue)
  WHERE status IN ('progressing', 'paused');
`;

interface RolloutRow {
  task_queue: string;
  candidate_revision: number;
  stable_revision: number;
  status: RolloutStatus;
  steps: string;
  step_index: number;
  percent: number;
  step_started_at: string;
  next_step_at: string | null;
  remaining_ms: number | null;
  max_failure_ratio: number;
  min_calls: number;
  started_at: string;
  started_by: string;
  ended_at: string | null;
  ended_by: string | null;
  end_reason: string | null;
  version: number;
}

const running = "status IN ('progressing', 'paused')";

/** Rollouts of every task queue, running and ended. Rows are updated in place. */
export class RolloutTable {
  readonly #insert: Database.Statement<unknown[]>;
  readonly #update: Database.Statement<unknown[]>;
  readonly #running: Database.Statement<[string], RolloutRow>;
  readonly #allRunning: Database.Statement<[], RolloutRow>;
  readonly #get: Database.Statement<[string, number], RolloutRow>;
  readonly #list: Database.Statement<[string, number], RolloutRow>;

  constructor(db: Database.Database) {
    this.#insert = db.prepare(
      `INSERT INTO rollouts (task_queue, candidate_revision, stable_revision, status, steps,
         step_index, percent, step_started_at, next_step_at, remaining_ms, max_failure_ratio,
         min_calls, started_at, started_by, ended_at, ended_by, end_reason, version)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#update = db.prepare(
      `UPDATE rollouts SET status = ?, step_index = ?, percent = ?, step_started_at = ?,
         next_step_at = ?, remaining_ms = ?, ended_at = ?, ended_by = ?, end_reason = ?,
         version = ?
       WHERE task_queue = ? AND candidate_revision = ? AND version = ?`,
    );
    this.#running = db.prepare(`SELECT * FROM rollouts WHERE task_queue = ? AND ${running}`);
    this.#allRunning = db.prepare(
      `SELECT * FROM rollouts WHERE ${running} ORDER BY task_queue, candidate_revision`,
    );
    this.#get = db.prepare(
      'SELECT * FROM rollouts WHERE task_queue = ? AND candidate_revision = ?',
    );
    this.#list = db.prepare(
      'SELECT * FROM rollouts WHERE task_queue = ? ORDER BY candidate_revision DESC LIMIT ?',
    );
  }

  /** Returns the rollout of a queue that is progressing or paused, if any. */
  running(taskQueue: string): Rollout | undefined {
    const row = this.#running.get(taskQueue);
    return row && toRollout(row);
  }

  /** Returns every running rollout, of all task queues. */
  allRunning(): Rollout[] {
    return this.#allRunning.all().map(toRollout);
  }

  get(taskQueue: string, candidateRevision: number): Rollout | undefined {
    const row = this.#get.get(taskQueue, candidateRevision);
    return row && toRollout(row);
  }

  /** Returns the rollouts of a queue, newest first. */
  list(taskQueue: string, limit: number): Rollout[] {
    return this.#list.all(taskQueue, limit).map(toRollout);
  }

  insert(rollout: Rollout): void {
    this.#insert.run(
      rollout.taskQueue,
      rollout.candidateRevision,
      rollout.stableRevision,
      rollout.status,
      JSON.stringify(rollout.steps),
      rollout.stepIndex,
      rollout.percent,
      rollout.stepStartedAt,
      rollout.nextStepAt,
      rollout.remainingMs,
      rollout.analysis.maxFailureRatio,
      rollout.analysis.minCalls,
      rollout.startedAt,
      rollout.startedBy,
      rollout.endedAt,
      rollout.endedBy,
      rollout.endReason,
      rollout.version,
    );
  }

  /**
   * Stores the changed fields of `next` if the stored row still has version
   * `next.version - 1`, and returns whether it did. A false return means another
   * writer (a timer of another replica, say) changed the rollout first.
   */
  update(next: Rollout): boolean {
    const result = this.#update.run(
      next.status,
      next.stepIndex,
      next.percent,
      next.stepStartedAt,
      next.nextStepAt,
      next.remainingMs,
      next.endedAt,
      next.endedBy,
      next.endReason,
      next.version,
      next.taskQueue,
      next.candidateRevision,
      next.version - 1,
    );
    return result.changes === 1;
  }
}

function toRollout(row: RolloutRow): Rollout {
  return {
    taskQueue: row.task_queue,
    candidateRevision: row.candidate_revision,
    stableRevision: row.stable_revision,
    status: row.status,
    steps: JSON.parse(row.steps) as RolloutStep[],
    stepIndex: row.step_index,
    percent: row.percent,
    stepStartedAt: row.step_started_at,
    nextStepAt: row.next_step_at,
    remainingMs: row.remaining_ms,
    analysis: { maxFailureRatio: row.max_failure_ratio, minCalls: row.min_calls },
    startedAt: row.started_at,
    startedBy: row.started_by,
    endedAt: row.ended_at,
    endedBy: row.ended_by,
    endReason: row.end_reason,
    version: row.version,
  };
}
