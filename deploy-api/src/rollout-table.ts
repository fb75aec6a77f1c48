import type { Rollout, RolloutStatus, RolloutStep } from './client/types.js';
import type { SqlClient } from './store/sql.js';

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

/**
 * Rollouts of every task queue, running and ended. Rows are updated in place. At most one
 * rollout per queue may be progressing or paused: a partial unique index (store/schema.ts)
 * enforces that in the database, so two replicas cannot both start one.
 */
export class RolloutTable {
  readonly #sql: SqlClient;

  constructor(sql: SqlClient) {
    this.#sql = sql;
  }

  /** Returns the rollout of a queue that is progressing or paused, if any. */
  async running(taskQueue: string): Promise<Rollout | undefined> {
    const row = await this.#sql.get<RolloutRow>(
      `SELECT * FROM rollouts WHERE task_queue = ? AND ${running}`,
      [taskQueue],
    );
    return row && toRollout(row);
  }

  /** Returns every running rollout, of all task queues. */
  async allRunning(): Promise<Rollout[]> {
    const rows = await this.#sql.all<RolloutRow>(
      `SELECT * FROM rollouts WHERE ${running} ORDER BY task_queue, candidate_revision`,
    );
    return rows.map(toRollout);
  }

  async get(taskQueue: string, candidateRevision: number): Promise<Rollout | undefined> {
    const row = await this.#sql.get<RolloutRow>(
      'SELECT * FROM rollouts WHERE task_queue = ? AND candidate_revision = ?',
      [taskQueue, candidateRevision],
    );
    return row && toRollout(row);
  }

  /** Returns the rollouts of a queue, newest first. */
  async list(taskQueue: string, limit: number): Promise<Rollout[]> {
    const rows = await this.#sql.all<RolloutRow>(
      'SELECT * FROM rollouts WHERE task_queue = ? ORDER BY candidate_revision DESC LIMIT ?',
      [taskQueue, limit],
    );
    return rows.map(toRollout);
  }

  async insert(rollout: Rollout): Promise<void> {
    await this.#sql.run(
      `INSERT INTO rollouts (task_queue, candidate_revision, stable_revision, status, steps,
         step_index, percent, step_started_at, next_step_at, remaining_ms, max_failure_ratio,
         min_calls, started_at, started_by, ended_at, ended_by, end_reason, version)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
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
      ],
    );
  }

  /**
   * Stores the changed fields of `next` if the stored row still has version
   * `next.version - 1`, and returns whether it did. A false return means another
   * writer (a timer of another replica, say) changed the rollout first.
   */
  async update(next: Rollout): Promise<boolean> {
    const changes = await this.#sql.run(
      `UPDATE rollouts SET status = ?, step_index = ?, percent = ?, step_started_at = ?,
         next_step_at = ?, remaining_ms = ?, ended_at = ?, ended_by = ?, end_reason = ?,
         version = ?
       WHERE task_queue = ? AND candidate_revision = ? AND version = ?`,
      [
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
      ],
    );
    return changes === 1;
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
