// The publish-on-merge steps (scripts/publish-and-pin.js, then the optional wait with
// deployctl status) as the reusable GitHub workflow runs them, against the real registry
// and deploy API.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startControlPlane, type ControlPlane } from './helpers/control-plane.js';
import { copyTemplate, setVersion } from './helpers/packages.js';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../../../scripts/publish-and-pin.js', import.meta.url));
const deployctl = fileURLToPath(new URL('../../../cli/dist/src/main.js', import.meta.url));

/** Returns a loopback port that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return address.port;
}

describe('publish-and-pin script', () => {
  let plane: ControlPlane;
  let packageDir: string;

  const runScript = (env: Record<string, string>) =>
    run(process.execPath, [script], {
      env: {
        ...process.env,
        DEPLOY_API_URL: plane.api.url,
        DEPLOY_API_TOKEN: plane.api.token,
        TASK_QUEUE: 'greetings-staging',
        PACKAGE_DIR: packageDir,
        GITHUB_REPOSITORY: 'acme/greetings',
        GITHUB_SHA: 'abc123',
        ...env,
      },
    });

  before(async () => {
    plane = await startControlPlane();
    packageDir = await copyTemplate(plane.registry.url, plane.registry.publisherToken);
    await setVersion(packageDir, '1.4.0');
  });

  after(async () => {
    await plane?.close();
  });

  test('publishes the package and pins it on the staging queue', async () => {
    const { stdout } = await runScript({});
    assert.match(stdout, /publishing @acme\/greetings@1\.4\.0/);
    assert.match(stdout, /pinned @acme\/greetings@1\.4\.0 on greetings-staging as revision 1/);
    const { revisions } = await plane.client.revisions('greetings-staging');
    assert.equal(revisions.length, 1);
    assert.equal(revisions[0]?.packages[0]?.version, '1.4.0');
    assert.equal(revisions[0]?.reason, 'published by CI from acme/greetings@abc123');
  });

  test('second run skips the publish and creates no revision', async () => {
    const { stdout } = await runScript({});
    assert.match(stdout, /already published/);
    assert.match(stdout, /already pinned on greetings-staging \(revision 1\)/);
    const { revisions } = await plane.client.revisions('greetings-staging');
    assert.equal(revisions.length, 1);
  });

  test('wrong deploy token fails with the error code', async () => {
    await assert.rejects(
      runScript({ DEPLOY_API_TOKEN: 'wrong' }),
      (error: Error & { code?: number; stderr?: string }) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr ?? '', /UNAUTHORIZED/);
        return true;
      },
    );
  });

  test('unreachable deploy API exits 3 without the token', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/`;
    await assert.rejects(
      runScript({ DEPLOY_API_URL: url }),
      (error: Error & { code?: number; stderr?: string }) => {
        assert.equal(error.code, 3);
        assert.match(error.stderr ?? '', /could not reach the deploy API/);
        assert.ok(!(error.stderr ?? '').includes(plane.api.token));
        return true;
      },
    );
  });

  test('workflow wait without a worker exits 5', async () => {
    const args = [deployctl, 'status', 'greetings-staging', '--until-converged', '--timeout', '1'];
    await assert.rejects(
      run(process.execPath, args, {
        env: { ...process.env, DEPLOY_API_URL: plane.api.url, DEPLOY_API_TOKEN: plane.api.token },
      }),
      (error: Error & { code?: number; stdout?: string; stderr?: string }) => {
        assert.equal(error.code, 5);
        assert.match(error.stdout ?? '', /@acme\/greetings@1\.4\.0/);
        assert.match(error.stderr ?? '', /not converged: 0 of 0 active workers/);
        return true;
      },
    );
  });

  test('missing task queue is a usage error', async () => {
    await assert.rejects(
      runScript({ TASK_QUEUE: '' }),
      (error: Error & { code?: number; stderr?: string }) => {
        assert.equal(error.code, 2);
        assert.match(error.stderr ?? '', /missing TASK_QUEUE/);
        return true;
      },
    );
  });

  test('published tarball holds the compiled activities', async () => {
    const target = await mkdtemp(path.join(os.tmpdir(), 'packed-'));
    const { stdout } = await run(
      'npm',
      ['pack', '@acme/greetings@1.4.0', '--json', '--registry', plane.registry.url],
      { cwd: target },
    );
    const [packed] = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>;
    const files = packed?.files.map((file) => file.path).sort();
    assert.ok(files?.includes('dist/src/index.js'), `files: ${files?.join(', ')}`);
    assert.ok(files?.includes('package.json'));
    assert.ok(!files?.some((file) => file.startsWith('src/') || file.startsWith('dist/test/')));
  });
});
