import type { TaskQueueState } from './client/types.js';

/**
 * Returns the strong ETag of a state: `"r<revision>"`, or during a rollout
 * `"r<revision>.<version>"`, where the rollout's version counts its changes. Revisions
 * only grow, and a rollout's candidate is always a new revision, so no two different
 * states share an ETag.
 */
export function stateEtag(state: TaskQueueState): string {
  return state.rollout ? `"r${state.revision}.${state.rollout.version}"` : `"r${state.revision}"`;
}

/** Returns true when an If-Match or If-None-Match header names `etag` (or is `*`). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((candidate) => {
    const trimmed = candidate.trim();
    return trimmed === '*' || trimmed === etag || trimmed === `W/${etag}`;
  });
}
