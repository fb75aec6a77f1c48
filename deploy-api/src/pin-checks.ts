import semver from 'semver';
import type { PinnedPackage, TaskQueueState } from './client/types.js';
import { ApiError } from './errors.js';
import type { ResolvedVersion } from './registry-resolver.js';
import type { Store } from './store/store.js';

/**
 * Checks a pin must pass inside its transaction, against the state it would change.
 * The API never runs package code, so these read the package.json that the registry
 * serves and the reports of the queue's workers. The worker checks again when it loads
 * the package.
 */

/** Throws VERSION_VETOED when `name@version` is vetoed. */
export async function assertNotVetoed(
  store: Store,
  pinned: PinnedPackage,
  spec: string,
): Promise<void> {
  const veto = await store.vetoes.get(pinned.name, pinned.version);
  if (!veto) return;
  const via = spec === pinned.version ? '' : ` (resolved from ${JSON.stringify(spec)})`;
  throw new ApiError(
    'VERSION_VETOED',
    `${pinned.name}@${pinned.version}${via} is vetoed by ${veto.actor} at ${veto.createdAt}: ` +
      `${veto.reason}; pin another version, or lift the veto with ` +
      `DELETE /v1/packages/${pinned.name}/versions/${pinned.version}/veto`,
  );
}

/**
 * Throws VERSION_SKIPPED when a rollback on `taskQueue` moved away from `name@version`,
 * for pins that follow a range or dist-tag. An explicit pin of that version clears it.
 */
export async function assertNotSkipped(
  store: Store,
  taskQueue: string,
  pinned: PinnedPackage,
  spec: string,
): Promise<void> {
  const skips = await store.follows.skippedVersions(taskQueue, pinned.name);
  const skip = skips.find((entry) => entry.version === pinned.version);
  if (!skip) return;
  throw new ApiError(
    'VERSION_SKIPPED',
    `${pinned.name}@${pinned.version} (resolved from ${JSON.stringify(spec)}) was rolled back ` +
      `on task queue ${taskQueue} in revision ${skip.revision}, so a following pin skips it; ` +
      `pin ${pinned.version} explicitly to clear that, or follow another range or dist-tag`,
  );
}

/** Throws VERSION_VETOED when the package set of a rollback target contains a vetoed version. */
export async function assertNoVetoedPackages(
  store: Store,
  taskQueue: string,
  revision: number,
  packages: readonly PinnedPackage[],
): Promise<void> {
  const vetoed: PinnedPackage[] = [];
  for (const entry of packages) {
    if (await store.vetoes.get(entry.name, entry.version)) vetoed.push(entry);
  }
  if (vetoed.length === 0) return;
  const names = vetoed.map((entry) => `${entry.name}@${entry.version}`).join(', ');
  throw new ApiError(
    'VERSION_VETOED',
    `revision ${revision} of task queue ${taskQueue} contains vetoed ${names}; roll back to ` +
      'another revision, or lift the veto first',
  );
}

/**
 * Returns the activity names a package declares in `temporalActivities`, or undefined
 * when it declares none (a package published without the template's build step).
 */
export function parseDeclaredActivities(
  name: string,
  version: string,
  raw: unknown,
): string[] | undefined {
  if (raw === undefined) return undefined;
  const valid =
    Array.isArray(raw) &&
    raw.every((entry) => typeof entry === 'string' && entry.length > 0 && entry.length <= 200);
  if (!valid) {
    throw new ApiError(
      'INCOMPATIBLE_PACKAGE',
      `${name}@${version} declares temporalActivities as ${JSON.stringify(raw).slice(0, 200)} ` +
        'in its package.json; expected an array of activity names; publish a fixed version',
    );
  }
  return [...new Set(raw as string[])].sort();
}

/**
 * Throws ACTIVITY_NAME_CLASH when another package of the queue declares one of the
 * same activity names. Packages that declare no list are skipped here; the worker finds
 * their names when it imports them and reports a clash as a load failure.
 */
export async function assertNoActivityClash(
  store: Store,
  current: TaskQueueState,
  pinned: PinnedPackage,
  declared: readonly string[] | undefined,
): Promise<void> {
  if (declared === undefined) return;
  for (const other of current.packages) {
    if (other.name === pinned.name) continue;
    const theirs = await store.declaredActivities(other.name, other.version);
    const shared = declared.filter((activity) => theirs?.includes(activity));
    if (shared.length === 0) continue;
    throw new ApiError(
      'ACTIVITY_NAME_CLASH',
      `activity ${shared.join(', ')} is declared by both ${pinned.name}@${pinned.version} and ` +
        `${other.name}@${other.version} on task queue ${current.taskQueue}; Temporal routes ` +
        'activities by name alone, so rename it in one package or unpin the other first',
    );
  }
}

/**
 * Throws INCOMPATIBLE_PACKAGE when a worker of the queue that reported within
 * `staleAfterMs` runs a Temporal SDK outside the package's `@temporalio/activity` peer
 * range or a Node.js outside its `engines.node`. A queue without fresh reports passes.
 */
export async function assertCompatible(
  store: Store,
  taskQueue: string,
  pinned: PinnedPackage,
  resolved: Pick<ResolvedVersion, 'activityPeerRange' | 'nodeRange'>,
  staleAfterMs: number,
  now = Date.now(),
): Promise<void> {
  const { activityPeerRange, nodeRange } = resolved;
  if (activityPeerRange === undefined && nodeRange === undefined) return;
  const fresh = (await store.workerReports(taskQueue)).filter(
    (entry) => now - Date.parse(entry.reportedAt) <= staleAfterMs,
  );
  for (const { workerId, report } of fresh) {
    // The SDK's packages are released together, so the worker's SDK version is the
    // version of the @temporalio/activity it provides.
    const sdk = semver.valid(report.versions.temporalSdk);
    if (
      activityPeerRange !== undefined &&
      sdk !== null &&
      !semver.satisfies(sdk, activityPeerRange, { includePrerelease: true })
    ) {
      throw new ApiError(
        'INCOMPATIBLE_PACKAGE',
        `${pinned.name}@${pinned.version} needs @temporalio/activity ${activityPeerRange}, but ` +
          `worker ${workerId} on task queue ${taskQueue} runs Temporal SDK ${sdk}; widen the ` +
          'peer range and publish again, or upgrade the workers first',
      );
    }
    const node = semver.valid(report.versions.node);
    if (nodeRange !== undefined && node !== null && !semver.satisfies(node, nodeRange)) {
      throw new ApiError(
        'INCOMPATIBLE_PACKAGE',
        `${pinned.name}@${pinned.version} needs Node.js ${nodeRange} (engines.node), but ` +
          `worker ${workerId} on task queue ${taskQueue} runs Node.js ${node}; change ` +
          'engines.node and publish again, or upgrade the workers first',
      );
    }
  }
}
