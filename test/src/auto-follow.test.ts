// Auto-follow against a real Verdaccio, real deploy APIs and a real SQLite file. Pins that
// follow a range or dist-tag move through the registry's notify hook and through the
// periodic re-check. They skip vetoed and rolled-back versions and wait for a minimum
// age, and bad input changes nothing.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import {
  deployApiOptionsFromEnv,
  startDeployApi,
  type RunningDeployApi,
} from '@activity-deploy/deploy-api';
import type { FollowCheck, TaskQueueState } from '@activity-deploy/deploy-api/client';
import { startControlPlane, type ControlPlane } from './helpers/control-plane.js';
import { publishGenerated, writePackage } from './helpers/packages.js';
import { npm } from './helpers/test-stack.js';

/** Publishes `name@version` with a one-activity module, through Verdaccio's publish route. */
async function publishVersion(
  plane: ControlPlane,
  name: string,
  version: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await publishGenerated(
    plane.registry.url,
    plane.registry.publisherToken,
    { name, version, main: 'index.js', ...extra },
    { 'index.js': `exports.work = async () => ${JSON.stringify(version)};\n` },
  );
}

/** Polls the state until its revision is at least `revision`, for at most `timeoutMs`. */
async function waitForRevision(
  plane: ControlPlane,
  taskQueue: string,
  revision: number,
  timeoutMs = 20_000,
): Promise<TaskQueueState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await plane.client.getState(taskQueue);
    if (!result.notModified && result.state.revision >= revision) return result.state;
    if (Date.now() > deadline) {
      const follow = await plane.client.followStatus(taskQueue);
      assert.fail(
        `task queue ${taskQueue} did not reach revision ${revision} in ${timeoutMs} ms; ` +
          `follow status: ${JSON.stringify(follow)}`,
      );
    }
    await sleep(200);
  }
}

/**
 * Polls the follow status until the pin of `name` was checked after `since` with
 * `outcome` and, when given, `candidate`. A re-check that read the registry just before
 * a publish may finish after `since`, so tests name the candidate they wait for.
 */
async function waitForCheck(
  plane: ControlPlane,
  taskQueue: string,
  name: string,
  since: number,
  outcome: FollowCheck['outcome'],
  candidate?: string,
  timeoutMs = 20_000,
): Promise<FollowCheck> {
  const deadline = Date.now() + timeoutMs;
  let last: FollowCheck | null | undefined;
  for (;;) {
    const status = await plane.client.followStatus(taskQueue);
    last = status.packages.find((entry) => entry.name === name)?.lastCheck;
    const recent = last && Date.parse(last.checkedAt) > since ? last : undefined;
    if (
      recent?.outcome === outcome &&
      (candidate === undefined || recent.candidate === candidate)
    ) {
      return recent;
    }
    if (Date.now() > deadline) {
      assert.fail(
        `no ${outcome} check of ${name} on ${taskQueue} in ${timeoutMs} ms; last: ${JSON.stringify(last)}`,
      );
    }
    await sleep(200);
  }
}

/** Returns the integrity that the registry lists for `name@version`. */
async function registryIntegrity(plane: ControlPlane, name: string, version: string) {
  const response = await fetch(new URL(name.replace('/', '%2f'), plane.registry.url));
  const packument = (await response.json()) as {
    versions: Record<string, { dist: { integrity: string } }>;
  };
  return packument.versions[version]?.dist.integrity;
}

describe('auto-follow through the notify hook', () => {
  let plane: ControlPlane;

  before(async () => {
    // A re-check once an hour, so that only the hook and release timers can move a pin.
    plane = await startControlPlane({
      notify: true,
      apiEnv: { DEPLOY_API_FOLLOW_INTERVAL_SECONDS: '3600' },
    });
  });

  after(async () => {
    await plane?.close();
  });

  test('publish moves a following range pin', async () => {
    const name = '@acme/follow-hook';
    const queue = 'hook-range';
    await publishVersion(plane, name, '1.0.0');
    const pinned = await plane.client.pin(queue, name, '^1.0.0', {
      reason: 'follow minors',
      follow: true,
      config: { greeting: 'hi' },
    });
    assert.equal(pinned.revision, 1);
    assert.deepEqual(pinned.packages[0]?.follow, { spec: '^1.0.0' });

    await publishVersion(plane, name, '1.1.0');
    const state = await waitForRevision(plane, queue, 2);
    assert.equal(state.revision, 2);
    const entry = state.packages[0];
    assert.equal(entry?.version, '1.1.0');
    assert.equal(entry?.integrity, await registryIntegrity(plane, name, '1.1.0'));
    assert.match(entry?.integrity ?? '', /^sha512-/);
    assert.deepEqual(entry?.follow, { spec: '^1.0.0' });
    assert.deepEqual(entry?.config, { greeting: 'hi' });

    const history = await plane.client.revisions(queue);
    const latest = history.revisions[0];
    assert.equal(latest?.actor, 'auto-follow');
    assert.equal(latest?.action, 'pin');
    assert.deepEqual(latest?.package, { name, spec: '^1.0.0' });
    assert.match(latest?.reason ?? '', /registry notification: 1\.0\.0 -> 1\.1\.0/);

    const audit = await plane.client.listAudit({ taskQueue: queue, limit: 1 });
    assert.equal(audit.entries[0]?.actor, 'auto-follow');
    assert.equal(audit.entries[0]?.target, `${name}@1.1.0`);

    const status = await plane.client.followStatus(queue);
    assert.equal(status.packages[0]?.lastCheck?.outcome, 'followed');
    assert.equal(status.packages[0]?.lastCheck?.candidate, '1.1.0');

    const configured = await plane.client.configure(queue, name, { disabled: true });
    assert.equal(configured.revision, 3);
    assert.deepEqual(configured.packages[0]?.follow, { spec: '^1.0.0' });
    assert.equal(configured.packages[0]?.disabled, true);
    await publishVersion(plane, name, '1.2.0');
    const disabledMove = await waitForRevision(plane, queue, 4);
    assert.equal(disabledMove.packages[0]?.version, '1.2.0');
    assert.equal(disabledMove.packages[0]?.disabled, true);
    assert.deepEqual(disabledMove.packages[0]?.config, { greeting: 'hi' });
  });

  test('range excludes a major and a prerelease', async () => {
    const name = '@acme/follow-major';
    const queue = 'hook-major';
    await publishVersion(plane, name, '1.0.0');
    await plane.client.pin(queue, name, '^1.0.0', { follow: true });

    for (const version of ['2.0.0', '1.1.0-beta.1']) {
      const since = Date.now();
      await publishVersion(plane, name, version);
      await waitForCheck(plane, queue, name, since, 'current');
      const result = await plane.client.getState(queue);
      assert.ok(!result.notModified);
      assert.equal(result.state.revision, 1, `after publishing ${version}`);
      assert.equal(result.state.packages[0]?.version, '1.0.0', `after publishing ${version}`);
    }
  });

  test('range with a prerelease follows prereleases', async () => {
    const name = '@acme/follow-beta';
    const queue = 'hook-beta';
    await publishVersion(plane, name, '2.0.0-beta.1', { publishConfig: { tag: 'beta' } });
    await plane.client.pin(queue, name, '^2.0.0-beta.1', { follow: true });
    await publishVersion(plane, name, '2.0.0-beta.2');
    const state = await waitForRevision(plane, queue, 2);
    assert.equal(state.packages[0]?.version, '2.0.0-beta.2');
  });

  test('minimum age holds a version back, then releases it', async () => {
    const name = '@acme/follow-aged';
    const queue = 'hook-aged';
    await publishVersion(plane, name, '1.0.0');
    const pinned = await plane.client.pin(queue, name, '^1.0.0', {
      follow: true,
      minAgeSeconds: 4,
    });
    assert.deepEqual(pinned.packages[0]?.follow, { spec: '^1.0.0', minAgeSeconds: 4 });

    const since = Date.now();
    await publishVersion(plane, name, '1.1.0');
    const held = await waitForCheck(plane, queue, name, since, 'held', '1.1.0');
    assert.equal(held.candidate, '1.1.0');
    assert.ok(held.releaseAt !== null);
    const current = await plane.client.getState(queue);
    assert.ok(!current.notModified);
    assert.equal(current.state.revision, 1);

    // No further publish: the release timer alone must move the pin.
    const state = await waitForRevision(plane, queue, 2);
    assert.equal(state.packages[0]?.version, '1.1.0');
    const history = await plane.client.revisions(queue, 1);
    const moved = history.revisions[0];
    assert.equal(moved?.actor, 'auto-follow');
    assert.match(moved?.reason ?? '', /minimum age reached/);
    assert.ok(Date.parse(moved?.createdAt ?? '') >= Date.parse(held.releaseAt ?? ''));
  });

  test('failing pin check is recorded, not pinned', async () => {
    const queue = 'hook-clash';
    await publishVersion(plane, '@acme/follow-owner', '1.0.0', { temporalActivities: ['charge'] });
    await publishVersion(plane, '@acme/follow-clash', '1.0.0', { temporalActivities: ['refund'] });
    await plane.client.pin(queue, '@acme/follow-owner', '1.0.0');
    await plane.client.pin(queue, '@acme/follow-clash', '^1.0.0', { follow: true });

    const since = Date.now();
    await publishVersion(plane, '@acme/follow-clash', '1.1.0', {
      temporalActivities: ['refund', 'charge'],
    });
    const rejected = await waitForCheck(
      plane,
      queue,
      '@acme/follow-clash',
      since,
      'rejected',
      '1.1.0',
    );
    assert.equal(rejected.code, 'ACTIVITY_NAME_CLASH');
    assert.equal(rejected.candidate, '1.1.0');
    assert.match(rejected.message ?? '', /charge/);
    const result = await plane.client.getState(queue);
    assert.ok(!result.notModified);
    assert.equal(result.state.revision, 2);
  });

  test('pin does not move during a rollout', async () => {
    const queue = 'hook-rollout';
    const name = '@acme/follow-rollout';
    await publishVersion(plane, '@acme/follow-base', '1.0.0');
    await publishVersion(plane, name, '1.0.0');
    await plane.client.pin(queue, '@acme/follow-base', '1.0.0');
    // A step without pauseSeconds waits, so the rollout stays running until promoted.
    const started = await plane.client.pin(queue, name, '^1.0.0', {
      follow: true,
      rollout: { steps: [{ percent: 10 }] },
    });
    assert.equal(started.revision, 2);
    assert.equal(started.rollout?.candidateRevision, 2);

    const since = Date.now();
    await publishVersion(plane, name, '1.1.0');
    const held = await waitForCheck(plane, queue, name, since, 'rejected', '1.1.0');
    assert.equal(held.code, 'ROLLOUT_IN_PROGRESS');
    const during = await plane.client.getState(queue);
    assert.ok(!during.notModified);
    assert.equal(during.state.revision, 2);

    await plane.client.rolloutAction(queue, 'promote', 'candidate is fine');
    await publishVersion(plane, name, '1.2.0');
    const moved = await waitForRevision(plane, queue, 3);
    assert.equal(moved.packages.find((entry) => entry.name === name)?.version, '1.2.0');
    assert.equal(moved.rollout, undefined);
  });

  test('bad input leaves state unchanged', async () => {
    const name = '@acme/follow-input';
    const queue = 'hook-input';
    await publishVersion(plane, name, '1.0.0');
    await plane.client.pin(queue, name, '^1.0.0', { follow: true });
    const reader = await plane.client.createToken({ name: 'follow-reader', role: 'read' });
    const pinPath = `/v1/task-queues/${queue}/packages/${name}`;
    const hookPath = '/v1/hooks/registry';
    const cases: Array<{
      title: string;
      method: string;
      path: string;
      body?: unknown;
      rawBody?: string;
      token?: string | null;
      status: number;
      code: string;
    }> = [
      {
        title: 'follow as a string',
        method: 'PUT',
        path: pinPath,
        body: { version: '^1.0.0', follow: 'yes' },
        status: 400,
        code: 'INVALID_REQUEST',
      },
      {
        title: 'follow as a number',
        method: 'PUT',
        path: pinPath,
        body: { version: '^1.0.0', follow: 1 },
        status: 400,
        code: 'INVALID_REQUEST',
      },
      {
        title: 'follow with an exact version',
        method: 'PUT',
        path: pinPath,
        body: { version: '1.0.0', follow: true },
        status: 400,
        code: 'INVALID_FOLLOW',
      },
      {
        title: 'follow of a git spec',
        method: 'PUT',
        path: pinPath,
        body: { version: 'github:acme/x', follow: true },
        status: 400,
        code: 'INVALID_VERSION_SPEC',
      },
      {
        title: 'negative minAgeSeconds',
        method: 'PUT',
        path: pinPath,
        body: { version: '^1.0.0', follow: true, minAgeSeconds: -1 },
        status: 400,
        code: 'INVALID_REQUEST',
      },
      {
        title: 'fractional minAgeSeconds',
        method: 'PUT',
        path: pinPath,
        body: { version: '^1.0.0', follow: true, minAgeSeconds: 1.5 },
        status: 400,
        code: 'INVALID_REQUEST',
      },
      {
        title: 'minAgeSeconds as a string',
        method: 'PUT',
        path: pinPath,
        body: { version: '^1.0.0', follow: true, minAgeSeconds: '60' },
        status: 400,
        code: 'INVALID_REQUEST',
      },
      {
        title: 'minAgeSeconds without follow',
        method: 'PUT',
        path: pinPath,
        body: { version: '^1.0.0', minAgeSeconds: 60 },
        status: 400,
        code: 'INVALID_FOLLOW',
      },
      {
        title: 'hook without a token',
        method: 'POST',
        path: hookPath,
        body: { name },
        token: null,
        status: 401,
        code: 'UNAUTHORIZED',
      },
      {
        title: 'hook with a wrong token',
        method: 'POST',
        path: hookPath,
        body: { name },
        token: 'not-the-hook-token',
        status: 401,
        code: 'UNAUTHORIZED',
      },
      {
        title: 'hook with a read token',
        method: 'POST',
        path: hookPath,
        body: { name },
        token: reader.token,
        status: 403,
        code: 'FORBIDDEN',
      },
      {
        title: 'hook without a name',
        method: 'POST',
        path: hookPath,
        body: { publishType: 'publish' },
        token: plane.hookToken,
        status: 400,
        code: 'INVALID_REQUEST',
      },
      {
        title: 'hook with an invalid name',
        method: 'POST',
        path: hookPath,
        body: { name: 'Bad Name' },
        token: plane.hookToken,
        status: 400,
        code: 'INVALID_PACKAGE_NAME',
      },
      {
        title: 'hook with an unknown property',
        method: 'POST',
        path: hookPath,
        body: { name, extra: 1 },
        token: plane.hookToken,
        status: 400,
        code: 'INVALID_REQUEST',
      },
      {
        title: 'hook with another package',
        method: 'POST',
        path: hookPath,
        body: { name, publishedPackage: '@acme/other@1.0.0' },
        token: plane.hookToken,
        status: 400,
        code: 'INVALID_REQUEST',
      },
      {
        title: 'hook with an unknown publishType',
        method: 'POST',
        path: hookPath,
        body: { name, publishType: 'star' },
        token: plane.hookToken,
        status: 400,
        code: 'INVALID_REQUEST',
      },
      {
        title: 'hook with a body that is not JSON',
        method: 'POST',
        path: hookPath,
        rawBody: '{"name":',
        token: plane.hookToken,
        status: 400,
        code: 'INVALID_REQUEST',
      },
    ];
    const before = await plane.client.getState(queue);
    const followBefore = await plane.client.followStatus(queue);
    assert.ok(!before.notModified);
    for (const entry of cases) {
      const response = await plane.request(entry.method, entry.path, {
        ...(entry.body === undefined ? {} : { body: entry.body }),
        ...(entry.rawBody === undefined ? {} : { rawBody: entry.rawBody }),
        ...(entry.token === undefined ? {} : { token: entry.token }),
      });
      assert.equal(response.status, entry.status, entry.title);
      assert.equal(response.body?.error?.code, entry.code, entry.title);
      assert.ok(response.body?.error?.message, entry.title);
    }
    const afterState = await plane.client.getState(queue);
    assert.ok(!afterState.notModified);
    assert.deepEqual(afterState.state, before.state);
    const followAfter = await plane.client.followStatus(queue);
    assert.deepEqual(
      followAfter.packages.map((entry) => entry.follow),
      followBefore.packages.map((entry) => entry.follow),
    );
  });

  test('hook with the hook token is accepted', async () => {
    const name = '@acme/follow-input';
    const response = await plane.request('POST', '/v1/hooks/registry', {
      body: { name, publishedPackage: `${name}@1.0.0`, publishType: 'publish' },
      token: plane.hookToken,
    });
    assert.equal(response.status, 202);
    assert.deepEqual(response.body, { name, following: 1 });
  });

  test('unpin and exact pin stop following', async () => {
    const name = '@acme/follow-stop';
    await publishVersion(plane, name, '1.0.0');
    await plane.client.pin('hook-stop', name, '^1.0.0', { follow: true });
    const exact = await plane.client.pin('hook-stop', name, '1.0.0');
    assert.equal(exact.changed, true);
    assert.equal(exact.packages[0]?.follow, undefined);
    assert.deepEqual(exact.diff.followed, [{ name, from: { spec: '^1.0.0' }, to: null }]);
    await plane.client.pin('hook-unpin', name, '^1.0.0', { follow: true });
    await plane.client.unpin('hook-unpin', name);

    const since = Date.now();
    await publishVersion(plane, name, '1.1.0');
    const response = await plane.request('POST', '/v1/hooks/registry', {
      body: { name },
      token: plane.hookToken,
    });
    assert.equal(response.body.following, 0);
    await sleep(1000);
    for (const queue of ['hook-stop', 'hook-unpin']) {
      const revisions = await plane.client.revisions(queue);
      assert.ok(
        revisions.revisions.every((record) => Date.parse(record.createdAt) < since),
        `a revision of ${queue} after the publish`,
      );
    }
  });
});

describe('auto-follow through the periodic re-check', () => {
  let plane: ControlPlane;
  let replica: RunningDeployApi | undefined;

  before(async () => {
    // No notify hook: only the re-check, once a second, learns of publishes.
    plane = await startControlPlane({ apiEnv: { DEPLOY_API_FOLLOW_INTERVAL_SECONDS: '1' } });
    replica = await startDeployApi(
      deployApiOptionsFromEnv({
        DATA_DIR: plane.dataDir,
        DEPLOY_API_PORT: '0',
        REGISTRY_URL: plane.registry.url,
        DEPLOY_API_FOLLOW_INTERVAL_SECONDS: '1',
      }),
      false,
    );
  });

  after(async () => {
    await replica?.close();
    await plane?.close();
  });

  test('re-check catches up without the hook', async () => {
    const name = '@acme/follow-poll';
    const queue = 'poll-range';
    await publishVersion(plane, name, '1.0.0');
    await plane.client.pin(queue, name, '^1.0.0', { follow: true });
    await publishVersion(plane, name, '1.1.0');
    const state = await waitForRevision(plane, queue, 2);
    assert.equal(state.packages[0]?.version, '1.1.0');
    const history = await plane.client.revisions(queue);
    assert.equal(history.revisions[0]?.actor, 'auto-follow');
    assert.match(history.revisions[0]?.reason ?? '', /re-check/);

    // Two APIs re-check the same database every second: the move is recorded once.
    await sleep(3000);
    const later = await plane.client.revisions(queue);
    assert.equal(later.revisions.length, 2);
    assert.equal(later.revisions.filter((record) => record.actor === 'auto-follow').length, 1);
  });

  test('dist-tag is followed, backwards too', async () => {
    const name = '@acme/follow-tag';
    const queue = 'poll-tag';
    await publishVersion(plane, name, '1.0.0');
    const pinned = await plane.client.pin(queue, name, 'latest', { follow: true });
    assert.deepEqual(pinned.packages[0]?.follow, { spec: 'latest' });
    await publishVersion(plane, name, '1.1.0');
    const forward = await waitForRevision(plane, queue, 2);
    assert.equal(forward.packages[0]?.version, '1.1.0');

    const dir = await writePackage(
      { name: 'dist-tag-runner', version: '0.0.0', private: true },
      {},
      plane.registry.url,
      plane.registry.publisherToken,
    );
    await npm(dir, ['dist-tag', 'add', `${name}@1.0.0`, 'latest']);
    const backward = await waitForRevision(plane, queue, 3);
    assert.equal(backward.packages[0]?.version, '1.0.0');
    assert.deepEqual(backward.packages[0]?.follow, { spec: 'latest' });
  });

  test('rolled-back and vetoed versions are skipped', async () => {
    const name = '@acme/follow-skip';
    const queue = 'poll-skip';
    await publishVersion(plane, name, '1.0.0');
    await plane.client.pin(queue, name, '^1.0.0', { follow: true });
    await publishVersion(plane, name, '1.1.0');
    await waitForRevision(plane, queue, 2);

    const rolledBack = await plane.client.rollback(queue);
    assert.equal(rolledBack.revision, 3);
    assert.equal(rolledBack.packages[0]?.version, '1.0.0');
    assert.deepEqual(rolledBack.packages[0]?.follow, { spec: '^1.0.0' });
    const skippedCheck = await waitForCheck(plane, queue, name, Date.now(), 'skipped', '1.1.0');
    assert.equal(skippedCheck.code, 'VERSION_SKIPPED');
    assert.equal(skippedCheck.candidate, '1.1.0');
    const status = await plane.client.followStatus(queue);
    assert.deepEqual(
      status.packages[0]?.skippedVersions.map((entry) => entry.version),
      ['1.1.0'],
    );

    await plane.client.vetoVersion(name, '1.2.0', 'breaks refunds');
    const since = Date.now();
    await publishVersion(plane, name, '1.2.0');
    const vetoedCheck = await waitForCheck(plane, queue, name, since, 'skipped', '1.2.0');
    assert.equal(vetoedCheck.code, 'VERSION_VETOED');
    assert.equal(vetoedCheck.candidate, '1.2.0');
    const held = await plane.client.getState(queue);
    assert.ok(!held.notModified);
    assert.equal(held.state.revision, 3);
    assert.equal(held.state.packages[0]?.version, '1.0.0');

    // A re-pin that follows skips the rolled-back version as the follower does.
    const repin = await plane.request('PUT', `/v1/task-queues/${queue}/packages/${name}`, {
      body: { version: '~1.1.0', follow: true },
    });
    assert.equal(repin.status, 409);
    assert.equal(repin.body.error.code, 'VERSION_SKIPPED');

    await publishVersion(plane, name, '1.3.0');
    const moved = await waitForRevision(plane, queue, 4);
    assert.equal(moved.packages[0]?.version, '1.3.0');

    // An explicit pin of the version clears the skip, so following may use it again.
    await plane.client.pin(queue, name, '1.1.0');
    const cleared = await plane.client.pin(queue, name, '~1.1.0', { follow: true });
    assert.equal(cleared.packages[0]?.version, '1.1.0');
    const clearedStatus = await plane.client.followStatus(queue);
    assert.deepEqual(clearedStatus.packages[0]?.skippedVersions, []);
  });
});
