import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChangeNotifier } from '../src/change-notifier.js';

const never = new AbortController().signal;

test('waitForChange resolves true on a new revision', async () => {
  const notifier = new ChangeNotifier();
  const waiting = notifier.waitForChange('q', 3, 10_000, never);
  notifier.notify('q', 3);
  notifier.notify('other', 4);
  notifier.notify('q', 4);
  assert.equal(await waiting, true);
});

test('waitForChange resolves false on timeout', async () => {
  const notifier = new ChangeNotifier();
  const started = Date.now();
  assert.equal(await notifier.waitForChange('q', 1, 50, never), false);
  assert.ok(Date.now() - started >= 45);
});

test('close ends every open wait at once', async () => {
  const notifier = new ChangeNotifier();
  const waits = [1, 2, 3].map((revision) => notifier.waitForChange('q', revision, 60_000, never));
  const started = Date.now();
  notifier.close();
  assert.deepEqual(await Promise.all(waits), [false, false, false]);
  assert.ok(Date.now() - started < 1000);
});
