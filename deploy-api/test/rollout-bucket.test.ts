import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { rolloutBucket, runsCandidate, workerTarget } from '../src/client/rollout-bucket.js';

const ids = Array.from({ length: 10_000 }, (_, index) => `worker-${index}`);

test('bucket is SHA-256 of queue and id, modulo 100', () => {
  const digest = createHash('sha256').update('orders/host-a-17').digest();
  assert.equal(rolloutBucket('orders', 'host-a-17'), digest.readUInt32BE(0) % 100);
});

test('bucket is stable and within 0 to 99', () => {
  for (const id of ids.slice(0, 500)) {
    const bucket = rolloutBucket('orders', id);
    assert.ok(Number.isInteger(bucket) && bucket >= 0 && bucket < 100, `${id}: ${bucket}`);
    assert.equal(rolloutBucket('orders', id), bucket);
  }
});

test('raising the percentage only adds workers', () => {
  let previous = new Set<string>();
  for (const percent of [0, 1, 10, 25, 50, 75, 99, 100]) {
    const chosen = new Set(ids.filter((id) => runsCandidate('orders', id, percent)));
    for (const id of previous) assert.ok(chosen.has(id), `${id} left at ${percent} %`);
    previous = chosen;
  }
  assert.equal(previous.size, ids.length);
});

test('percentages choose about that share', () => {
  for (const percent of [10, 25, 50]) {
    const chosen = ids.filter((id) => runsCandidate('orders', id, percent)).length;
    const share = (chosen / ids.length) * 100;
    // 10,000 draws: the standard deviation at 50 % is 0.5 points, so 2 points is 4 sigma.
    assert.ok(Math.abs(share - percent) < 2, `${percent} %: chose ${share.toFixed(2)} %`);
  }
});

test('task queue changes which workers are chosen', () => {
  const orders = ids.filter((id) => runsCandidate('orders', id, 10));
  const billing = new Set(ids.filter((id) => runsCandidate('billing', id, 10)));
  const both = orders.filter((id) => billing.has(id)).length;
  // Independent choices of 10 % overlap in about 1 % of all ids, not in 10 %.
  assert.ok(both < ids.length * 0.03, `${both} ids chosen on both queues`);
});

test('workerTarget picks candidate or stable', () => {
  const stablePackages = [{ name: '@acme/a', version: '1.0.0', integrity: 'sha512-a' }];
  const candidate = [{ name: '@acme/a', version: '2.0.0', integrity: 'sha512-b' }];
  const inside = ids.find((id) => rolloutBucket('q', id) < 30) as string;
  const outside = ids.find((id) => rolloutBucket('q', id) >= 30) as string;
  const state = {
    taskQueue: 'q',
    revision: 4,
    packages: candidate,
    rollout: { percent: 30, stableRevision: 3, stablePackages } as never,
  };
  assert.deepEqual(workerTarget(state, inside), { revision: 4, packages: candidate });
  assert.deepEqual(workerTarget(state, outside), { revision: 3, packages: stablePackages });
  const plain = { taskQueue: 'q', revision: 4, packages: candidate };
  assert.deepEqual(workerTarget(plain, outside), { revision: 4, packages: candidate });
});
