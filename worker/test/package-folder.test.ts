import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { PackageFolder } from '../src/supervisor/package-folder.js';

const logger = pino({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
after(() => Promise.all(cleanups.map((cleanup) => cleanup())));

/** Writes a package whose main module is `dist/src/index.js`, and opens it as a PackageFolder. */
async function packageFolder(): Promise<{ dir: string; folder: PackageFolder }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'package-folder-'));
  await mkdir(path.join(dir, 'dist', 'src'), { recursive: true });
  await writeFile(
    path.join(dir, 'package.json'),
    JSON.stringify({
      name: '@acme/local',
      version: '0.3.0',
      exports: { '.': './dist/src/index.js' },
    }),
  );
  await writeFile(path.join(dir, 'dist', 'src', 'index.js'), 'export const one = async () => 1;\n');
  const folder = new PackageFolder(dir, logger);
  cleanups.push(async () => {
    await folder.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, folder };
}

test('snapshot links the package for import', async () => {
  const { dir, folder } = await packageFolder();
  const pinned = await folder.snapshot();
  assert.equal(pinned.name, '@acme/local');
  assert.equal(pinned.version, '0.3.0');
  assert.match(pinned.integrity, /^sha512-/);
  const local = folder.localPackage(pinned);
  assert.equal(await readlink(path.join(local.root, 'node_modules', '@acme', 'local')), dir);
  assert.match(await readFile(local.entryFile, 'utf8'), /from "@acme\/local"/);
});

test('snapshot integrity follows the built output', async () => {
  const { dir, folder } = await packageFolder();
  const first = await folder.snapshot();
  await writeFile(path.join(dir, 'README.md'), 'notes\n');
  assert.equal((await folder.snapshot()).integrity, first.integrity, 'a README is not output');
  await writeFile(path.join(dir, 'dist', 'src', 'helper.js'), 'export {};\n');
  const second = await folder.snapshot();
  assert.notEqual(second.integrity, first.integrity, 'a new file under dist/ is output');
});

test('snapshot rejects a folder without a name', async () => {
  const { dir, folder } = await packageFolder();
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ version: '1.0.0' }));
  await assert.rejects(folder.snapshot(), /has no name; --watch needs a package folder/);
});

test('watch reports a rebuild once', async () => {
  const { dir, folder } = await packageFolder();
  let changes = 0;
  await folder.watch(() => {
    changes += 1;
  });
  // Several writes in quick succession, as a compiler makes them, count as one change.
  for (const name of ['index.js', 'a.js', 'b.js']) {
    await writeFile(path.join(dir, 'dist', 'src', name), `// ${name}\n`);
  }
  const deadline = Date.now() + 5000;
  while (changes === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(changes, 1);
});
