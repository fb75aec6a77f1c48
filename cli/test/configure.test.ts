// deployctl configure against a real deploy API and registry: settings change in a new
// revision, the version stays, and bad input exits 2 before any request.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane } from './helpers/control-plane.js';
import { deployctl } from './helpers/run-deployctl.js';

const queue = 'billing';
const packageName = '@acme/invoices';

describe('deployctl configure', () => {
  let plane: ControlPlane;

  const currentPin = async () => {
    const result = await plane.client.getState(queue);
    if (result.notModified) throw new Error('unexpected 304 without If-None-Match');
    return { revision: result.state.revision, pin: result.state.packages[0] };
  };

  before(async () => {
    plane = await startControlPlane();
    await plane.publish(packageName, '1.0.0');
    await plane.client.pin(queue, packageName, '1.0.0');
  });

  after(async () => {
    await plane?.close();
  });

  test('config JSON becomes the pin settings', async () => {
    const result = await deployctl(
      ['configure', queue, packageName, '--config', '{"endpoint":"https://x.test","retries":3}'],
      plane.env,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /configured @acme\/invoices: revision 2 of task queue billing/);
    const { revision, pin } = await currentPin();
    assert.equal(revision, 2);
    assert.equal(pin?.version, '1.0.0');
    assert.deepEqual(pin?.config, { endpoint: 'https://x.test', retries: 3 });
  });

  test('disable and disabled activities keep the config', async () => {
    const result = await deployctl(
      [
        'configure',
        queue,
        packageName,
        '--disable-activity',
        'hello',
        '--disable-activity',
        'bye',
        '--json',
      ],
      plane.env,
    );
    assert.equal(result.code, 0, result.stderr);
    const body = JSON.parse(result.stdout);
    assert.equal(body.changed, true);
    assert.deepEqual(body.packages[0].disabledActivities, ['bye', 'hello']);
    assert.deepEqual(body.packages[0].config, { endpoint: 'https://x.test', retries: 3 });

    const disabled = await deployctl(['configure', queue, packageName, '--disable'], plane.env);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.equal((await currentPin()).pin?.disabled, true);
    const enabled = await deployctl(
      ['configure', queue, packageName, '--enable', '--enable-all-activities', '--clear-config'],
      plane.env,
    );
    assert.equal(enabled.code, 0, enabled.stderr);
    const { pin } = await currentPin();
    assert.equal(pin?.disabled, undefined);
    assert.equal(pin?.disabledActivities, undefined);
    assert.equal(pin?.config, undefined);
  });

  test('same settings again change nothing', async () => {
    const before = await currentPin();
    const result = await deployctl(['configure', queue, packageName, '--enable'], plane.env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /already these; task queue billing stays at revision/);
    assert.equal((await currentPin()).revision, before.revision);
  });

  test('package that is not pinned exits 1', async () => {
    const result = await deployctl(['configure', queue, '@acme/missing', '--disable'], plane.env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /PACKAGE_NOT_PINNED/);
  });

  test('bad options exit 2 and change nothing', async () => {
    const before = await currentPin();
    const cases: Array<[string[], RegExp]> = [
      [[], /changes nothing without a setting/],
      [['--config', '{not json'], /invalid --config/],
      [['--config', '[1,2]'], /expected a JSON object/],
      [['--disable', '--enable'], /--disable and --enable cannot be combined/],
      [['--config', '{}', '--clear-config'], /cannot be combined/],
    ];
    for (const [options, message] of cases) {
      const result = await deployctl(['configure', queue, packageName, ...options], plane.env);
      assert.equal(result.code, 2, `${options.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
    assert.equal((await currentPin()).revision, before.revision);
  });
});
