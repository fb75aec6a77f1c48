import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { afterEach, test } from 'node:test';
import { pino } from 'pino';
import {
  activityLogContext,
  routeConsoleToLogger,
  sdkLogger,
  type ActivityLogFields,
} from '../src/generation/logging.js';

/** Creates a pino logger that writes into `lines`, one parsed object per line. */
function capture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), lines };
}

const saved = { ...console };
afterEach(() => Object.assign(console, saved));

const fields: ActivityLogFields = {
  workflowId: 'wf-1',
  activityId: '7',
  activityType: 'charge',
  attempt: 2,
  package: '@acme/payments',
  version: '1.2.3',
  revision: 5,
};

test('console inside an activity logs its fields', () => {
  const { logger, lines } = capture();
  routeConsoleToLogger(logger);
  activityLogContext.run(fields, () => {
    console.log('charged %d cents', 250);
    console.error('card declined');
  });
  assert.equal(lines.length, 2);
  assert.equal(lines[0]?.msg, 'charged 250 cents');
  assert.equal(lines[0]?.level, 30);
  assert.equal(lines[1]?.msg, 'card declined');
  assert.equal(lines[1]?.level, 50);
  for (const line of lines) {
    for (const [key, value] of Object.entries(fields)) assert.equal(line[key], value, key);
    assert.equal(line.source, 'console');
  }
});

test('console outside an activity stays JSON', () => {
  const { logger, lines } = capture();
  routeConsoleToLogger(logger);
  console.warn({ plain: 'object' });
  assert.equal(lines.length, 1);
  assert.equal(lines[0]?.level, 40);
  assert.equal(lines[0]?.msg, "{ plain: 'object' }");
  assert.equal(lines[0]?.workflowId, undefined);
});

test('sdk logger maps levels and errors', () => {
  const { logger, lines } = capture();
  const sdk = sdkLogger(logger);
  sdk.debug('polling', { taskQueue: 'orders' });
  sdk.log('ERROR', 'activity failed', { error: new Error('boom') });
  assert.equal(lines[0]?.level, 20);
  assert.equal(lines[0]?.taskQueue, 'orders');
  assert.equal(lines[1]?.level, 50);
  assert.equal((lines[1]?.err as { message?: string } | undefined)?.message, 'boom');
  assert.equal(lines[1]?.error, undefined);
});
