// Two deploy API processes on one PostgreSQL database, as replicas behind a load
// balancer: a write through either is seen by both, and a long-poll held by one wakes
// when the other records a revision. Runs in the PostgreSQL pass of npm test.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunningDeployApi } from '@activity-deploy/deploy-api';
import { startControlPlane, type ControlPlane } from './helpers/control-plane.js';
import { publish, setVersion, writePackage } from './helpers/packages.js';

const onPostgres = process.env.TEST_DEPLOY_API_DATABASE === 'postgres';

describe(
  'deploy API replicas',
  { skip: onPostgres ? false : 'replicas need PostgreSQL (the PostgreSQL pass runs this)' },
  () => {
    let plane: ControlPlane;
    let replica: RunningDeployApi;

    const call = async (api: RunningDeployApi, method: string, urlPath: string, init = {}) => {
      const response = await fetch(new URL(urlPath.replace(/^\//, ''), api.url), {
        method,
        ...init,
      });
      const text = await response.text();
      return {
        status: response.status,
        headers: response.headers,
        body: text ? JSON.parse(text) : undefined,
      };
    };
    const pin = (api: RunningDeployApi, queue: string, version: string) =>
      call(api, 'PUT', `/v1/task-queues/${queue}/packages/@acme/replicated`, {
        headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ version }),
      });

    before(async () => {
      plane = await startControlPlane();
      replica = await plane.startReplica();
      const dir = await writePackage(
        { name: '@acme/replicated', version: '1.0.0', main: 'index.js' },
        { 'index.js': 'exports.replicated = async () => "ok";\n' },
        plane.registry.url,
        plane.registry.publisherToken,
      );
      await publish(dir);
      await setVersion(dir, '1.1.0');
      await publish(dir);
    });

    after(async () => {
      await replica?.close();
      await plane?.close();
    });

    test('write through one replica is read through the other', async () => {
      const written = await pin(plane.api, 'shared', '1.0.0');
      assert.equal(written.status, 200);
      const read = await call(replica, 'GET', '/v1/task-queues/shared');
      assert.equal(read.status, 200);
      assert.equal(read.body.revision, written.body.revision);
      assert.equal(read.body.packages[0].version, '1.0.0');
    });

    test('long-poll on one replica wakes on a pin through the other', async () => {
      const first = await pin(plane.api, 'watched', '1.0.0');
      const etag = `"r${first.body.revision}"`;
      const startedAt = Date.now();
      const polled = call(replica, 'GET', '/v1/task-queues/watched?wait=30', {
        headers: { 'if-none-match': etag },
      });
      // Give the long-poll time to reach the replica and start waiting.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const second = await pin(plane.api, 'watched', '1.1.0');
      const woken = await polled;
      const waitedMs = Date.now() - startedAt;
      assert.equal(woken.status, 200);
      assert.equal(woken.body.revision, second.body.revision);
      assert.equal(woken.body.packages[0].version, '1.1.0');
      // Well under the 30 s wait: the long-poll ended because of the pin, not the timeout.
      assert.ok(waitedMs < 20_000, `long-poll returned after ${waitedMs} ms`);
    });

    test('concurrent pins through both replicas lose no revision', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          pin(
            index % 2 === 0 ? plane.api : replica,
            `race-${index % 4}`,
            index % 3 === 0 ? '1.0.0' : '1.1.0',
          ),
        ),
      );
      for (const result of results) assert.equal(result.status, 200, JSON.stringify(result.body));
      for (let queue = 0; queue < 4; queue++) {
        const history = await call(replica, 'GET', `/v1/task-queues/race-${queue}/revisions`);
        const revisions = history.body.revisions as Array<{ revision: number }>;
        const numbers = revisions.map((entry) => entry.revision);
        // Revisions of one queue are numbered 1..n without a gap or a duplicate.
        assert.deepEqual(
          [...numbers].sort((a, b) => a - b),
          Array.from({ length: numbers.length }, (_, index) => index + 1),
        );
      }
    });
  },
);
