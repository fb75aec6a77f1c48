import semver from 'semver';
import type { FollowTarget, PinnedPackage } from './client/types.js';
import type { ErrorCode } from './errors.js';
import type { Packument, PackumentVersion } from './registry-resolver.js';
import { parseVersionSpec } from './validation.js';

/** Inputs of one follow decision, read from the registry and the store. */
export interface FollowInput {
  name: string;
  packument: Packument;
  follow: FollowTarget;
  /** Version the queue runs now. */
  current: string;
  vetoed: ReadonlySet<string>;
  /** Versions a rollback on the queue moved away from. */
  skipped: ReadonlySet<string>;
  /** Milliseconds since the epoch. */
  now: number;
}

/**
 * Decision of a follow check. `move` names the version to pin. `held` means a newer
 * version waits for its minimum age until `releaseAt`. `skipped` means the target
 * selects a vetoed or rolled-back version, so the pin stays.
 */
export type FollowSelection =
  | { outcome: 'move'; target: PackumentVersion; candidate: string; releaseAt: number | null }
  | { outcome: 'current'; candidate: string | null; releaseAt: null }
  | { outcome: 'held'; candidate: string; releaseAt: number | null }
  | { outcome: 'skipped'; candidate: string; code: ErrorCode; message: string; releaseAt: null }
  | {
      outcome: 'failed';
      candidate: string | null;
      code: ErrorCode;
      message: string;
      releaseAt: null;
    };

/**
 * Picks the version a following pin moves to. A range moves only upwards, to its highest
 * version that is neither vetoed, skipped nor younger than the minimum age. Prereleases
 * count only when the range names one, as `semver.satisfies` decides. A dist-tag is
 * followed wherever it points, backwards too, unless that version is vetoed or skipped.
 */
export function selectFollowVersion(input: FollowInput): FollowSelection {
  const kind = parseVersionSpec(input.name, input.follow.spec);
  return kind === 'tag' ? selectTag(input) : selectRange(input);
}

function selectTag(input: FollowInput): FollowSelection {
  const { name, packument, follow } = input;
  const version = packument['dist-tags']?.[follow.spec];
  const manifest = version === undefined ? undefined : packument.versions?.[version];
  if (version === undefined || manifest === undefined) {
    return {
      outcome: 'failed',
      candidate: version ?? null,
      releaseAt: null,
      code: 'VERSION_NOT_FOUND',
      message:
        `dist-tag ${JSON.stringify(follow.spec)} of ${name} points at no published version; ` +
        `set it with npm dist-tag add ${name}@<version> ${follow.spec}`,
    };
  }
  if (version === input.current) return { outcome: 'current', candidate: version, releaseAt: null };
  const excluded = exclusion(input, version);
  if (excluded) return { outcome: 'skipped', candidate: version, releaseAt: null, ...excluded };
  const releaseAt = releaseTime(input, version);
  if (releaseAt !== null && releaseAt > input.now) {
    return { outcome: 'held', candidate: version, releaseAt };
  }
  if (releaseAt === null && input.follow.minAgeSeconds !== undefined) {
    return { outcome: 'held', candidate: version, releaseAt: null };
  }
  return { outcome: 'move', target: manifest, candidate: version, releaseAt: null };
}

function selectRange(input: FollowInput): FollowSelection {
  const { packument, follow } = input;
  const newer = Object.keys(packument.versions ?? {})
    .filter((version) => semver.valid(version) !== null)
    .filter((version) => semver.satisfies(version, follow.spec))
    .filter((version) => semver.gt(version, input.current))
    .sort(semver.rcompare);
  const highest = newer[0];
  if (highest === undefined) return { outcome: 'current', candidate: null, releaseAt: null };

  let held: { version: string; releaseAt: number | null } | undefined;
  for (const version of newer) {
    if (exclusion(input, version)) continue;
    const releaseAt = releaseTime(input, version);
    const young =
      releaseAt === null ? input.follow.minAgeSeconds !== undefined : releaseAt > input.now;
    if (young) {
      // The newest held version is the one to report; the earliest release wakes the check.
      if (held === undefined) held = { version, releaseAt };
      else if (releaseAt !== null && (held.releaseAt === null || releaseAt < held.releaseAt)) {
        held = { version: held.version, releaseAt };
      }
      continue;
    }
    const manifest = packument.versions?.[version];
    if (manifest === undefined) continue;
    return {
      outcome: 'move',
      target: manifest,
      candidate: version,
      releaseAt: held?.releaseAt ?? null,
    };
  }
  if (held) return { outcome: 'held', candidate: held.version, releaseAt: held.releaseAt };
  const excluded = exclusion(input, highest);
  return excluded
    ? { outcome: 'skipped', candidate: highest, releaseAt: null, ...excluded }
    : { outcome: 'current', candidate: null, releaseAt: null };
}

/** Returns why `version` must not be followed to, or undefined when it may be. */
function exclusion(
  input: FollowInput,
  version: string,
): { code: ErrorCode; message: string } | undefined {
  const label = `${input.name}@${version}`;
  if (input.vetoed.has(version)) {
    return {
      code: 'VERSION_VETOED',
      message: `${label} is vetoed, so the pin stays at ${input.current}; lift the veto to follow it`,
    };
  }
  if (input.skipped.has(version)) {
    return {
      code: 'VERSION_SKIPPED',
      message:
        `${label} was rolled back on this task queue, so the pin stays at ${input.current}; ` +
        `pin ${version} explicitly to follow it again`,
    };
  }
  return undefined;
}

/**
 * Returns when `version` becomes old enough, in ms since the epoch: its publish time
 * from the registry's `time` field plus the minimum age. Null when the registry gives
 * no valid time; with a minimum age such a version is held, because its age is unknown.
 */
function releaseTime(input: FollowInput, version: string): number | null {
  const minAgeMs = (input.follow.minAgeSeconds ?? 0) * 1000;
  if (minAgeMs === 0) return 0;
  const published = Date.parse(input.packument.time?.[version] ?? '');
  return Number.isNaN(published) ? null : published + minAgeMs;
}

/**
 * Returns what a rollback from `from` to `to` changes for auto-follow: the versions it
 * moves away from, which following pins of the queue skip afterwards, and the versions
 * it restores, which they may follow again.
 */
export function rollbackSkips(
  from: readonly PinnedPackage[],
  to: readonly PinnedPackage[],
): {
  skipVersions: Array<{ name: string; version: string }>;
  unskipVersions: Array<{ name: string; version: string }>;
} {
  const versionIn = (list: readonly PinnedPackage[], name: string) =>
    list.find((entry) => entry.name === name)?.version;
  return {
    skipVersions: from
      .filter((entry) => versionIn(to, entry.name) !== entry.version)
      .map(({ name, version }) => ({ name, version })),
    unskipVersions: to
      .filter((entry) => versionIn(from, entry.name) !== entry.version)
      .map(({ name, version }) => ({ name, version })),
  };
}
