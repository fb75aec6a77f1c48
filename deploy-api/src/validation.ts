import npa from 'npm-package-arg';
import semver from 'semver';
import validateName from 'validate-npm-package-name';
import type { FollowTarget } from './client/types.js';
import { ApiError } from './errors.js';

/**
 * Task queue names this API accepts: a letter or digit, then letters, digits, `.`, `_`, `-`
 * or `:`, 200 characters at most. Temporal itself allows more; slashes and spaces are
 * excluded here so that a name is always one URL path segment.
 */
const taskQueuePattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

export function assertTaskQueue(taskQueue: string): void {
  if (!taskQueuePattern.test(taskQueue)) {
    throw new ApiError(
      'INVALID_TASK_QUEUE',
      `invalid task queue ${JSON.stringify(taskQueue)}: use 1 to 200 letters, digits, ` +
        '".", "_", "-" or ":", starting with a letter or digit',
    );
  }
}

export function assertPackageName(name: string): void {
  const result = validateName(name);
  if (!result.validForNewPackages) {
    const problems = [...(result.errors ?? []), ...(result.warnings ?? [])].join('; ');
    throw new ApiError(
      'INVALID_PACKAGE_NAME',
      `invalid package name ${JSON.stringify(name)}: ${problems}`,
    );
  }
}

/** How a pin names its version: exactly, as a semver range, or as a dist-tag. */
export type SpecKind = 'version' | 'range' | 'tag';

/** Checks that `spec` is a version, range or dist-tag for `name`, and returns which. */
export function parseVersionSpec(name: string, spec: string): SpecKind {
  let parsed: npa.Result;
  try {
    parsed = npa.resolve(name, spec);
  } catch (error) {
    throw new ApiError(
      'INVALID_VERSION_SPEC',
      `invalid version ${JSON.stringify(spec)} for ${name}: ${(error as Error).message}; ` +
        'use an exact version (1.2.3), a semver range (^1.2.0) or a dist-tag (latest)',
    );
  }
  if (parsed.type === 'version' || parsed.type === 'range' || parsed.type === 'tag') {
    return parsed.type;
  }
  throw new ApiError(
    'INVALID_VERSION_SPEC',
    `invalid version ${JSON.stringify(spec)} for ${name}: a ${parsed.type} spec cannot be pinned; ` +
      'use an exact version (1.2.3), a semver range (^1.2.0) or a dist-tag (latest)',
  );
}

/** Checks that `version` is an exact semver version, as vetoes name them. */
export function assertExactVersion(name: string, version: string): void {
  if (semver.valid(version) !== version) {
    throw new ApiError(
      'INVALID_VERSION_SPEC',
      `invalid version ${JSON.stringify(version)} for ${name}: a veto names one exact ` +
        'version, such as 1.2.3',
    );
  }
}

/**
 * Checks the follow fields of a pin request and returns the follow target, or undefined
 * for a pin that stays put. An exact version never moves, so it cannot be followed.
 */
export function parseFollow(
  name: string,
  spec: string,
  kind: SpecKind,
  follow: boolean | undefined,
  minAgeSeconds: number | undefined,
): FollowTarget | undefined {
  if (follow !== true) {
    if (minAgeSeconds === undefined) return undefined;
    throw new ApiError(
      'INVALID_FOLLOW',
      `minAgeSeconds ${minAgeSeconds} for ${name} applies only to a following pin; add ` +
        '"follow": true or remove minAgeSeconds',
    );
  }
  if (kind === 'version') {
    throw new ApiError(
      'INVALID_FOLLOW',
      `cannot follow ${name}@${spec}: an exact version never moves; follow a semver range ` +
        '(^1.2.0) or a dist-tag (latest), or pin the version without "follow"',
    );
  }
  return minAgeSeconds === undefined || minAgeSeconds === 0 ? { spec } : { spec, minAgeSeconds };
}
