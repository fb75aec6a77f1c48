import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChangeNotifier, etagOrder } from '../src/change-notifier.js';

const state = (taskQueue: string, revision: number) => ({ taskQueue, revision, packages: [] });

test('waitForChange resolves with the new state', async () => {
  const notifier = new ChangeNotifier();
  const wait = notifier.waitForChange('q', '"r3"', 10_000);
  notifier.notify(state('q', 3));
  notifier.notify(state('other', 4));
  notifier.notify(state('q', 4));
  assert.deepEqual(await wait.changed, state('q', 4));
});

test('waitForChange resolves null on timeout', async () => {
  const notifier = new ChangeNotifier();
  const started = Date.now();
  assert.equal(await notifier.waitForChange('q', '"r1"', 50).changed, null);
  assert.ok(Date.now() - started >= 45);
});

test('close ends every open wait at once', async () => {
  const notifier = new ChangeNotifier();
  const waits = [1, 2, 3].map((revision) => notifier.waitForChange('q', `"r${revision}"`, 60_000));
  const started = Date.now();
  notifier.close();
  assert.deepEqual(await Promise.all(waits.map((wait) => wait.changed)), [null, null, null]);
  assert.ok(Date.now() - started < 1000);
  assert.equal(await notifier.waitForChange('q', '"r1"', 60_000).changed, null);
});

test('one notify wakes thousands of waits', async () => {
  const notifier = new ChangeNotifier();
  const waits = Array.from({ length: 5000 }, () => notifier.waitForChange('q', '"r1"', 60_000));
  notifier.notify(state('q', 2));
  const states = await Promise.all(waits.map((wait) => wait.changed));
  assert.equal(states.filter((woken) => woken?.revision === 2).length, 5000);
  // Every wait removed itself, so a later notify finds nothing to wake.
  const later = notifier.waitForChange('q', '"r2"', 50);
  notifier.notify(state('q', 2));
  assert.equal(await later.changed, null);
});

test('cancel ends only its own wait', async () => {
  const notifier = new ChangeNotifier();
  const cancelled = notifier.waitForChange('q', '"r1"', 60_000);
  const other = notifier.waitForChange('q', '"r1"', 60_000);
  cancelled.cancel();
  assert.equal(await cancelled.changed, null);
  notifier.notify(state('q', 2));
  assert.equal((await other.changed)?.revision, 2);
  cancelled.cancel();
});

test('rollout change on one revision wakes waits', async () => {
  const notifier = new ChangeNotifier();
  const wait = notifier.waitForChange('q', '"r3.1"', 10_000);
  const inRollout = (version: number) => ({ ...state('q', 3), rollout: { version } as never });
  notifier.notify(inRollout(1));
  notifier.notify(inRollout(2));
  assert.equal((await wait.changed)?.rollout?.version, 2);
});

test('wait after a newer notify ends at once', async () => {
  const notifier = new ChangeNotifier();
  // The reader read revision 3, and revision 4 was notified before it started waiting.
  notifier.notify(state('q', 4));
  const wait = notifier.waitForChange('q', '"r3"', 10_000);
  assert.deepEqual(await wait.changed, state('q', 4));
});

test('late older state wakes no newer wait', async () => {
  const notifier = new ChangeNotifier();
  const wait = notifier.waitForChange('q', '"r5"', 100);
  notifier.notify(state('q', 4));
  assert.equal(await wait.changed, null);
});

test('etagOrder puts a promoted state after its rollout', () => {
  assert.deepEqual(etagOrder('"r3.2"'), [3, 2]);
  assert.deepEqual(etagOrder('"r3"'), [3, Infinity]);
  assert.deepEqual(etagOrder('W/"r3"'), [-1, -1]);
});
