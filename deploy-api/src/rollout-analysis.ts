import type { Rollout, RevisionCalls, WorkerReport } from './client/types.js';

/** A worker's latest report, as the store returns it. */
export interface StoredReport {
  workerId: string;
  report: WorkerReport;
  reportedAt: string;
}

/** Calls of the candidate and the stable revision, and the workers whose calls failed. */
export interface RolloutCalls {
  candidate: RevisionCalls;
  stable: RevisionCalls;
  /** Workers that reported failed calls of the candidate, sorted. */
  failingWorkers: string[];
}

/**
 * Sums the activity calls of a rollout's two revisions over the reports that arrived
 * since it started. A report replaces the worker's previous one and carries counts
 * since the worker started, so the latest reports add up to the fleet's counts.
 */
export function sumRolloutCalls(rollout: Rollout, reports: readonly StoredReport[]): RolloutCalls {
  const candidate = { revision: rollout.candidateRevision, completed: 0, failed: 0 };
  const stable = { revision: rollout.stableRevision, completed: 0, failed: 0 };
  const failingWorkers: string[] = [];
  const since = Date.parse(rollout.startedAt);
  for (const { workerId, report, reportedAt } of reports) {
    if (Date.parse(reportedAt) < since) continue;
    for (const entry of report.activityCalls ?? []) {
      let sum: RevisionCalls | undefined;
      if (entry.revision === candidate.revision) sum = candidate;
      else if (entry.revision === stable.revision) sum = stable;
      if (!sum) continue;
      sum.completed += entry.completed;
      sum.failed += entry.failed;
      if (sum === candidate && entry.failed > 0) failingWorkers.push(workerId);
    }
  }
  return { candidate, stable, failingWorkers: failingWorkers.sort() };
}

/**
 * Returns why the candidate's failure rate must abort the rollout, or null. The rate is
 * judged once the candidate has `minCalls` finished calls; it must then stay at or below
 * `maxFailureRatio` times the stable revision's rate. A stable revision without calls or
 * without failures has rate 0, so then any failed call of the candidate aborts it.
 */
export function failureRateVerdict(rollout: Rollout, calls: RolloutCalls): string | null {
  const { candidate, stable } = calls;
  const candidateTotal = candidate.completed + candidate.failed;
  if (candidateTotal < rollout.analysis.minCalls || candidate.failed === 0) return null;
  const stableTotal = stable.completed + stable.failed;
  const candidateRate = candidate.failed / candidateTotal;
  const stableRate = stableTotal === 0 ? 0 : stable.failed / stableTotal;
  const ratio = rollout.analysis.maxFailureRatio;
  if (candidateRate <= ratio * stableRate) return null;
  return (
    `candidate revision ${candidate.revision} failed ${candidate.failed} of ${candidateTotal} ` +
    `activity calls (${percentText(candidateRate)}) on workers ${calls.failingWorkers.join(', ')}, ` +
    `above ${ratio} times the failure rate of stable revision ${stable.revision} ` +
    `(${stable.failed} of ${stableTotal} calls, ${percentText(stableRate)})`
  );
}

/**
 * Returns why a worker's report must abort the rollout: it failed to load or run the
 * candidate revision. Returns null otherwise.
 */
export function loadFailureVerdict(rollout: Rollout, entry: StoredReport): string | null {
  const error = entry.report.lastError;
  if (!error || error.revision !== rollout.candidateRevision) return null;
  const target = error.package ? ` (${error.package}@${error.version ?? '?'})` : '';
  return (
    `worker ${entry.workerId} could not serve candidate revision ${rollout.candidateRevision}` +
    `${target}: ${error.code}: ${error.message.slice(0, 500)}`
  );
}

function percentText(rate: number): string {
  return `${(rate * 100).toFixed(1)} %`;
}
