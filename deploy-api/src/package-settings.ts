import type { PackageConfig, PackageSettings, PinnedPackage } from './client/types.js';
import { ApiError } from './errors.js';

/** Maximum size of a package's settings, as compact JSON in UTF-8 bytes. */
export const maxConfigBytes = 16_384;

/** Checks the total size of `config`. PackageConfigSchema checks its keys and values. */
export function assertConfigSize(name: string, config: PackageConfig): void {
  const bytes = Buffer.byteLength(JSON.stringify(config));
  if (bytes > maxConfigBytes) {
    throw new ApiError(
      'INVALID_PACKAGE_CONFIG',
      `config of ${name} is ${bytes} bytes as JSON, more than the limit of ${maxConfigBytes}; ` +
        'keep large data out of the settings and store a URL or a name that points to it',
    );
  }
}

/** Returns the settings of a pin, with only the fields it sets. */
export function settingsOf(pinned: PinnedPackage): PackageSettings {
  const settings: PackageSettings = {};
  if (pinned.config !== undefined) settings.config = pinned.config;
  if (pinned.disabled === true) settings.disabled = true;
  if (pinned.disabledActivities !== undefined) {
    settings.disabledActivities = pinned.disabledActivities;
  }
  return settings;
}

/**
 * Returns the pin of `pinned` with `settings` in canonical form: config keys and
 * disabled activities sorted, and empty or false settings left out, so that a pin
 * without settings is stored and returned exactly as before settings existed. The
 * follow target of `pinned` is kept.
 */
export function withSettings(pinned: PinnedPackage, settings: PackageSettings): PinnedPackage {
  const result: PinnedPackage = {
    name: pinned.name,
    version: pinned.version,
    integrity: pinned.integrity,
  };
  const keys = Object.keys(settings.config ?? {}).sort();
  if (settings.config !== undefined && keys.length > 0) {
    const config = settings.config;
    result.config = Object.fromEntries(keys.map((key) => [key, config[key] ?? null]));
  }
  if (settings.disabled === true) result.disabled = true;
  if (settings.disabledActivities !== undefined && settings.disabledActivities.length > 0) {
    result.disabledActivities = [...new Set(settings.disabledActivities)].sort();
  }
  if (pinned.follow !== undefined) result.follow = pinned.follow;
  return result;
}

/** True when both pins follow the same target, or neither follows. */
export function sameFollow(a: PinnedPackage, b: PinnedPackage): boolean {
  return a.follow?.spec === b.follow?.spec && a.follow?.minAgeSeconds === b.follow?.minAgeSeconds;
}

/** True when both pins have the same version, integrity, settings and follow target. */
export function samePin(a: PinnedPackage, b: PinnedPackage): boolean {
  return (
    a.name === b.name &&
    a.version === b.version &&
    a.integrity === b.integrity &&
    sameSettings(a, b) &&
    sameFollow(a, b)
  );
}

/** True when both pins have the same settings, compared in canonical form. */
export function sameSettings(a: PinnedPackage, b: PinnedPackage): boolean {
  const canonical = (pinned: PinnedPackage) =>
    JSON.stringify(settingsOf(withSettings(pinned, settingsOf(pinned))));
  return canonical(a) === canonical(b);
}
