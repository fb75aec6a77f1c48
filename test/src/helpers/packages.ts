import { cp, mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import libnpmpublish from 'libnpmpublish';
import { create } from 'tar';
import { npm } from './test-stack.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** Writes the `.npmrc` that `npm publish` in `dir` needs: the registry and the publisher token. */
export async function writeNpmrc(dir: string, registryUrl: string, token: string): Promise<void> {
  const hostPath = registryUrl.replace(/^https?:/, '');
  await writeFile(
    path.join(dir, '.npmrc'),
    `registry=${registryUrl}\n${hostPath}:_authToken=${token}\n`,
  );
}

/**
 * Copies the activities template as a team would, pointed at the test registry. Its
 * node_modules links to the repository's, so `npm publish` runs the template's own
 * build (prepublishOnly) without a fresh install.
 */
export async function copyTemplate(registryUrl: string, token: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'activity-template-'));
  const template = path.join(repoRoot, 'activities-template');
  for (const entry of ['package.json', 'tsconfig.json', 'scripts', 'src', 'test']) {
    await cp(path.join(template, entry), path.join(dir, entry), { recursive: true });
  }
  const manifestFile = path.join(dir, 'package.json');
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Record<string, unknown>;
  manifest.publishConfig = { registry: registryUrl };
  await writeFile(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  await symlink(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  await writeNpmrc(dir, registryUrl, token);
  return dir;
}

/** Sets the version of the package in `dir`, as `npm version` does, without git. */
export async function setVersion(dir: string, version: string): Promise<void> {
  await npm(dir, ['version', version, '--no-git-tag-version', '--allow-same-version']);
}

/** Writes a hand-made package with the given files, ready for `npm publish`. */
export async function writePackage(
  manifest: Record<string, unknown>,
  files: Record<string, string>,
  registryUrl: string,
  token: string,
): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'activity-fixture-'));
  await writeFile(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  await writeNpmrc(dir, registryUrl, token);
  return dir;
}

export async function publish(dir: string): Promise<void> {
  await npm(dir, ['publish']);
}

/**
 * Publishes a generated package through libnpmpublish, npm's own publish library, without
 * starting an npm process: for tests that need many packages quickly.
 */
export async function publishGenerated(
  registryUrl: string,
  token: string,
  manifest: { name: string; version: string } & Record<string, unknown>,
  files: Record<string, string>,
): Promise<void> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'generated-package-'));
  await mkdir(path.join(root, 'package'));
  await writeFile(path.join(root, 'package', 'package.json'), JSON.stringify(manifest));
  for (const [name, content] of Object.entries(files)) {
    await writeFile(path.join(root, 'package', name), content);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of create({ gzip: true, cwd: root, portable: true }, ['package'])) {
    chunks.push(chunk);
  }
  await libnpmpublish.publish(manifest, Buffer.concat(chunks), {
    registry: registryUrl,
    [`${registryUrl.replace(/^https?:/, '')}:_authToken`]: token,
  });
}
