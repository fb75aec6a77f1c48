import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { resolveRegistryOptions } from '../src/options.js';
import { buildVerdaccioConfig } from '../src/verdaccio-config.js';

type PackageRules = Record<string, { proxy?: string; publish?: string; access?: string }>;

test('storage and htpasswd live under the data directory', async () => {
  const config = await buildVerdaccioConfig(resolveRegistryOptions({ dataDir: '/srv/data' }));
  assert.equal(config.storage, path.join('/srv/data', 'registry', 'storage'));
  const auth = config.auth as { htpasswd: { file: string; max_users: number } };
  assert.equal(auth.htpasswd.file, path.join('/srv/data', 'registry', 'htpasswd'));
  assert.equal(auth.htpasswd.max_users, -1);
});

test('proxy to npmjs is off by default', async () => {
  const config = await buildVerdaccioConfig(resolveRegistryOptions({}));
  for (const [pattern, rule] of Object.entries(config.packages as PackageRules)) {
    assert.equal(rule.proxy, undefined, pattern);
    assert.equal(rule.publish, '$authenticated', pattern);
    assert.equal(rule.access, '$all', pattern);
  }
});

test('proxyNpmjs adds the npmjs uplink to every rule', async () => {
  const config = await buildVerdaccioConfig(resolveRegistryOptions({ proxyNpmjs: true }));
  const rules = Object.values(config.packages as PackageRules);
  assert.ok(rules.length > 0);
  for (const rule of rules) assert.equal(rule.proxy, 'npmjs');
});

test('invalid publisher name is rejected by name', () => {
  assert.throws(() => resolveRegistryOptions({ publisherName: 'Bad Name' }), /REGISTRY_PUBLISHER/);
});

test('notify hook is off without a notify URL', async () => {
  const config = await buildVerdaccioConfig(resolveRegistryOptions({}));
  assert.equal(config.notify, undefined);
});

test('notify hook calls the deploy API with its token', async () => {
  const config = await buildVerdaccioConfig(
    resolveRegistryOptions({
      notifyUrl: 'http://127.0.0.1:4000/v1/hooks/registry',
      notifyToken: 'hook-secret',
    }),
  );
  const notify = config.notify as Record<
    string,
    { method: string; endpoint: string; headers: Array<Record<string, string>>; content: string }
  >;
  const hook = notify['deploy-api'];
  assert.ok(hook);
  assert.equal(hook.method, 'POST');
  assert.equal(hook.endpoint, 'http://127.0.0.1:4000/v1/hooks/registry');
  assert.deepEqual(hook.headers, [
    { 'Content-Type': 'application/json' },
    { authorization: 'Bearer hook-secret' },
  ]);
  assert.match(hook.content, /"name":"\{\{name\}\}"/);
});

test('notify URL without a token is rejected by name', () => {
  assert.throws(
    () => resolveRegistryOptions({ notifyUrl: 'http://127.0.0.1:4000/v1/hooks/registry' }),
    /REGISTRY_NOTIFY_TOKEN/,
  );
});
