import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FollowTarget } from '../src/client/types.js';
import { rollbackSkips, selectFollowVersion, type FollowInput } from '../src/follow-selection.js';
import type { Packument } from '../src/registry-resolver.js';

const now = Date.parse('2026-12-04T12:00:00.000Z');

/** Builds a packument whose versions were published `ageSeconds` before `now`. */
function packument(ages: Record<string, number>, tags: Record<string, string> = {}): Packument {
  const versions = Object.fromEntries(
    Object.keys(ages).map((version) => [
      version,
      { version, dist: { integrity: `sha512-${version}` } },
    ]),
  );
  const time = Object.fromEntries(
    Object.entries(ages).map(([version, age]) => [
      version,
      new Date(now - age * 1000).toISOString(),
    ]),
  );
  return { name: 'pkg', 'dist-tags': tags, versions, time };
}

function input(
  follow: FollowTarget,
  document: Packument,
  current: string,
  extra: Partial<FollowInput> = {},
): FollowInput {
  return {
    name: 'pkg',
    packument: document,
    follow,
    current,
    vetoed: new Set(),
    skipped: new Set(),
    now,
    ...extra,
  };
}

describe('selectFollowVersion', () => {
  const ages = { '1.0.0': 900, '1.1.0': 600, '1.2.0-beta.1': 300, '2.0.0': 100 };

  test('range moves to its highest version', () => {
    const selection = selectFollowVersion(input({ spec: '^1.0.0' }, packument(ages), '1.0.0'));
    assert.equal(selection.outcome, 'move');
    assert.equal(selection.candidate, '1.1.0');
  });

  test('range skips prereleases it does not name', () => {
    const selection = selectFollowVersion(input({ spec: '^1.1.0' }, packument(ages), '1.1.0'));
    assert.equal(selection.outcome, 'current');
  });

  test('range that names a prerelease follows it', () => {
    const document = packument({ '1.2.0-beta.1': 300, '1.2.0-beta.2': 200 });
    const selection = selectFollowVersion(
      input({ spec: '^1.2.0-beta.1' }, document, '1.2.0-beta.1'),
    );
    assert.equal(selection.outcome, 'move');
    assert.equal(selection.candidate, '1.2.0-beta.2');
  });

  test('range never moves down', () => {
    const selection = selectFollowVersion(input({ spec: '^1.0.0' }, packument(ages), '1.1.0'));
    assert.equal(selection.outcome, 'current');
  });

  test('range skips vetoed and rolled-back versions', () => {
    const document = packument({ '1.0.0': 900, '1.1.0': 600, '1.2.0': 300 });
    const skipped = selectFollowVersion(
      input({ spec: '^1.0.0' }, document, '1.0.0', {
        vetoed: new Set(['1.2.0']),
        skipped: new Set(['1.1.0']),
      }),
    );
    assert.equal(skipped.outcome, 'skipped');
    assert.equal(skipped.candidate, '1.2.0');
    const lower = selectFollowVersion(
      input({ spec: '^1.0.0' }, document, '1.0.0', { vetoed: new Set(['1.2.0']) }),
    );
    assert.equal(lower.outcome, 'move');
    assert.equal(lower.candidate, '1.1.0');
  });

  test('minimum age holds a young version', () => {
    const document = packument({ '1.0.0': 900, '1.1.0': 600, '1.2.0': 30 });
    const selection = selectFollowVersion(
      input({ spec: '^1.0.0', minAgeSeconds: 60 }, document, '1.0.0'),
    );
    // 1.1.0 is old enough, so the pin moves there while 1.2.0 waits.
    assert.equal(selection.outcome, 'move');
    assert.equal(selection.candidate, '1.1.0');
    assert.equal(selection.releaseAt, now + 30_000);
    const waiting = selectFollowVersion(
      input({ spec: '^1.0.0', minAgeSeconds: 60 }, document, '1.1.0'),
    );
    assert.equal(waiting.outcome, 'held');
    assert.equal(waiting.candidate, '1.2.0');
    assert.equal(waiting.releaseAt, now + 30_000);
  });

  test('minimum age holds a version without a publish time', () => {
    const document = packument({ '1.0.0': 900, '1.1.0': 600 });
    delete document.time?.['1.1.0'];
    const selection = selectFollowVersion(
      input({ spec: '^1.0.0', minAgeSeconds: 60 }, document, '1.0.0'),
    );
    assert.equal(selection.outcome, 'held');
    assert.equal(selection.releaseAt, null);
  });

  test('dist-tag is followed backwards', () => {
    const document = packument(ages, { latest: '1.0.0' });
    const selection = selectFollowVersion(input({ spec: 'latest' }, document, '1.1.0'));
    assert.equal(selection.outcome, 'move');
    assert.equal(selection.candidate, '1.0.0');
  });

  test('dist-tag at a rolled-back version is skipped', () => {
    const document = packument(ages, { latest: '1.1.0' });
    const selection = selectFollowVersion(
      input({ spec: 'latest' }, document, '1.0.0', { skipped: new Set(['1.1.0']) }),
    );
    assert.equal(selection.outcome, 'skipped');
    assert.equal(selection.outcome === 'skipped' && selection.code, 'VERSION_SKIPPED');
  });

  test('missing dist-tag fails', () => {
    const selection = selectFollowVersion(input({ spec: 'next' }, packument(ages), '1.0.0'));
    assert.equal(selection.outcome, 'failed');
    assert.equal(selection.outcome === 'failed' && selection.code, 'VERSION_NOT_FOUND');
  });
});

test('rollbackSkips lists versions left and restored', () => {
  const pin = (name: string, version: string) => ({ name, version, integrity: 'sha512-x' });
  const result = rollbackSkips(
    [pin('a', '1.1.0'), pin('b', '2.0.0'), pin('c', '3.0.0')],
    [pin('a', '1.0.0'), pin('c', '3.0.0'), pin('d', '4.0.0')],
  );
  assert.deepEqual(result.skipVersions, [
    { name: 'a', version: '1.1.0' },
    { name: 'b', version: '2.0.0' },
  ]);
  assert.deepEqual(result.unskipVersions, [
    { name: 'a', version: '1.0.0' },
    { name: 'd', version: '4.0.0' },
  ]);
});
