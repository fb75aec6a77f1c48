import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Rollout, WorkerReport } from '../src/client/types.js';
import {
  failureRateVerdict,
  loadFailureVerdict,
  sumRolloutCalls,
} from '../src/rollout-analysis.js';

const startedAt = '2026-01-01T00:00:00.000Z';
const rollout = {
  taskQueue: 'q',
  candidateRevision: 5,
  stableRevision: 4,
  startedAt,
  analysis: { maxFailureRatio: 2, minCalls: 20 },
} as Rollout;

function report(
  calls: Array<[revision: number, completed: number, failed: number]>,
  lastError: WorkerReport['lastError'] = null,
): WorkerReport {
  return {
    state: 'serving',
    appliedRevision: 5,
    desiredRevision: 5,
    versions: { node: '20', temporalSdk: '1.24.0' },
    lastError,
    activityCalls: calls.map(([revision, completed, failed]) => ({ revision, completed, failed })),
  };
}

const at = (seconds: number) => new Date(Date.parse(startedAt) + seconds * 1000).toISOString();

test('sum counts reports since the start', () => {
  const calls = sumRolloutCalls(rollout, [
    {
      workerId: 'a',
      report: report([
        [5, 3, 1],
        [4, 10, 0],
        [3, 50, 9],
      ]),
      reportedAt: at(5),
    },
    { workerId: 'b', report: report([[4, 7, 2]]), reportedAt: at(6) },
    { workerId: 'old', report: report([[5, 100, 100]]), reportedAt: at(-1) },
  ]);
  assert.deepEqual(calls.candidate, { revision: 5, completed: 3, failed: 1 });
  assert.deepEqual(calls.stable, { revision: 4, completed: 17, failed: 2 });
  assert.deepEqual(calls.failingWorkers, ['a']);
});

test('one failure in two calls does not abort', () => {
  const calls = sumRolloutCalls(rollout, [
    { workerId: 'a', report: report([[5, 1, 1]]), reportedAt: at(1) },
  ]);
  assert.equal(failureRateVerdict(rollout, calls), null);
});

test('rate within the ratio does not abort', () => {
  // Candidate 4 of 40 (10 %), stable 10 of 200 (5 %): exactly twice, which is allowed.
  const calls = sumRolloutCalls(rollout, [
    { workerId: 'a', report: report([[5, 36, 4]]), reportedAt: at(1) },
    { workerId: 'b', report: report([[4, 190, 10]]), reportedAt: at(1) },
  ]);
  assert.equal(failureRateVerdict(rollout, calls), null);
});

test('rate above the ratio aborts with figures', () => {
  const calls = sumRolloutCalls(rollout, [
    { workerId: 'a', report: report([[5, 30, 10]]), reportedAt: at(1) },
    { workerId: 'b', report: report([[4, 190, 10]]), reportedAt: at(1) },
  ]);
  const verdict = failureRateVerdict(rollout, calls) ?? '';
  assert.match(verdict, /failed 10 of 40 activity calls \(25\.0 %\)/);
  assert.match(verdict, /workers a,/);
  assert.match(verdict, /10 of 200 calls, 5\.0 %/);
});

test('failures with a clean stable abort', () => {
  const calls = sumRolloutCalls(rollout, [
    { workerId: 'a', report: report([[5, 19, 1]]), reportedAt: at(1) },
  ]);
  assert.notEqual(failureRateVerdict(rollout, calls), null);
});

test('load failure of the candidate names worker', () => {
  const error = {
    code: 'IMPORT_FAILED',
    message: 'boom',
    revision: 5,
    package: '@acme/a',
    version: '2.0.0',
  };
  const verdict = loadFailureVerdict(rollout, {
    workerId: 'w-1',
    report: report([], error),
    reportedAt: at(1),
  });
  assert.equal(
    verdict,
    'worker w-1 could not serve candidate revision 5 (@acme/a@2.0.0): IMPORT_FAILED: boom',
  );
  const older = { ...error, revision: 4 };
  const ignored = loadFailureVerdict(rollout, {
    workerId: 'w-1',
    report: report([], older),
    reportedAt: at(1),
  });
  assert.equal(ignored, null);
});
