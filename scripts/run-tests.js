#!/usr/bin/env node
// `npm test`: finds the compiled test files of every workspace, starts one headless
// Temporal dev server for the whole run (unless TEMPORAL_ADDRESS names a server), and
// runs the files with Node's test runner, one file at a time.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTemporalDevServer } from '@activity-deploy/stack';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const testDirs = [
  'registry-config/dist/test',
  'deploy-api/dist/test',
  'worker/dist/test',
  'stack/dist/test',
  'activities-template/dist/test',
  'cli/dist/test',
  'test/dist/src',
];

function findTests(filter) {
  const files = [];
  for (const dir of testDirs) {
    let entries = [];
    try {
      entries = readdirSync(path.join(root, dir), { recursive: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const file = path.join(dir, String(entry));
      if (file.endsWith('.test.js') && (!filter || file.includes(filter))) files.push(file);
    }
  }
  return files.sort();
}

const files = findTests(process.argv[2]);
if (files.length === 0) {
  console.error('no test files found: run npm run build first');
  process.exit(1);
}

let server;
const env = { ...process.env };
if (!env.TEMPORAL_ADDRESS) {
  server = await startTemporalDevServer({
    headless: true,
    log: (message) => console.error(message),
  });
  env.TEMPORAL_ADDRESS = server.address;
}

const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...files], {
  cwd: root,
  env,
  stdio: 'inherit',
});
const stop = () => child.kill('SIGTERM');
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
const code = await new Promise((resolve) =>
  child.once('exit', (exitCode) => resolve(exitCode ?? 1)),
);
await server?.stop();
process.exit(code);
