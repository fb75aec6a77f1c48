// deployctl rollout start, status, pause, resume, promote and abort against a real deploy
// API and registry, with the exit codes that scripts rely on.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane } from './helpers/control-plane.js';
import { deployctl } from './helpers/run-deployctl.js';

const queue = 'orders';
const packageName = '@acme/payments';

describe('deployctl rollout', () => {
  let plane: ControlPlane;

  before(async () => {
    plane = await startControlPlane();
    for (const version of ['1.0.0', '1.1.0', '1.2.0']) await plane.publish(packageName, version);
    await plane.client.pin(queue, packageName, '1.0.0');
  });

  after(async () => {
    await plane?.close();
  });

  test('commands fail with no rollout running', async () => {
    for (const action of ['pause', 'resume', 'promote', 'abort']) {
      const result = await deployctl(['rollout', action, queue], plane.env);
      assert.equal(result.code, 1, action);
      assert.match(result.stderr, /NO_ROLLOUT_RUNNING \(HTTP 409\): no rollout is running/);
    }
    const status = await deployctl(['rollout', 'status', queue], plane.env);
    assert.equal(status.code, 1);
    assert.match(status.stderr, /ROLLOUT_NOT_FOUND \(HTTP 404\)/);
  });

  test('bad arguments are usage errors', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['rollout', 'start', queue, packageName, '1.1.0'], /missing --steps/],
      [
        ['rollout', 'start', queue, packageName, '1.1.0', '--steps', '0:10'],
        /invalid --steps entry "0:10"/,
      ],
      [
        ['rollout', 'start', queue, packageName, '1.1.0', '--steps', '10:abc'],
        /invalid --steps entry "10:abc"/,
      ],
      [
        ['pin', queue, packageName, '1.1.0', '--min-calls', '5'],
        /--max-failure-ratio and --min-calls need --steps/,
      ],
      [
        [
          'rollout',
          'start',
          queue,
          packageName,
          '1.1.0',
          '--steps',
          '10',
          '--max-failure-ratio',
          '0.5',
        ],
        /invalid --max-failure-ratio "0.5"/,
      ],
      [['rollout', 'bogus', queue], /unknown command "rollout bogus"/],
      [['rollout'], /missing rollout subcommand/],
    ];
    for (const [args, message] of cases) {
      const result = await deployctl(args, plane.env);
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.stderr, message, args.join(' '));
    }
    const { revisions } = await plane.client.revisions(queue);
    assert.equal(revisions.length, 1);
  });

  test('falling percentages are rejected by the API', async () => {
    const result = await deployctl(
      ['rollout', 'start', queue, packageName, '1.1.0', '--steps', '50,10'],
      plane.env,
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /INVALID_ROLLOUT \(HTTP 400\)/);
  });

  test('start, pause, resume and promote', async () => {
    const started = await deployctl(
      ['rollout', 'start', queue, packageName, '1.1.0', '--steps', '10:600,50', '--min-calls', '5'],
      plane.env,
    );
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, /started the rollout of revision 2 of task queue orders/);
    assert.match(started.stdout, /~ @acme\/payments 1\.0\.0 -> 1\.1\.0/);
    assert.match(started.stdout, /steps: 10 % for 600 s, 50 %/);
    assert.match(started.stdout, /progressing, 10 % of workers, step 1 of 2/);

    const status = await deployctl(['rollout', 'status', queue, '--json'], plane.env);
    assert.equal(status.code, 0, status.stderr);
    const report = JSON.parse(status.stdout);
    assert.equal(report.candidateRevision, 2);
    assert.equal(report.stableRevision, 1);
    assert.equal(report.analysis.minCalls, 5);
    assert.deepEqual(report.calls.candidate, { revision: 2, completed: 0, failed: 0 });

    const blocked = await deployctl(['pin', queue, packageName, '1.2.0'], plane.env);
    assert.equal(blocked.code, 1);
    assert.match(blocked.stderr, /ROLLOUT_IN_PROGRESS \(HTTP 409\)/);

    const paused = await deployctl(['rollout', 'pause', queue, '--reason', 'lunch'], plane.env);
    assert.equal(paused.code, 0, paused.stderr);
    assert.match(paused.stdout, /paused the rollout of revision 2/);
    const again = await deployctl(['rollout', 'pause', queue], plane.env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /ROLLOUT_PAUSED/);

    const resumed = await deployctl(['rollout', 'resume', queue, '--json'], plane.env);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(JSON.parse(resumed.stdout).status, 'progressing');

    const stale = await deployctl(['rollout', 'promote', queue, '--if-match', '1'], plane.env);
    assert.equal(stale.code, 4);
    const promoted = await deployctl(['rollout', 'promote', queue], plane.env);
    assert.equal(promoted.code, 0, promoted.stderr);
    assert.match(promoted.stdout, /promoted the rollout of revision 2/);
    assert.match(promoted.stdout, /promoted by admin at .*: promoted by hand/);
  });

  test('pin --steps and abort', async () => {
    const started = await deployctl(
      ['pin', queue, packageName, '1.2.0', '--steps', '25', '--json'],
      plane.env,
    );
    assert.equal(started.code, 0, started.stderr);
    assert.equal(JSON.parse(started.stdout).rollout.percent, 25);
    const status = await deployctl(['status', queue], plane.env);
    assert.match(status.stdout, /rollout of revision 3 \(stable: revision 2\): paused, 25 %/);
    const aborted = await deployctl(['rollout', 'abort', queue, '--reason', 'too slow'], plane.env);
    assert.equal(aborted.code, 0, aborted.stderr);
    assert.match(aborted.stdout, /aborted by admin at .*: too slow/);
    const history = await deployctl(['history', queue, '--limit', '1'], plane.env);
    assert.match(history.stdout, /rollback .*abort of the rollout of revision 3: too slow/);
  });
});
