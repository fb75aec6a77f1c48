// Rollouts in the deploy API against a real Verdaccio and SQLite, with worker reports sent
// over HTTP as workers send them. Covers the start by a write, steps on timers and across
// a restart, pause, resume, promote, abort, automatic aborts, and bad input that changes
// nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rolloutBucket, type WorkerReport } from '@activity-deploy/deploy-api/client';
import { startControlPlane, type ControlPlane } from './helpers/control-plane.js';
import { publishGenerated } from './helpers/packages.js';
import { waitFor } from './helpers/test-stack.js';

const queue = 'payments';
const packageName = '@acme/payments';
const packagePath = `/v1/task-queues/${queue}/packages/${packageName}`;

/** Returns a worker id whose bucket on `queue` satisfies `accept`. */
function workerIdWhere(accept: (bucket: number) => boolean, prefix: string): string {
  for (let index = 0; index < 10_000; index += 1) {
    const id = `${prefix}-${index}`;
    if (accept(rolloutBucket(queue, id))) return id;
  }
  throw new Error(`no worker id with prefix ${prefix} fits`);
}

function workerReport(overrides: Partial<WorkerReport>): WorkerReport {
  return {
    state: 'serving',
    appliedRevision: null,
    desiredRevision: null,
    versions: { node: process.versions.node, temporalSdk: '1.24.0' },
    lastError: null,
    ...overrides,
  };
}

describe('deploy API rollouts', () => {
  let plane: ControlPlane;

  const state = async () => {
    const response = await plane.request('GET', `/v1/task-queues/${queue}`);
    return { body: response.body, etag: response.headers.get('etag') };
  };
  const counts = async () => ({
    revisions: (await plane.client.revisions(queue)).revisions.length,
    audit: (await plane.client.listAudit({ taskQueue: queue, limit: 1000 })).entries.length,
    rollouts: (await plane.client.listRollouts(queue)).rollouts.length,
  });
  const startRollout = async (version: string, rollout: unknown) => {
    const response = await plane.request('PUT', packagePath, { body: { version, rollout } });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response;
  };
  const report = (workerId: string, body: WorkerReport) =>
    plane.request('PUT', `/v1/task-queues/${queue}/workers/${workerId}`, { body });
  const waitForEnd = (candidate: number, timeoutMs = 15_000) =>
    waitFor(
      `rollout of revision ${candidate} to end`,
      async () => {
        const rollout = await plane.client.getRollout(queue);
        return rollout.candidateRevision === candidate && rollout.endedAt !== null
          ? rollout
          : undefined;
      },
      timeoutMs,
    );

  before(async () => {
    plane = await startControlPlane();
    for (const version of ['1.0.0', '1.1.0', '1.2.0', '1.3.0']) {
      await publishGenerated(
        plane.registry.url,
        plane.registry.publisherToken,
        { name: packageName, version, main: 'index.js' },
        { 'index.js': `exports.charge = async () => ${JSON.stringify(version)};\n` },
      );
    }
    await plane.client.pin(queue, packageName, '1.0.0', 'first release');
  });

  after(async () => {
    await plane?.close();
  });

  test('bad rollout input changes nothing', async () => {
    const before = await state();
    const beforeCounts = await counts();
    const cases: Array<{
      name: string;
      method: string;
      path: string;
      body?: unknown;
      status: number;
      code: string;
      message: RegExp;
    }> = [
      {
        name: 'rollout of a queue that never had one',
        method: 'GET',
        path: `/v1/task-queues/${queue}/rollout`,
        status: 404,
        code: 'ROLLOUT_NOT_FOUND',
        message: /never had a rollout/,
      },
      {
        name: 'unknown rollout revision',
        method: 'GET',
        path: `/v1/task-queues/${queue}/rollouts/99`,
        status: 404,
        code: 'ROLLOUT_NOT_FOUND',
        message: /no rollout of revision 99/,
      },
      ...(['pause', 'resume', 'promote', 'abort'] as const).map((action) => ({
        name: `${action} with no rollout`,
        method: 'POST',
        path: `/v1/task-queues/${queue}/rollout/${action}`,
        body: {},
        status: 409,
        code: 'NO_ROLLOUT_RUNNING',
        message: /no rollout is running on task queue payments/,
      })),
      {
        name: 'percent 0',
        method: 'PUT',
        path: packagePath,
        body: { version: '1.1.0', rollout: { steps: [{ percent: 0 }] } },
        status: 400,
        code: 'INVALID_REQUEST',
        message: /body\.rollout\.steps\.0\.percent/,
      },
      {
        name: 'percent 101',
        method: 'PUT',
        path: packagePath,
        body: { version: '1.1.0', rollout: { steps: [{ percent: 101 }] } },
        status: 400,
        code: 'INVALID_REQUEST',
        message: /body\.rollout\.steps\.0\.percent/,
      },
      {
        name: 'fractional percent',
        method: 'PUT',
        path: packagePath,
        body: { version: '1.1.0', rollout: { steps: [{ percent: 12.5 }] } },
        status: 400,
        code: 'INVALID_REQUEST',
        message: /body\.rollout\.steps\.0\.percent/,
      },
      {
        name: 'no steps',
        method: 'PUT',
        path: packagePath,
        body: { version: '1.1.0', rollout: { steps: [] } },
        status: 400,
        code: 'INVALID_REQUEST',
        message: /body\.rollout\.steps/,
      },
      {
        name: 'falling percentages',
        method: 'PUT',
        path: packagePath,
        body: { version: '1.1.0', rollout: { steps: [{ percent: 50 }, { percent: 10 }] } },
        status: 400,
        code: 'INVALID_ROLLOUT',
        message: /rollout\.steps\.1\.percent 10: each step must raise the percentage/,
      },
      {
        name: 'repeated percentage',
        method: 'PUT',
        path: packagePath,
        body: { version: '1.1.0', rollout: { steps: [{ percent: 20 }, { percent: 20 }] } },
        status: 400,
        code: 'INVALID_ROLLOUT',
        message: /rollout\.steps\.1\.percent 20/,
      },
      {
        name: 'negative pause',
        method: 'PUT',
        path: packagePath,
        body: { version: '1.1.0', rollout: { steps: [{ percent: 20, pauseSeconds: -1 }] } },
        status: 400,
        code: 'INVALID_REQUEST',
        message: /pauseSeconds/,
      },
      {
        name: 'failure ratio below 1',
        method: 'PUT',
        path: packagePath,
        body: { version: '1.1.0', rollout: { steps: [{ percent: 20 }], maxFailureRatio: 0.5 } },
        status: 400,
        code: 'INVALID_REQUEST',
        message: /maxFailureRatio/,
      },
      {
        name: 'unknown rollout property',
        method: 'PUT',
        path: packagePath,
        body: { version: '1.1.0', rollout: { steps: [{ percent: 20 }], canary: true } },
        status: 400,
        code: 'INVALID_REQUEST',
        message: /unknown property "canary"/,
      },
      {
        name: 'rollout on a queue with no revision',
        method: 'PUT',
        path: `/v1/task-queues/empty-queue/packages/${packageName}`,
        body: { version: '1.1.0', rollout: { steps: [{ percent: 20 }] } },
        status: 409,
        code: 'NO_STABLE_REVISION',
        message: /task queue empty-queue has no revision yet/,
      },
    ];
    for (const entry of cases) {
      const response = await plane.request(entry.method, entry.path, {
        ...(entry.body === undefined ? {} : { body: entry.body }),
      });
      assert.equal(
        response.status,
        entry.status,
        `${entry.name}: ${JSON.stringify(response.body)}`,
      );
      assert.equal(response.body.error.code, entry.code, entry.name);
      assert.match(response.body.error.message, entry.message, entry.name);
    }
    const afterState = await state();
    assert.deepEqual(afterState, before);
    assert.deepEqual(await counts(), beforeCounts);
    const empty = await plane.request('GET', '/v1/task-queues/empty-queue');
    assert.equal(empty.body.revision, 0);
  });

  test('OpenAPI lists rollout routes and codes', async () => {
    const response = await plane.request('GET', '/openapi.json');
    assert.equal(response.status, 200);
    const paths = Object.keys(response.body.paths);
    for (const route of ['rollout', 'rollouts', 'rollouts/{revision}', 'rollout/abort']) {
      assert.ok(paths.includes(`/v1/task-queues/{taskQueue}/${route}`), route);
    }
    const pin = response.body.paths['/v1/task-queues/{taskQueue}/packages/{*}'].put;
    const body = pin.requestBody.content['application/json'].schema;
    assert.deepEqual(body.properties.rollout.required, ['steps']);
    assert.match(response.body.info.description, /ROLLOUT_IN_PROGRESS/);
    assert.ok(response.body.components.schemas.RolloutReport);
  });

  test('dry run shows the rollout and stores nothing', async () => {
    const beforeCounts = await counts();
    const response = await plane.request('PUT', `${packagePath}?dryRun=true`, {
      body: { version: '1.1.0', rollout: { steps: [{ percent: 25, pauseSeconds: 60 }] } },
    });
    assert.equal(response.status, 200);
    assert.equal(response.body.dryRun, true);
    assert.equal(response.body.rollout.percent, 25);
    assert.equal(response.body.rollout.stableRevision, 1);
    assert.deepEqual(await counts(), beforeCounts);
    assert.equal((await state()).body.rollout, undefined);
  });

  test('write starts a rollout at the first step', async () => {
    const response = await startRollout('1.1.0', {
      steps: [{ percent: 10 }, { percent: 50 }],
    });
    assert.equal(response.body.revision, 2);
    assert.equal(response.body.rollout.candidateRevision, 2);
    assert.equal(response.body.rollout.stableRevision, 1);
    assert.equal(response.body.rollout.percent, 10);
    assert.equal(response.body.rollout.stepIndex, 0);
    // A step without pauseSeconds waits to be resumed.
    assert.equal(response.body.rollout.status, 'paused');
    assert.equal(response.headers.get('etag'), '"r2.1"');
    const current = await state();
    assert.equal(current.etag, '"r2.1"');
    assert.equal(current.body.packages[0].version, '1.1.0');
    assert.equal(current.body.rollout.stablePackages[0].version, '1.0.0');
    assert.deepEqual(current.body.rollout.analysis, { maxFailureRatio: 2, minCalls: 20 });
  });

  test('writes during a rollout are rejected', async () => {
    const before = await state();
    const beforeCounts = await counts();
    const writes: Array<[string, string, unknown]> = [
      ['PUT', packagePath, { version: '1.2.0' }],
      ['PUT', packagePath, { version: '1.2.0', rollout: { steps: [{ percent: 50 }] } }],
      ['PATCH', packagePath, { config: { region: 'eu' } }],
      ['DELETE', packagePath, {}],
      ['POST', `/v1/task-queues/${queue}/rollback`, {}],
    ];
    for (const [method, path, body] of writes) {
      const response = await plane.request(method, path, { body });
      assert.equal(response.status, 409, `${method} ${path}`);
      assert.equal(response.body.error.code, 'ROLLOUT_IN_PROGRESS', `${method} ${path}`);
      assert.match(response.body.error.message, /promote or abort it first/);
    }
    const pause = await plane.request('POST', `/v1/task-queues/${queue}/rollout/pause`, {
      body: {},
    });
    assert.equal(pause.status, 409);
    assert.equal(pause.body.error.code, 'ROLLOUT_PAUSED');
    const stale = await plane.request('POST', `/v1/task-queues/${queue}/rollout/resume`, {
      body: {},
      headers: { 'if-match': '"r2"' },
    });
    assert.equal(stale.status, 412);
    assert.equal(stale.body.error.code, 'PRECONDITION_FAILED');
    assert.deepEqual(await state(), before);
    assert.deepEqual(await counts(), beforeCounts);
  });

  test('resume raises the percentage and wakes long-polls', async () => {
    const poll = plane.client.getState(queue, { etag: '"r2.1"', waitSeconds: 30 });
    const resumed = await plane.client.rolloutAction(queue, 'resume', 'looks good', {
      ifMatch: '"r2.1"',
    });
    assert.equal(resumed.percent, 50);
    assert.equal(resumed.stepIndex, 1);
    assert.equal(resumed.status, 'paused');
    const woken = await poll;
    assert.equal(woken.notModified, false);
    assert.equal(woken.etag, '"r2.2"');
    assert.equal(woken.notModified ? null : woken.state.rollout?.percent, 50);
  });

  test('workers list shows each target revision', async () => {
    const inside = workerIdWhere((bucket) => bucket < 50, 'list');
    const outside = workerIdWhere((bucket) => bucket >= 50, 'list');
    await report(inside, workerReport({ appliedRevision: 2 }));
    await report(outside, workerReport({ appliedRevision: 1 }));
    const { workers } = await plane.client.workers(queue);
    const target = (id: string) => workers.find((worker) => worker.workerId === id)?.targetRevision;
    assert.equal(target(inside), 2);
    assert.equal(target(outside), 1);
    const rollout = await plane.client.getRollout(queue);
    assert.ok(rollout.workers.candidate.includes(inside));
    assert.ok(rollout.workers.stable.includes(outside));
  });

  test('resume after the last step promotes', async () => {
    const promoted = await plane.client.rolloutAction(queue, 'resume');
    assert.equal(promoted.status, 'promoted');
    assert.equal(promoted.percent, 100);
    assert.equal(promoted.endedBy, 'admin');
    const current = await state();
    assert.equal(current.etag, '"r2"');
    assert.equal(current.body.rollout, undefined);
    assert.equal(current.body.revision, 2);
  });

  test('abort appends a rollback to stable', async () => {
    const started = await startRollout('1.2.0', { steps: [{ percent: 50, pauseSeconds: 600 }] });
    assert.equal(started.body.rollout.status, 'progressing');
    const aborted = await plane.client.rolloutAction(queue, 'abort', 'latency went up');
    assert.equal(aborted.status, 'aborted');
    assert.equal(aborted.endReason, 'latency went up');
    const current = await state();
    assert.equal(current.body.revision, 4);
    assert.equal(current.body.packages[0].version, '1.1.0');
    assert.equal(current.body.rollout, undefined);
    const [latest] = (await plane.client.revisions(queue, 1)).revisions;
    assert.equal(latest?.action, 'rollback');
    assert.equal(latest?.rollbackTo, 2);
    assert.equal(latest?.actor, 'admin');
    assert.match(latest?.reason ?? '', /abort of the rollout of revision 3: latency went up/);
    const { entries } = await plane.client.listAudit({ taskQueue: queue, limit: 4 });
    assert.deepEqual(
      entries.map((entry) => entry.action),
      ['rollout-abort', 'rollback', 'rollout-start', 'pin'],
    );
  });

  test('step timers move through every step', async () => {
    const started = await startRollout('1.3.0', {
      steps: [
        { percent: 10, pauseSeconds: 2 },
        { percent: 40, pauseSeconds: 1 },
      ],
    });
    const candidate = started.body.revision as number;
    // A worker's long-poll learns of the step that the timer makes.
    const poll = await plane.client.getState(queue, {
      etag: started.headers.get('etag') ?? '',
      waitSeconds: 30,
    });
    assert.equal(poll.notModified, false);
    assert.equal(poll.notModified ? null : poll.state.rollout?.percent, 40);
    assert.equal(poll.etag, `"r${candidate}.2"`);
    const ended = await waitForEnd(candidate, 10_000);
    assert.equal(ended.status, 'promoted');
    assert.equal(ended.endedBy, 'rollout-timer');
    assert.equal(ended.endReason, 'every step completed');
    const took = Date.parse(ended.endedAt ?? '') - Date.parse(ended.startedAt);
    assert.ok(took >= 3000, `promoted after ${took} ms, before both pauses ended`);
    const { entries } = await plane.client.listAudit({ taskQueue: queue, limit: 3 });
    assert.deepEqual(
      entries.map((entry) => [entry.action, entry.actor]),
      [
        ['rollout-promote', 'rollout-timer'],
        ['rollout-step', 'rollout-timer'],
        ['rollout-start', 'admin'],
      ],
    );
    assert.equal((entries[1]?.after as { percent: number }).percent, 40);
    assert.equal((await state()).body.packages[0].version, '1.3.0');
  });

  test('pause keeps the time the step had left', async () => {
    const started = await startRollout('1.0.0', { steps: [{ percent: 20, pauseSeconds: 3 }] });
    const candidate = started.body.revision as number;
    const paused = await plane.client.rolloutAction(queue, 'pause', 'checking dashboards');
    assert.equal(paused.status, 'paused');
    assert.ok((paused.remainingMs ?? 0) > 2000, `remaining ${paused.remainingMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 3500));
    const still = await plane.client.getRollout(queue);
    assert.equal(still.status, 'paused');
    assert.equal(still.percent, 20);
    const again = await plane.request('POST', `/v1/task-queues/${queue}/rollout/resume`, {
      body: {},
    });
    assert.equal(again.status, 200);
    assert.equal(again.body.status, 'progressing');
    const notPaused = await plane.request('POST', `/v1/task-queues/${queue}/rollout/resume`, {
      body: {},
    });
    assert.equal(notPaused.status, 409);
    assert.equal(notPaused.body.error.code, 'ROLLOUT_NOT_PAUSED');
    const ended = await waitForEnd(candidate);
    assert.equal(ended.status, 'promoted');
  });

  test('step timer survives an API restart', async () => {
    const started = await startRollout('1.1.0', {
      steps: [{ percent: 10, pauseSeconds: 2 }, { percent: 60 }],
    });
    const candidate = started.body.revision as number;
    await plane.restartApi();
    const moved = await waitFor('the step after the restart', async () => {
      const rollout = await plane.client.getRollout(queue);
      return rollout.percent === 60 ? rollout : undefined;
    });
    assert.equal(moved.candidateRevision, candidate);
    assert.equal(moved.status, 'paused');
    assert.equal(moved.stepIndex, 1);
    await plane.restartApi();
    const kept = await plane.client.getRollout(queue);
    assert.equal(kept.status, 'paused');
    assert.equal(kept.percent, 60);
    const promoted = await plane.client.rolloutAction(queue, 'promote');
    assert.equal(promoted.status, 'promoted');
  });

  test('load failure on a worker aborts automatically', async () => {
    const started = await startRollout('1.2.0', { steps: [{ percent: 50 }] });
    const candidate = started.body.revision as number;
    const workerId = workerIdWhere((bucket) => bucket < 50, 'loader');
    const response = await report(
      workerId,
      workerReport({
        appliedRevision: candidate - 1,
        desiredRevision: candidate,
        lastError: {
          code: 'IMPORT_FAILED',
          message: 'missing PAYMENTS_URL',
          revision: candidate,
          package: packageName,
          version: '1.2.0',
        },
      }),
    );
    assert.equal(response.status, 204);
    const ended = await waitForEnd(candidate);
    assert.equal(ended.status, 'aborted');
    assert.equal(ended.endedBy, 'auto-abort');
    const [latest] = (await plane.client.revisions(queue, 1)).revisions;
    assert.equal(latest?.actor, 'auto-abort');
    assert.equal(latest?.rollbackTo, candidate - 1);
    assert.match(latest?.reason ?? '', new RegExp(`worker ${workerId} could not serve`));
    assert.match(latest?.reason ?? '', /IMPORT_FAILED: missing PAYMENTS_URL/);
    assert.match(latest?.reason ?? '', /@acme\/payments@1\.2\.0/);
    assert.equal((await state()).body.packages[0].version, '1.1.0');
  });

  test('failure rate aborts only past the sample', async () => {
    const started = await startRollout('1.3.0', {
      steps: [{ percent: 50 }],
      minCalls: 10,
      maxFailureRatio: 2,
    });
    const candidate = started.body.revision as number;
    const stableRevision = started.body.rollout.stableRevision as number;
    const onCandidate = workerIdWhere((bucket) => bucket < 50, 'rate');
    const onStable = workerIdWhere((bucket) => bucket >= 50, 'rate');
    await report(
      onStable,
      workerReport({
        appliedRevision: stableRevision,
        activityCalls: [{ revision: stableRevision, completed: 98, failed: 2 }],
      }),
    );
    // One failure in two calls: far above the stable rate, but too few calls to judge.
    await report(
      onCandidate,
      workerReport({
        appliedRevision: candidate,
        activityCalls: [{ revision: candidate, completed: 1, failed: 1 }],
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal((await plane.client.getRollout(queue)).status, 'paused');
    await report(
      onCandidate,
      workerReport({
        appliedRevision: candidate,
        activityCalls: [{ revision: candidate, completed: 6, failed: 6 }],
      }),
    );
    const ended = await waitForEnd(candidate);
    assert.equal(ended.status, 'aborted');
    assert.equal(ended.endedBy, 'auto-abort');
    assert.match(ended.endReason ?? '', /failed 6 of 12 activity calls \(50\.0 %\)/);
    assert.match(ended.endReason ?? '', new RegExp(`on workers ${onCandidate}`));
    assert.match(ended.endReason ?? '', /2 of 100 calls, 2\.0 %/);
    const [latest] = (await plane.client.revisions(queue, 1)).revisions;
    assert.equal(latest?.actor, 'auto-abort');
    assert.equal(latest?.rollbackTo, stableRevision);
  });
});
