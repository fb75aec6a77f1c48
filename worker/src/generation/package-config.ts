import { runWithPackageConfig, type PackageConfig } from '@activity-deploy/activity-config';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { ActivityEntry, LocalPackage } from '../ipc.js';

/**
 * Runs each activity with the settings of the package that exports it, so that
 * `packageConfig()` in activity code returns them. The settings are frozen once here.
 */
export function packageConfigInterceptor(
  packages: readonly LocalPackage[],
  entries: readonly ActivityEntry[],
): ActivityInterceptorsFactory {
  const byPackage = new Map<string, PackageConfig>(
    packages.map((local) => [local.name, Object.freeze({ ...local.config })]),
  );
  const byActivity = new Map<string, PackageConfig>();
  for (const entry of entries) {
    const config = byPackage.get(entry.package);
    if (config) byActivity.set(entry.name, config);
  }
  const empty: PackageConfig = Object.freeze({});
  return (context) => ({
    inbound: {
      execute: (input, next) =>
        runWithPackageConfig(byActivity.get(context.info.activityType) ?? empty, () => next(input)),
    },
  });
}
