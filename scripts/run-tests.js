#!/usr/bin/env node
// `npm test`: finds the compiled test files of every workspace, starts one headless
// Temporal dev server for the whole run (unless TEMPORAL_ADDRESS names a server), and
// runs the files with Node's test runner, one file at a time. The deploy API's tests run
// twice: once on SQLite, and once on PostgreSQL, for which a throwaway server is started
// (unless TEST_POSTGRES_URL names one). TEST_DATABASES=sqlite or =postgres runs one pass.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  findPostgresBinDir,
  startPostgresServer,
  startTemporalDevServer,
} from '@activity-deploy/stack';

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

// Files whose tests start a deploy API or open its store: these run once per database.
const databaseDirs = ['deploy-api/dist/test', 'cli/dist/test', 'test/dist/src'];

const files = findTests(process.argv[2]);
if (files.length === 0) {
  console.error('no test files found: run npm run build first');
  process.exit(1);
}

const databases = (process.env.TEST_DATABASES ?? 'sqlite,postgres').split(',');
for (const database of databases) {
  if (database !== 'sqlite' && database !== 'postgres') {
    console.error(
      `invalid TEST_DATABASES ${process.env.TEST_DATABASES}: list sqlite, postgres or both`,
    );
    process.exit(1);
  }
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

let postgres;
if (databases.includes('postgres') && !env.TEST_POSTGRES_URL) {
  const binDir = await findPostgresBinDir(env);
  if (binDir) {
    postgres = await startPostgresServer({ binDir, log: (message) => console.error(message) });
    env.TEST_POSTGRES_URL = postgres.url;
  } else if (process.env.CI) {
    console.error(
      "PostgreSQL is not installed, so the PostgreSQL pass cannot run: install Debian's " +
        'postgresql package, set PG_BIN_DIR, or set TEST_POSTGRES_URL to a server',
    );
    process.exit(1);
  } else {
    console.error(
      "PostgreSQL is not installed: skipping the PostgreSQL pass (install Debian's " +
        'postgresql package, or set TEST_POSTGRES_URL, to run it)',
    );
    databases.splice(databases.indexOf('postgres'), 1);
  }
}

let child;
let stopped = false;
const stop = () => {
  stopped = true;
  child?.kill('SIGTERM');
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

let code = 0;
for (const database of databases) {
  const passFiles =
    database === 'sqlite'
      ? files
      : files.filter((file) => databaseDirs.some((dir) => file.startsWith(dir)));
  if (stopped || passFiles.length === 0) continue;
  console.error(`deploy API database: ${database} (${passFiles.length} test files)`);
  child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...passFiles], {
    cwd: root,
    env: { ...env, TEST_DEPLOY_API_DATABASE: database },
    stdio: 'inherit',
  });
  const passCode = await new Promise((resolve) =>
    child.once('exit', (exitCode) => resolve(exitCode ?? 1)),
  );
  if (code === 0) code = passCode;
}
await postgres?.stop();
await server?.stop();
process.exit(code);
