// Tarballs that must never be unpacked: entries that leave the package folder, links to
// outside it, and tarballs over the compressed or unpacked size limit. They are
// published to the real registry with `npm publish <tarball>`, pinned, and refused by
// the worker before anything is written, while the serving set keeps serving.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { create } from 'tar';
import { publish, writeNpmrc, writePackage } from './helpers/packages.js';
import { npm, startTestStack, waitFor, type TestStack } from './helpers/test-stack.js';
import { startWorkflowRunner, type WorkflowRunner } from './helpers/workflows.js';

/** Builds `<name>-1.0.0.tgz` from `files` (paths below `package/`) plus raw `extra` entries. */
async function buildTarball(
  name: string,
  files: Record<string, string | Buffer>,
  addExtra?: (root: string) => Promise<string[]>,
): Promise<string> {
  // Nested, so that entries climbing out with ../ still land inside this temporary tree.
  const root = path.join(await mkdtemp(path.join(os.tmpdir(), 'evil-tarball-')), 'a', 'b', 'c');
  await mkdir(path.join(root, 'package'), { recursive: true });
  const manifest = { name, version: '1.0.0', main: 'index.js' };
  await writeFile(path.join(root, 'package', 'package.json'), JSON.stringify(manifest));
  await writeFile(path.join(root, 'package', 'index.js'), 'exports.evil = async () => "ran";\n');
  for (const [file, content] of Object.entries(files)) {
    await writeFile(path.join(root, 'package', file), content);
  }
  const entries = [
    'package/package.json',
    'package/index.js',
    ...Object.keys(files).map((f) => `package/${f}`),
  ];
  entries.push(...((await addExtra?.(root)) ?? []));
  const file = path.join(root, `${name.replace('@', '').replace('/', '-')}-1.0.0.tgz`);
  // preservePaths keeps ../ and absolute entry names as written.
  await create({ gzip: true, cwd: root, file, preservePaths: true, portable: true }, entries);
  return file;
}

describe('tarball safety', () => {
  let stack: TestStack;
  let runner: WorkflowRunner;
  const marker = `escaped-${randomUUID()}.txt`;

  const publishTarball = async (tarball: string) => {
    const dir = path.dirname(tarball);
    await writeNpmrc(dir, stack.registry.url, stack.registry.publisherToken);
    await npm(dir, ['publish', tarball]);
  };

  const assertRefused = async (name: string, code: string, message: RegExp) => {
    const serving = await stack.workerStatus();
    const pinned = await stack.client.pin(stack.taskQueue, name, '1.0.0');
    const failed = await waitFor(`${name} refused`, async () => {
      const status = await stack.workerStatus();
      return status.lastError?.revision === pinned.revision ? status : undefined;
    });
    assert.equal(failed.lastError?.code, code);
    assert.equal(failed.lastError?.package, name);
    assert.match(failed.lastError?.message ?? '', message);
    assert.equal(failed.generation?.pid, serving.generation?.pid);
    const result = await runner.call({
      activity: 'safe',
      args: [],
      taskQueue: stack.taskQueue,
      startToCloseTimeoutMs: 5000,
    });
    assert.equal(result, 'safe');
    const cached = await readdir(path.join(stack.dataDir, 'worker', 'packages'));
    const key = name.replace('/', '+');
    assert.ok(!cached.some((entry) => entry.startsWith(`${key}@`)), `${name} is not in the cache`);
    const { revision } = await stack.client.unpin(stack.taskQueue, name);
    await waitFor('unpinned', async () =>
      (await stack.workerStatus()).appliedRevision === revision ? true : undefined,
    );
  };

  before(async () => {
    stack = await startTestStack({
      workerEnv: { WORKER_MAX_TARBALL_MB: '2', WORKER_MAX_UNPACKED_MB: '5' },
    });
    runner = await startWorkflowRunner(stack.env.TEMPORAL_ADDRESS as string);
    const safe = await writePackage(
      { name: '@acme/safe', version: '1.0.0', main: 'index.js' },
      { 'index.js': 'exports.safe = async () => "safe";\n' },
      stack.registry.url,
      stack.registry.publisherToken,
    );
    await publish(safe);
    const pinned = await stack.client.pin(stack.taskQueue, '@acme/safe', '1.0.0');
    await waitFor('safe applied', async () =>
      (await stack.workerStatus()).appliedRevision === pinned.revision ? true : undefined,
    );
  });

  after(async () => {
    await runner?.close();
    await stack?.close();
  });

  test('entry climbing out with ../ is refused', async () => {
    const tarball = await buildTarball('@acme/climber', {}, async (root) => {
      const entry = `package/../../../${marker}`;
      await writeFile(path.join(root, entry), 'should never be written by the worker\n');
      return [entry];
    });
    await publishTarball(tarball);
    await assertRefused('@acme/climber', 'UNSAFE_TARBALL', /leaves the package folder/);
    const found = await findFile(stack.dataDir, marker);
    assert.deepEqual(found, [], 'nothing of the tarball was written under the data directory');
  });

  test('symbolic link to outside is refused', async () => {
    const tarball = await buildTarball('@acme/linker', {}, async (root) => {
      await symlink('/etc', path.join(root, 'package', 'etc'));
      return ['package/etc'];
    });
    await publishTarball(tarball);
    await assertRefused('@acme/linker', 'UNSAFE_TARBALL', /points outside the package, to "\/etc"/);
  });

  test('tarball over the unpacked limit is refused', async () => {
    // 8 MiB that repeat one 16 KiB block compress to about a tenth of a megabyte: a
    // decompression bomb in small, below npm's own limit on the compression ratio.
    const block = randomBytes(16 * 2 ** 10);
    const repeated = Buffer.concat(Array.from({ length: 512 }, () => block));
    const tarball = await buildTarball('@acme/bomb', { 'repeated.bin': repeated });
    await publishTarball(tarball);
    await assertRefused('@acme/bomb', 'TARBALL_TOO_LARGE', /unpacks to more than 5 MiB/);
  });

  test('tarball over the compressed limit is refused', async () => {
    // Random bytes do not compress, so the tarball is about 3 MiB.
    const tarball = await buildTarball('@acme/heavy', { 'noise.bin': randomBytes(3 * 2 ** 20) });
    await publishTarball(tarball);
    await assertRefused('@acme/heavy', 'TARBALL_TOO_LARGE', /tarball is larger than 2 MiB/);
  });
});

async function findFile(dir: string, name: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((entry) => path.basename(String(entry)) === name).map(String);
}
