// deployctl's help and usage errors: these never reach the deploy API, so DEPLOY_API_URL
// points at a closed port and any request would exit 3 instead of 2.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { commands } from '../src/run.js';
import { deployctl } from './helpers/run-deployctl.js';

const env = { DEPLOY_API_URL: 'http://127.0.0.1:9/', DEPLOY_API_TOKEN: 'usage-test-token' };

describe('deployctl usage', () => {
  test('--help lists commands and exit codes', async () => {
    const result = await deployctl(['--help'], env);
    assert.equal(result.code, 0);
    for (const spec of commands) assert.match(result.stdout, new RegExp(`^  ${spec.name} `, 'm'));
    assert.match(result.stdout, /^ {2}4 {4}precondition failed/m);
    assert.match(result.stdout, /^ {2}5 {4}status --until-converged: not converged/m);
  });

  test('every command has --help', async () => {
    for (const spec of commands) {
      const result = await deployctl([...spec.name.split(' '), '--help'], env);
      assert.equal(result.code, 0, `${spec.name}: ${result.stderr}`);
      assert.match(result.stdout, new RegExp(`^Usage: deployctl ${spec.name}`), spec.name);
    }
  });

  test('no arguments prints help and exits 2', async () => {
    const result = await deployctl([], env);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^Usage: deployctl <command>/);
  });

  const cases: Array<{ args: string[]; message: RegExp }> = [
    { args: ['deploy', 'q'], message: /unknown command "deploy"/ },
    { args: ['tokens'], message: /missing tokens subcommand/ },
    { args: ['pin', 'q', '@acme/x'], message: /missing argument <version\|range\|tag>/ },
    { args: ['history', 'q', 'extra'], message: /unexpected argument "extra"/ },
    { args: ['history', 'q', '--limit', 'ten'], message: /invalid --limit "ten"/ },
    { args: ['history', 'q', '--limit', '0'], message: /from 1 to 1000/ },
    { args: ['rollback', 'q', '--to', '-1'], message: /--to/ },
    {
      args: ['rollback', 'q', '--to', '0'],
      message: /invalid --to "0": use a whole number of at least 1/,
    },
    { args: ['pin', 'q', 'p', '1.0.0', '--bogus'], message: /Unknown option '--bogus'/ },
    { args: ['pin', 'q', 'p', '1.0.0', '--if-match', 'abc'], message: /invalid --if-match/ },
    { args: ['status', 'q', '--interval', '0'], message: /invalid --interval "0"/ },
    { args: ['history', 'q', '--url', 'ftp://x/'], message: /use http or https/ },
    {
      args: ['history', 'q', '--url', 'http://user:secret@127.0.0.1:9/'],
      message: /must not contain credentials/,
    },
  ];
  for (const { args, message } of cases) {
    test(`usage error: ${args.join(' ')}`, async () => {
      const result = await deployctl(args, env);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.ok(!result.stderr.includes(env.DEPLOY_API_TOKEN));
    });
  }
});
