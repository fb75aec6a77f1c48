import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { runWithPackageConfig } from '@activity-deploy/activity-config';
import { CancelledFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import * as activities from '../src/index.js';
import { greet, greetSlowly } from '../src/index.js';

const { version, temporalActivities } = createRequire(import.meta.url)('../../package.json') as {
  version: string;
  temporalActivities?: string[];
};

test('package.json declares every exported activity', () => {
  // npm run build writes the list; the deploy API and the worker rely on it being exact.
  const exported = Object.keys(activities).filter(
    (name) => typeof (activities as Record<string, unknown>)[name] === 'function',
  );
  assert.deepEqual(temporalActivities, exported.sort());
});

test('greet names the person and the release', async () => {
  const env = new MockActivityEnvironment();
  const result = await env.run(greet, 'Ada');
  assert.equal(result, `Hello, Ada! (@acme/greetings@${version})`);
});

test('greet starts with the configured greeting', async () => {
  const env = new MockActivityEnvironment();
  const result = await runWithPackageConfig({ greeting: 'Howdy' }, () => env.run(greet, 'Ada'));
  assert.equal(result, `Howdy, Ada! (@acme/greetings@${version})`);
});

test('greet ignores a greeting that is not a string', async () => {
  const env = new MockActivityEnvironment();
  const result = await runWithPackageConfig({ greeting: 42 }, () => env.run(greet, 'Ada'));
  assert.equal(result, `Hello, Ada! (@acme/greetings@${version})`);
});

test('greetSlowly heartbeats once per second', async () => {
  const env = new MockActivityEnvironment();
  const beats: unknown[] = [];
  env.on('heartbeat', (details: unknown) => beats.push(details));
  const result = await env.run(greetSlowly, 'Ada', 2);
  assert.equal(result, `Hello, Ada! (@acme/greetings@${version})`);
  assert.deepEqual(beats, [0, 1]);
});

test('greetSlowly resumes from the last heartbeat', async () => {
  const env = new MockActivityEnvironment({ heartbeatDetails: 2 });
  const beats: unknown[] = [];
  env.on('heartbeat', (details: unknown) => beats.push(details));
  await env.run(greetSlowly, 'Ada', 3);
  assert.deepEqual(beats, [2]);
});

test('greetSlowly stops when cancelled', async () => {
  const env = new MockActivityEnvironment();
  const running = env.run(greetSlowly, 'Ada', 30);
  setTimeout(() => env.cancel(), 100);
  await assert.rejects(running, CancelledFailure);
});
