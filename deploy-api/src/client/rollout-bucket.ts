import { createHash } from 'node:crypto';
import type { PinnedPackage, TaskQueueState } from './types.js';

/**
 * Returns the rollout bucket of a worker, from 0 to 99: the first 32 bits of the SHA-256
 * of `<taskQueue>/<workerId>`, modulo 100. A worker runs the candidate of a rollout when
 * its bucket is below the rollout's percentage, so raising the percentage only adds
 * workers. The task queue is part of the input, so that one host serving several queues
 * is not the first candidate of all of them.
 */
export function rolloutBucket(taskQueue: string, workerId: string): number {
  const digest = createHash('sha256').update(`${taskQueue}/${workerId}`).digest();
  // 2^32 is not a multiple of 100, so buckets 0 to 95 are 1 in 43 million more likely.
  return digest.readUInt32BE(0) % 100;
}

/** Returns true when the worker runs the candidate at `percent` (0 to 100). */
export function runsCandidate(taskQueue: string, workerId: string, percent: number): boolean {
  return rolloutBucket(taskQueue, workerId) < percent;
}

/** The revision and packages that one worker of a queue must run. */
export interface WorkerTarget {
  revision: number;
  packages: PinnedPackage[];
}

/**
 * Returns what `workerId` must run from a queue's desired state: the newest revision, or
 * during a rollout the candidate or the stable revision, as the worker's bucket selects.
 */
export function workerTarget(state: TaskQueueState, workerId: string): WorkerTarget {
  const rollout = state.rollout;
  if (!rollout || runsCandidate(state.taskQueue, workerId, rollout.percent)) {
    return { revision: state.revision, packages: state.packages };
  }
  return { revision: rollout.stableRevision, packages: rollout.stablePackages };
}
