// deployctl pin, then status --until-converged as CI runs it after a publish, with a real
// worker process applying the pin on the Temporal dev server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { copyTemplate, publish, setVersion } from './helpers/packages.js';
import { startTestStack, type TestStack } from './helpers/test-stack.js';

const deployctlMain = fileURLToPath(new URL('../../../cli/dist/src/main.js', import.meta.url));

describe('deployctl with a real worker', () => {
  let stack: TestStack;

  const deployctl = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const env = {
        ...process.env,
        DEPLOY_API_URL: stack.deployApi.url,
        DEPLOY_API_TOKEN: stack.deployApi.token,
      };
      execFile(process.execPath, [deployctlMain, ...args], { env }, (error, stdout, stderr) => {
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      });
    });

  before(async () => {
    stack = await startTestStack({ workerEnv: { WORKER_REPORT_INTERVAL_SECONDS: '1' } });
    const templateDir = await copyTemplate(stack.registry.url, stack.registry.publisherToken);
    await setVersion(templateDir, '1.0.0');
    await publish(templateDir);
  });

  after(async () => {
    await stack?.close();
  });

  test('until-converged returns once the worker applied the pin', async () => {
    const pinned = await deployctl(['pin', stack.taskQueue, '@acme/greetings', '1.0.0']);
    assert.equal(pinned.code, 0, pinned.stderr);
    const args = ['status', stack.taskQueue, '--until-converged', '--timeout', '60'];
    const result = await deployctl([...args, '--interval', '1']);
    assert.equal(result.code, 0, `${result.stderr}\n${result.stdout}`);
    // deployctl exited only after the worker reported revision 1, so it runs it now.
    assert.equal((await stack.workerStatus()).appliedRevision, 1);
    assert.match(result.stdout, /workers: 1 of 1 converged on revision 1\n/);
  });

  test('status --json shows the worker on the revision', async () => {
    const result = await deployctl(['status', stack.taskQueue, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const body = JSON.parse(result.stdout);
    assert.equal(body.revision, 1);
    assert.equal(body.workers.length, 1);
    assert.equal(body.workers[0].appliedRevision, 1);
    assert.equal(body.workers[0].stale, false);
    assert.equal(body.workers[0].versions.node, process.versions.node);
    assert.deepEqual(body.convergence, { active: 1, stale: 0, converged: 1, complete: true });
  });
});
