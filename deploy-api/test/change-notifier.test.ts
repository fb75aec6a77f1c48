import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChangeNotifier } from '../src/change-notifier.js';

const never = new AbortController().signal;
const state = (taskQueue: string, revision: number) => ({ taskQueue, revision, packages: [] });

test('waitForChange resolves with the new state', async () => {
  const notifier = new ChangeNotifier();
  const waiting = notifier.waitForChange('q', 3, 10_000, never);
  notifier.notify(state('q', 3));
  notifier.notify(state('other', 4));
  notifier.notify(state('q', 4));
  assert.deepEqual(await waiting, state('q', 4));
});

test('waitForChange resolves null on timeout', async () => {
  const notifier = new ChangeNotifier();
  const started = Date.now();
  assert.equal(await notifier.waitForChange('q', 1, 50, never), null);
  assert.ok(Date.now() - started >= 45);
});

test('close ends every open wait at once', async () => {
  const notifier = new ChangeNotifier();
  const waits = [1, 2, 3].map((revision) => notifier.waitForChange('q', revision, 60_000, never));
  const started = Date.now();
  notifier.close();
  assert.deepEqual(await Promise.all(waits), [null, null, null]);
  assert.ok(Date.now() - started < 1000);
});

test('one notify wakes thousands of waits', async () => {
  const notifier = new ChangeNotifier();
  const waits = Array.from({ length: 5000 }, () => notifier.waitForChange('q', 1, 60_000, never));
  notifier.notify(state('q', 2));
  const states = await Promise.all(waits);
  assert.equal(states.filter((woken) => woken?.revision === 2).length, 5000);
  // Every wait removed itself, so a later notify finds nothing to wake.
  const later = notifier.waitForChange('q', 2, 50, never);
  notifier.notify(state('q', 2));
  assert.equal(await later, null);
});

test('an aborted signal ends only its own wait', async () => {
  const notifier = new ChangeNotifier();
  const abort = new AbortController();
  const aborted = notifier.waitForChange('q', 1, 60_000, abort.signal);
  const other = notifier.waitForChange('q', 1, 60_000, never);
  abort.abort();
  assert.equal(await aborted, null);
  notifier.notify(state('q', 2));
  assert.equal((await other)?.revision, 2);
});
