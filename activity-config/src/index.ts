import { AsyncLocalStorage } from 'node:async_hooks';
import { Context } from '@temporalio/activity';

/** A value of a package's settings, as the deploy API stores it. */
export type ConfigValue = string | number | boolean | null;

/** The settings recorded with a package's pin: a flat, frozen object. */
export type PackageConfig = Readonly<Record<string, ConfigValue>>;

// The worker links this package into the module path of every activity package, as it
// does the Temporal SDK, so the worker and the activity code share this one instance.
const storage = new AsyncLocalStorage<PackageConfig>();
const emptyConfig: PackageConfig = Object.freeze({});

/**
 * Returns the frozen settings of the package whose activity is running, or an empty
 * object when its pin has none. The values are not checked against `T`, so declare its
 * keys optional and check the types you rely on.
 *
 * Call it inside an activity, not at import time: it throws outside an activity. In an
 * activity that no activity-deploy worker runs (such as under `MockActivityEnvironment`),
 * it returns the settings of an enclosing `runWithPackageConfig`, or an empty object.
 */
export function packageConfig<T extends object = PackageConfig>(): Readonly<T> {
  const config = storage.getStore();
  if (config !== undefined) return config as Readonly<T>;
  if (!inActivity()) {
    throw new Error(
      'packageConfig() was called outside an activity; call it inside the activity ' +
        'function, or wrap the call in runWithPackageConfig() in a test',
    );
  }
  return emptyConfig as Readonly<T>;
}

/**
 * Runs `fn` with `config` as the result of `packageConfig()` in it and in everything it
 * starts. The worker wraps each activity call in it; tests may use it too.
 */
export function runWithPackageConfig<R>(config: Record<string, ConfigValue>, fn: () => R): R {
  const frozen = Object.isFrozen(config) ? config : Object.freeze({ ...config });
  return storage.run(frozen, fn);
}

function inActivity(): boolean {
  try {
    Context.current();
    return true;
  } catch {
    return false;
  }
}
