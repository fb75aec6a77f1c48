import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../src/errors.js';
import { assertPackageName, assertTaskQueue, parseVersionSpec } from '../src/validation.js';

test('parseVersionSpec names the kind of spec', () => {
  assert.equal(parseVersionSpec('@acme/a', '1.2.3'), 'version');
  assert.equal(parseVersionSpec('@acme/a', '^1.2.0'), 'range');
  assert.equal(parseVersionSpec('@acme/a', '1.x'), 'range');
  assert.equal(parseVersionSpec('@acme/a', 'latest'), 'tag');
});

test('parseVersionSpec rejects specs that cannot be pinned', () => {
  for (const spec of [
    'github:acme/a',
    'file:../a',
    'https://example.test/a.tgz',
    'npm:other@1',
    '>>1',
  ]) {
    assert.throws(
      () => parseVersionSpec('@acme/a', spec),
      (error: unknown) => error instanceof ApiError && error.code === 'INVALID_VERSION_SPEC',
      spec,
    );
  }
});

test('assertPackageName rejects invalid names with the reason', () => {
  assert.doesNotThrow(() => assertPackageName('@acme/payments'));
  assert.doesNotThrow(() => assertPackageName('payments.v2'));
  for (const name of ['UPPER', '@acme/', ' lead', 'a'.repeat(215), '.hidden', 'node_modules']) {
    assert.throws(
      () => assertPackageName(name),
      (error: unknown) => error instanceof ApiError && error.code === 'INVALID_PACKAGE_NAME',
      name,
    );
  }
});

test('assertTaskQueue accepts one path segment only', () => {
  assert.doesNotThrow(() => assertTaskQueue('orders-staging'));
  assert.doesNotThrow(() => assertTaskQueue('team.orders:v2'));
  for (const name of ['', 'a/b', 'with space', '-leading', 'x'.repeat(201)]) {
    assert.throws(
      () => assertTaskQueue(name),
      (error: unknown) => error instanceof ApiError && error.code === 'INVALID_TASK_QUEUE',
      JSON.stringify(name),
    );
  }
});
