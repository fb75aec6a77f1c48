import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authorize, taskQueueMatches } from '../src/auth.js';
import type { TokenInfo } from '../src/client/types.js';
import { ApiError } from '../src/errors.js';

const token = (role: TokenInfo['role'], taskQueues: string[] | null): TokenInfo => ({
  name: 'ci',
  role,
  taskQueues,
  createdAt: '2026-01-01T00:00:00.000Z',
  createdBy: 'admin',
  bootstrap: false,
});

const forbidden = (error: unknown) => error instanceof ApiError && error.code === 'FORBIDDEN';

test('taskQueueMatches takes exact names and * patterns', () => {
  assert.equal(taskQueueMatches('orders', 'orders'), true);
  assert.equal(taskQueueMatches('orders', 'orders-2'), false);
  assert.equal(taskQueueMatches('staging-*', 'staging-eu'), true);
  assert.equal(taskQueueMatches('staging-*', 'prod-staging-eu'), false);
  assert.equal(taskQueueMatches('*.v2', 'orders.v2'), true);
  assert.equal(taskQueueMatches('a.b', 'axb'), false, 'a dot matches only a dot');
  assert.equal(taskQueueMatches('*', 'anything'), true);
});

test('authorize orders roles read, deploy, admin', () => {
  assert.doesNotThrow(() => authorize(token('admin', null), 'admin'));
  assert.doesNotThrow(() => authorize(token('deploy', null), 'read', 'orders'));
  assert.throws(() => authorize(token('deploy', null), 'admin'), forbidden);
  assert.throws(() => authorize(token('read', null), 'deploy', 'orders'), forbidden);
});

test('authorize limits read and deploy tokens to their queues', () => {
  const scoped = token('deploy', ['staging-*']);
  assert.doesNotThrow(() => authorize(scoped, 'deploy', 'staging-eu'));
  assert.throws(
    () => authorize(scoped, 'deploy', 'prod'),
    (error: unknown) =>
      forbidden(error) &&
      /token ci/.test((error as Error).message) &&
      /role deploy/.test((error as Error).message) &&
      /task queue prod/.test((error as Error).message),
  );
});
