import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadActivities } from '../src/generation/load-activities.js';
import { LoadError } from '../src/errors.js';
import type { LocalPackage } from '../src/ipc.js';

const roots: string[] = [];
after(() => Promise.all(roots.map((root) => rm(root, { recursive: true, force: true }))));

/** Lays out a package as the package store does: `<root>/node_modules/<name>` plus `entry.mjs`. */
async function localPackage(
  name: string,
  manifest: Record<string, unknown>,
  files: Record<string, string>,
): Promise<LocalPackage> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'load-activities-'));
  roots.push(root);
  const dir = path.join(root, 'node_modules', name);
  await mkdir(dir, { recursive: true });
  await writeFile(
    path.join(dir, 'package.json'),
    JSON.stringify({ name, version: '1.0.0', ...manifest }),
  );
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content);
  }
  const entryFile = path.join(root, 'entry.mjs');
  await writeFile(
    entryFile,
    `import * as namespace from ${JSON.stringify(name)};\nexport default namespace;\n`,
  );
  return { name, version: '1.0.0', integrity: 'sha512-test', root, entryFile };
}

test('ES module exports become activities', async () => {
  const local = await localPackage(
    '@acme/esm',
    { type: 'module', exports: './main.js' },
    { 'main.js': 'export async function one() { return 1; }\nexport const value = 1;\n' },
  );
  const loaded = await loadActivities([local]);
  assert.deepEqual(Object.keys(loaded.functions), ['one']);
  assert.deepEqual(loaded.entries, [{ name: 'one', package: '@acme/esm', version: '1.0.0' }]);
});

test('CommonJS module.exports functions become activities', async () => {
  const local = await localPackage(
    'cjs-activities',
    { main: 'index.js' },
    {
      // A computed assignment hides the name from static analysis; module.exports still has it.
      'index.js':
        "const name = 'hid' + 'den';\nmodule.exports[name] = async () => 2;\nexports.plain = async () => 1;\n",
    },
  );
  const loaded = await loadActivities([local]);
  assert.deepEqual(Object.keys(loaded.functions).sort(), ['hidden', 'plain']);
  assert.equal(await loaded.functions.hidden?.(), 2);
});

test('module that throws on import fails with IMPORT_FAILED', async () => {
  // An ES module: a throwing CommonJS module also raises unhandledRejection on Node 20,
  // which the generation process drops but the test runner reports.
  const local = await localPackage(
    'throws',
    { type: 'module', main: 'index.js' },
    { 'index.js': "throw new Error('boom');\n" },
  );
  await assert.rejects(loadActivities([local]), (error: unknown) => {
    assert.ok(error instanceof LoadError);
    assert.equal(error.code, 'IMPORT_FAILED');
    assert.equal(error.packageName, 'throws');
    assert.match(error.message, /boom/);
    return true;
  });
});

test('package without functions fails with NO_ACTIVITIES', async () => {
  const local = await localPackage(
    'constants',
    { main: 'index.js' },
    { 'index.js': 'exports.answer = 42;\n' },
  );
  await assert.rejects(loadActivities([local]), { code: 'NO_ACTIVITIES' });
});

test('same name in two packages fails with ACTIVITY_NAME_CLASH', async () => {
  const first = await localPackage(
    'first',
    { main: 'index.js' },
    { 'index.js': 'exports.run = async () => 1;\n' },
  );
  const second = await localPackage(
    'second',
    { main: 'index.js' },
    { 'index.js': 'exports.run = async () => 2;\n' },
  );
  await assert.rejects(loadActivities([first, second]), (error: unknown) => {
    assert.ok(error instanceof LoadError);
    assert.equal(error.code, 'ACTIVITY_NAME_CLASH');
    assert.match(error.message, /first@1\.0\.0/);
    assert.match(error.message, /second@1\.0\.0/);
    return true;
  });
});

test('declared activities that match the exports load', async () => {
  const local = await localPackage(
    'declared',
    { main: 'index.js', temporalActivities: ['one', 'two'] },
    { 'index.js': 'exports.one = async () => 1;\nexports.two = async () => 2;\n' },
  );
  const loaded = await loadActivities([local]);
  assert.deepEqual(Object.keys(loaded.functions).sort(), ['one', 'two']);
});

test('declared activities that differ fail with DECLARED_ACTIVITIES_MISMATCH', async () => {
  const local = await localPackage(
    'stale-list',
    { main: 'index.js', temporalActivities: ['one', 'gone'] },
    { 'index.js': 'exports.one = async () => 1;\nexports.added = async () => 2;\n' },
  );
  await assert.rejects(loadActivities([local]), (error: unknown) => {
    assert.ok(error instanceof LoadError);
    assert.equal(error.code, 'DECLARED_ACTIVITIES_MISMATCH');
    assert.equal(error.packageName, 'stale-list');
    assert.match(error.message, /declared but not exported: gone/);
    assert.match(error.message, /exported but not declared: added/);
    return true;
  });
});

test('declared activities that are not a list fail to load', async () => {
  const local = await localPackage(
    'bad-list',
    { main: 'index.js', temporalActivities: 'one' },
    { 'index.js': 'exports.one = async () => 1;\n' },
  );
  await assert.rejects(loadActivities([local]), { code: 'DECLARED_ACTIVITIES_MISMATCH' });
});

test('clash of a package without a declared list is found at load', async () => {
  const declared = await localPackage(
    'with-list',
    { main: 'index.js', temporalActivities: ['shared'] },
    { 'index.js': 'exports.shared = async () => 1;\n' },
  );
  const undeclared = await localPackage(
    'without-list',
    { main: 'index.js' },
    { 'index.js': 'exports.shared = async () => 2;\n' },
  );
  await assert.rejects(loadActivities([declared, undeclared]), {
    code: 'ACTIVITY_NAME_CLASH',
  });
});
