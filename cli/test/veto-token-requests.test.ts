// veto, unveto, vetoes, tokens and audit against a loopback HTTP server. The server records
// each request and returns a canned response of the route contract. So the tests check the
// exact request deployctl sends and how it prints each response, errors included.
// vetoes-tokens.test.ts runs the same commands against the real deploy API.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { after, before, beforeEach, describe, test } from 'node:test';
import { deployctl } from './helpers/run-deployctl.js';

interface RecordedRequest {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: unknown;
}

interface StubResponse {
  status: number;
  body?: unknown;
}

const token = 'stub-admin-token';

async function readBody(request: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of request) text += String(chunk);
  return text ? JSON.parse(text) : undefined;
}

describe('deployctl veto, token and audit requests', () => {
  let server: Server;
  let env: { DEPLOY_API_URL: string; DEPLOY_API_TOKEN: string };
  let requests: RecordedRequest[] = [];
  let nextResponse: StubResponse = { status: 500 };

  before(async () => {
    server = createServer((request, response) => {
      void readBody(request).then((body) => {
        requests.push({
          method: request.method ?? '',
          url: request.url ?? '',
          authorization: request.headers.authorization,
          contentType: request.headers['content-type'],
          body,
        });
        response.statusCode = nextResponse.status;
        if (nextResponse.body === undefined) {
          response.end();
          return;
        }
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify(nextResponse.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('no address');
    env = { DEPLOY_API_URL: `http://127.0.0.1:${address.port}/`, DEPLOY_API_TOKEN: token };
  });

  beforeEach(() => {
    requests = [];
    nextResponse = { status: 500 };
  });

  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const veto = {
    name: '@acme/greetings',
    version: '1.1.0',
    reason: 'charges twice',
    actor: 'admin',
    createdAt: '2026-12-04T10:00:00.000Z',
  };

  test('veto sends the reason and lists the rollbacks', async () => {
    nextResponse = {
      status: 200,
      body: { ...veto, rolledBack: [{ taskQueue: 'greetings', revision: 7 }] },
    };
    const args = ['veto', '@acme/greetings', '1.1.0', '--reason', 'charges twice'];
    const result = await deployctl(args, env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(requests.length, 1);
    assert.equal(requests[0]?.method, 'POST');
    assert.equal(requests[0]?.url, '/v1/packages/%40acme%2Fgreetings/versions/1.1.0/veto');
    assert.equal(requests[0]?.authorization, `Bearer ${token}`);
    assert.equal(requests[0]?.contentType, 'application/json');
    assert.deepEqual(requests[0]?.body, { reason: 'charges twice' });
    assert.match(result.stdout, /vetoed @acme\/greetings@1\.1\.0: charges twice/);
    assert.match(result.stdout, /rolled back task queue greetings as revision 7/);
  });

  test('veto without --reason sends nothing', async () => {
    const result = await deployctl(['veto', '@acme/greetings', '1.1.0'], env);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /missing --reason/);
    assert.equal(requests.length, 0);
  });

  test('veto of a vetoed version exits 1 (409)', async () => {
    nextResponse = {
      status: 409,
      body: { error: { code: 'VERSION_VETOED', message: '@acme/greetings@1.1.0 is vetoed' } },
    };
    const args = ['veto', '@acme/greetings', '1.1.0', '--reason', 'again'];
    const result = await deployctl(args, env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /VERSION_VETOED \(HTTP 409\): @acme\/greetings@1\.1\.0 is vetoed/);
  });

  test('unveto sends DELETE with the reason', async () => {
    nextResponse = { status: 200, body: veto };
    const args = ['unveto', '@acme/greetings', '1.1.0', '--reason', 'fixed upstream', '--json'];
    const result = await deployctl(args, env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(requests[0]?.method, 'DELETE');
    assert.equal(requests[0]?.url, '/v1/packages/%40acme%2Fgreetings/versions/1.1.0/veto');
    assert.deepEqual(requests[0]?.body, { reason: 'fixed upstream' });
    assert.deepEqual(JSON.parse(result.stdout), veto);
  });

  test('vetoes lists versions', async () => {
    nextResponse = { status: 200, body: { name: '@acme/greetings', vetoes: [veto] } };
    const result = await deployctl(['vetoes', '@acme/greetings'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(requests[0]?.method, 'GET');
    assert.equal(requests[0]?.url, '/v1/packages/%40acme%2Fgreetings/vetoes');
    assert.equal(requests[0]?.body, undefined);
    assert.match(result.stdout, /^VERSION\s+ACTOR\s+TIME\s+REASON$/m);
    assert.match(result.stdout, /^1\.1\.0\s+admin\s+2026-12-04T10:00:00\.000Z\s+charges twice$/m);
  });

  test('tokens create sends role and task queues', async () => {
    nextResponse = {
      status: 201,
      body: {
        name: 'ci',
        role: 'deploy',
        taskQueues: ['greetings-staging', 'orders-staging'],
        createdAt: '2026-12-04T10:00:00.000Z',
        token: 'new-secret-value',
      },
    };
    const args = ['tokens', 'create', 'ci', '--role', 'deploy'];
    args.push('--task-queue', 'greetings-staging', '--task-queue', 'orders-staging');
    const result = await deployctl(args, env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(requests[0]?.method, 'POST');
    assert.equal(requests[0]?.url, '/v1/tokens');
    assert.deepEqual(requests[0]?.body, {
      name: 'ci',
      role: 'deploy',
      taskQueues: ['greetings-staging', 'orders-staging'],
    });
    assert.match(
      result.stdout,
      /created token ci \(role deploy, task queues greetings-staging,orders-staging\)/,
    );
    assert.equal(result.stdout.trim().split('\n').at(-1), 'new-secret-value');
    assert.ok(!result.stdout.includes(token));
  });

  test('tokens create without task queues omits them', async () => {
    nextResponse = {
      status: 201,
      body: { name: 'ops', role: 'admin', taskQueues: null, createdAt: '', token: 'x' },
    };
    const result = await deployctl(['tokens', 'create', 'ops', '--role', 'admin'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(requests[0]?.body, { name: 'ops', role: 'admin' });
  });

  test('tokens create rejects an unknown role', async () => {
    const result = await deployctl(['tokens', 'create', 'ci', '--role', 'owner'], env);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /invalid --role "owner": use read, deploy or admin/);
    assert.equal(requests.length, 0);
  });

  test('tokens list prints a table', async () => {
    nextResponse = {
      status: 200,
      body: {
        tokens: [
          { name: 'ci', role: 'deploy', taskQueues: ['a'], createdAt: '2026-12-04T10:00:00Z' },
          { name: 'ops', role: 'admin', taskQueues: [], createdAt: '2026-12-04T11:00:00Z' },
        ],
      },
    };
    const result = await deployctl(['tokens', 'list'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(requests[0]?.method, 'GET');
    assert.equal(requests[0]?.url, '/v1/tokens');
    assert.match(result.stdout, /^ci\s+deploy\s+a\s+2026-12-04T10:00:00Z$/m);
    assert.match(result.stdout, /^ops\s+admin\s+all\s+2026-12-04T11:00:00Z$/m);
  });

  test('tokens delete accepts 204', async () => {
    nextResponse = { status: 204 };
    const result = await deployctl(['tokens', 'delete', 'ci'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(requests[0]?.method, 'DELETE');
    assert.equal(requests[0]?.url, '/v1/tokens/ci');
    assert.equal(requests[0]?.body, undefined);
    assert.match(result.stdout, /deleted token ci/);
  });

  test('forbidden token exits 1 (403)', async () => {
    nextResponse = {
      status: 403,
      body: { error: { code: 'FORBIDDEN', message: 'token ci has role deploy; needs admin' } },
    };
    const result = await deployctl(['tokens', 'list'], env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /FORBIDDEN \(HTTP 403\): token ci has role deploy; needs admin/);
    assert.ok(!result.stderr.includes(token));
  });

  test('audit sends the filter and limit', async () => {
    nextResponse = {
      status: 200,
      body: {
        entries: [
          {
            id: 12,
            createdAt: '2026-12-04T10:00:00Z',
            actor: 'ci',
            action: 'pin',
            taskQueue: 'greetings',
            target: '@acme/greetings@1.1.0',
            reason: null,
            before: { revision: 1 },
            after: { revision: 2 },
          },
        ],
      },
    };
    const args = ['audit', '--task-queue', 'greetings', '--limit', '5'];
    const result = await deployctl(args, env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(requests[0]?.method, 'GET');
    assert.equal(requests[0]?.url, '/v1/audit?taskQueue=greetings&limit=5');
    assert.match(
      result.stdout,
      /^12\s+2026-12-04T10:00:00Z\s+ci\s+pin\s+greetings\s+@acme\/greetings@1\.1\.0\s+-$/m,
    );
  });

  test('audit without options sends no query', async () => {
    nextResponse = { status: 200, body: { entries: [] } };
    const result = await deployctl(['audit', '--json'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(requests[0]?.url, '/v1/audit');
    assert.deepEqual(JSON.parse(result.stdout), { entries: [] });
  });
});
