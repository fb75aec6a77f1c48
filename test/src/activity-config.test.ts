import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { packageConfig, runWithPackageConfig } from '@activity-deploy/activity-config';

test('packageConfig throws outside an activity', () => {
  assert.throws(() => packageConfig(), /outside an activity/);
});

test('packageConfig is empty in a plain activity', async () => {
  const env = new MockActivityEnvironment();
  const config = await env.run(async () => packageConfig());
  assert.deepEqual(config, {});
  assert.ok(Object.isFrozen(config));
});

test('runWithPackageConfig sets a frozen copy', async () => {
  const settings = { endpoint: 'http://127.0.0.1:9000', retries: 3 };
  const env = new MockActivityEnvironment();
  const config = await runWithPackageConfig(settings, () =>
    env.run(async () => {
      // Survives an await, as code after a request would see it.
      await new Promise((resolve) => setImmediate(resolve));
      return packageConfig<{ endpoint?: string; retries?: number }>();
    }),
  );
  assert.deepEqual(config, settings);
  assert.ok(Object.isFrozen(config));
  assert.notEqual(config, settings);
});

test('nested runWithPackageConfig wins', () => {
  const inner = runWithPackageConfig({ name: 'outer' }, () =>
    runWithPackageConfig({ name: 'inner' }, () => packageConfig()),
  );
  assert.deepEqual(inner, { name: 'inner' });
});
