#!/usr/bin/env node
// Measures the deploy API under a fleet's worth of long-polls, on loopback:
//  1. WATCHERS concurrent long-polls (`If-None-Match` + `?wait=`) on one task queue of
//     one API process; a pin changes the queue, and the script times how long it takes
//     until every watcher has the new revision. ROUNDS rounds, each watcher polling
//     again with the new ETag, as a worker does.
//     A last round starts a rollout, opens the long-polls with its ETag and resumes it
//     to its second step, which changes no revision but must reach every watcher too.
//  2. Conditional-GET throughput of the API (304 and 200) against a plain Fastify route
//     serving a body of the same size, each for DURATION_SECONDS with autocannon.
// The API and the plain server run in child processes; the watchers, the registry and
// autocannon run in this one, so the two processes share the machine's cores.
// DATABASE=postgres runs the API on a throwaway PostgreSQL server and adds a second API
// process on the same database, as a replica: the pins go through it, so every watcher
// is woken by LISTEN/NOTIFY from the other process.
//   node bench/dist/src/long-poll-watchers.js
//   WATCHERS=2000 ROUNDS=1 DURATION_SECONDS=3 node bench/dist/src/long-poll-watchers.js
//   DATABASE=postgres SETTLE_MS=30000 node bench/dist/src/long-poll-watchers.js
// NOTE: with DATABASE=postgres and 10,000 watchers, the second round stalled with both API
// processes idle in the one run made so far, after a first round in which every watcher
// got the pin. The cause is not found yet; the PostgreSQL tests of long-polls pass.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createPostgresDatabase } from '@activity-deploy/deploy-api';
import { DeployApiClient } from '@activity-deploy/deploy-api/client';
import { resolveRegistryOptions, startRegistry } from '@activity-deploy/registry';
import {
  findPostgresBinDir,
  freePort,
  startPostgresServer,
  type RunningPostgres,
} from '@activity-deploy/stack';
import autocannon from 'autocannon';
import { writeSection } from './lib/report.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function readCount(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`invalid ${name} ${JSON.stringify(raw)}: expected a whole number above 0`);
  }
  return value;
}

/** Concurrent long-polls. Each keeps a socket open, so the client needs that many descriptors. */
const watchers = readCount('WATCHERS', 10_000);
const rounds = readCount('ROUNDS', 3);
const durationSeconds = readCount('DURATION_SECONDS', 10);
/** Connections autocannon keeps open during the throughput runs. */
const connections = readCount('CONNECTIONS', 50);
/** Time after the last long-poll is sent for the API to read them all, before the pin. */
const settleMs = readCount('SETTLE_MS', 3000);
const database = process.env.DATABASE ?? 'sqlite';
if (database !== 'sqlite' && database !== 'postgres') {
  throw new Error(`invalid DATABASE ${JSON.stringify(database)}: expected sqlite or postgres`);
}
const taskQueue = 'bench-watchers';
const packageName = '@bench/watched';

interface WatchResult {
  /** Arrival time of the response, from performance.now(). */
  at: number;
  revision: number;
  etag: string;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-long-poll-'));
  const registry = await startRegistry(
    resolveRegistryOptions({ dataDir, host: '127.0.0.1', port: 0 }),
  );
  const token = randomBytes(24).toString('base64url');
  let postgres: RunningPostgres | undefined;
  const apiEnv: Record<string, string> = {
    DATA_DIR: dataDir,
    DEPLOY_API_TOKEN: token,
    REGISTRY_URL: registry.url,
    LOG_LEVEL: 'warn',
  };
  if (database === 'postgres') {
    const binDir = await findPostgresBinDir();
    if (!binDir) throw new Error('DATABASE=postgres: PostgreSQL is not installed; set PG_BIN_DIR');
    postgres = await startPostgresServer({ binDir });
    apiEnv.DEPLOY_API_DATABASE_URL = await createPostgresDatabase(postgres.url, 'bench');
  }
  const apiPort = await freePort();
  const api = startChild('deploy-api/dist/src/main.js', {
    ...apiEnv,
    DEPLOY_API_PORT: String(apiPort),
  });
  // On PostgreSQL, writes go through a second API process, so that the watchers' process
  // learns of them only through the database.
  const writerPort = database === 'postgres' ? await freePort() : apiPort;
  const writer =
    database === 'postgres'
      ? startChild('deploy-api/dist/src/main.js', {
          ...apiEnv,
          DEPLOY_API_PORT: String(writerPort),
        })
      : undefined;
  const plainPort = await freePort();
  const plain = startChild('bench/dist/src/plain-fastify-server.js', {
    PORT: String(plainPort),
  });
  const apiUrl = `http://127.0.0.1:${apiPort}/`;
  try {
    const writerUrl = `http://127.0.0.1:${writerPort}/`;
    await waitForHealth(`${apiUrl}healthz`);
    await waitForHealth(`${writerUrl}healthz`);
    await waitForHealth(`http://127.0.0.1:${plainPort}/plain`);
    await publish(registry.url, registry.publisherToken, ['1.0.0', '1.0.1']);
    const deploy = new DeployApiClient({ url: writerUrl, token });
    await deploy.pin(taskQueue, packageName, '1.0.0');

    const watchRows = await measureWatchers(apiUrl, deploy);
    const throughputRows = await measureThroughput(apiUrl, `http://127.0.0.1:${plainPort}/plain`);
    await report(watchRows, throughputRows);
  } finally {
    // The API processes go first, so that stopping PostgreSQL ends no open connection.
    await Promise.all([stopChild(api), writer && stopChild(writer), stopChild(plain)]);
    await registry.close();
    await postgres?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function measureWatchers(apiUrl: string, deploy: DeployApiClient): Promise<string[]> {
  // One socket per watcher, kept alive between rounds as a worker keeps its connection.
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const versions = ['1.0.1', '1.0.0'];
  const rows: string[] = [];
  let etag = (await deploy.getState(taskQueue)).etag;
  for (let round = 1; round <= rounds; round += 1) {
    console.error(`round ${round}: opening ${watchers} long-polls`);
    const sent: Promise<void>[] = [];
    const answers: Promise<WatchResult>[] = [];
    for (let i = 0; i < watchers; i += 1) {
      const { written, answer } = longPoll(apiUrl, etag, agent);
      // Counted as failed below; without a handler now, a reset would end the script.
      answer.catch(() => undefined);
      sent.push(written);
      answers.push(answer);
    }
    await Promise.all(sent);
    await new Promise((resolve) => setTimeout(resolve, settleMs));

    const version = versions[(round - 1) % versions.length] as string;
    const started = performance.now();
    const pin = await deploy.pin(taskQueue, packageName, version);
    const pinned = performance.now();
    const results = await Promise.allSettled(answers);
    const arrivals: number[] = [];
    let failed = 0;
    let wrongRevision = 0;
    for (const result of results) {
      if (result.status === 'rejected') failed += 1;
      else if (result.value.revision !== pin.revision) wrongRevision += 1;
      else arrivals.push(result.value.at - started);
    }
    arrivals.sort((a, b) => a - b);
    const last = arrivals.at(-1) ?? Number.NaN;
    rows.push(
      `| ${round} | ${watchers} | ${arrivals.length} | ${failed + wrongRevision} | ` +
        `${(pinned - started).toFixed(0)} | ${percentile(arrivals, 0.5).toFixed(0)} | ` +
        `${percentile(arrivals, 0.99).toFixed(0)} | ${last.toFixed(0)} |`,
    );
    console.error(rows.at(-1));
    const firstAnswer = results.find((result) => result.status === 'fulfilled');
    etag = firstAnswer?.status === 'fulfilled' ? firstAnswer.value.etag : `"r${pin.revision}"`;
  }
  rows.push(await measureRolloutStep(apiUrl, deploy, agent));
  agent.destroy();
  return rows;
}

/** Times how long a rollout step, which keeps the revision, takes to reach every watcher. */
async function measureRolloutStep(
  apiUrl: string,
  deploy: DeployApiClient,
  agent: http.Agent,
): Promise<string> {
  const current = await deploy.getState(taskQueue);
  const pinned = current.notModified ? undefined : current.state.packages[0]?.version;
  const version = pinned === '1.0.0' ? '1.0.1' : '1.0.0';
  const started = await deploy.pin(taskQueue, packageName, version, {
    rollout: { steps: [{ percent: 10 }, { percent: 50 }] },
  });
  const etag = (await deploy.getState(taskQueue)).etag;
  console.error(`rollout step: opening ${watchers} long-polls`);
  const sent: Promise<void>[] = [];
  const answers: Promise<WatchResult>[] = [];
  for (let i = 0; i < watchers; i += 1) {
    const { written, answer } = longPoll(apiUrl, etag, agent);
    answer.catch(() => undefined);
    sent.push(written);
    answers.push(answer);
  }
  await Promise.all(sent);
  await new Promise((resolve) => setTimeout(resolve, settleMs));

  const begun = performance.now();
  await deploy.rolloutAction(taskQueue, 'resume');
  const resumed = performance.now();
  const results = await Promise.allSettled(answers);
  const arrivals: number[] = [];
  let failed = 0;
  for (const result of results) {
    if (result.status === 'fulfilled' && result.value.revision === started.revision) {
      arrivals.push(result.value.at - begun);
    } else {
      failed += 1;
    }
  }
  arrivals.sort((a, b) => a - b);
  await deploy.rolloutAction(taskQueue, 'promote');
  const row =
    `| rollout step | ${watchers} | ${arrivals.length} | ${failed} | ` +
    `${(resumed - begun).toFixed(0)} | ${percentile(arrivals, 0.5).toFixed(0)} | ` +
    `${percentile(arrivals, 0.99).toFixed(0)} | ${(arrivals.at(-1) ?? Number.NaN).toFixed(0)} |`;
  console.error(row);
  return row;
}

/** Sends one long-poll; `written` settles once the request is on the wire. */
function longPoll(
  apiUrl: string,
  etag: string,
  agent: http.Agent,
): { written: Promise<void>; answer: Promise<WatchResult> } {
  let markWritten: () => void = () => undefined;
  const written = new Promise<void>((resolve) => (markWritten = resolve));
  const answer = new Promise<WatchResult>((resolve, reject) => {
    const url = new URL(`v1/task-queues/${taskQueue}?wait=60`, apiUrl);
    const request = http.get(url, { agent, headers: { 'if-none-match': etag } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const at = performance.now();
        if (response.statusCode !== 200) {
          reject(new Error(`long-poll returned ${response.statusCode}`));
          return;
        }
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { revision: number };
        resolve({ at, revision: body.revision, etag: String(response.headers.etag) });
      });
      response.on('error', reject);
    });
    request.on('finish', markWritten);
    request.on('error', (error) => {
      markWritten();
      reject(error);
    });
  });
  return { written, answer };
}

async function measureThroughput(apiUrl: string, plainUrl: string): Promise<string[]> {
  const stateUrl = `${apiUrl}v1/task-queues/${taskQueue}`;
  const etag = (await fetch(stateUrl)).headers.get('etag') ?? '';
  const targets = [
    { name: 'deploy API, If-None-Match matches (304)', url: stateUrl, status: 304, etag },
    { name: 'deploy API, no If-None-Match (200)', url: stateUrl, status: 200, etag: undefined },
    { name: 'baseline: plain Fastify route (200)', url: plainUrl, status: 200, etag: undefined },
  ];
  const rows: string[] = [];
  for (const target of targets) {
    console.error(`throughput: ${target.name}, ${durationSeconds} s`);
    const result = await autocannon({
      url: target.url,
      connections,
      duration: durationSeconds,
      headers: target.etag ? { 'if-none-match': target.etag } : {},
    });
    const expected = target.status === 304 ? result['3xx'] : result['2xx'];
    const unexpected = result.requests.total - expected + result.errors + result.timeouts;
    rows.push(
      `| ${target.name} | ${result.requests.average.toFixed(0)} | ${result.latency.p50} | ` +
        `${result.latency.p99} | ${unexpected} |`,
    );
    console.error(rows.at(-1));
  }
  return rows;
}

async function report(watchRows: string[], throughputRows: string[]): Promise<void> {
  const command =
    `${database === 'postgres' ? 'DATABASE=postgres ' : ''}` +
    `WATCHERS=${watchers} ROUNDS=${rounds} DURATION_SECONDS=${durationSeconds} ` +
    `CONNECTIONS=${connections} node bench/dist/src/long-poll-watchers.js`;
  const setup =
    database === 'postgres'
      ? `${watchers} watchers each hold a long-poll (\`If-None-Match\` with the current ETag, ` +
        '`?wait=60`) on one task queue of one deploy API process on PostgreSQL. A pin through a ' +
        'second API process on the same database then changes the queue, and the first process ' +
        'learns of it by LISTEN/NOTIFY. Times run from the start of the pin request, which ' +
        'includes resolving the version against the registry, to the arrival of each ' +
        "watcher's response in the client process. PostgreSQL, both API processes, the " +
        'watchers, the registry and the load generator share the two cores.'
      : `${watchers} watchers each hold a long-poll (\`If-None-Match\` with the current ETag, ` +
        '`?wait=60`) on one task queue of one deploy API process. A pin then changes the ' +
        'queue. Times run from the start of the pin request, which includes resolving the ' +
        "version against the registry, to the arrival of each watcher's response in the client " +
        'process. The API runs in its own process; the watchers, the registry and the load ' +
        'generator share the other core.';
  const watchTable = [
    '| round | watchers | got the new revision | failed | pin request ms | median ms | p99 ms | last ms |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...watchRows,
  ].join('\n');
  const throughputTable = [
    '| route | requests/s (mean) | latency p50 ms | latency p99 ms | errors or unexpected status |',
    '| --- | --- | --- | --- | --- |',
    ...throughputRows,
  ].join('\n');
  console.log(`${watchTable}\n\n${throughputTable}`);
  await writeSection(
    database === 'postgres'
      ? 'Deploy API on PostgreSQL: long-poll watchers woken through a replica'
      : 'Deploy API: long-poll watchers and conditional GETs',
    [
      `Command: \`npm run build && ${command}\`. ${await machineLine()}`,
      '',
      `${setup} The last row resumes a rollout to its next step instead, which changes ` +
        'the ETag but not the revision; its request time is that of the resume call, which ' +
        'resolves nothing against the registry.',
      '',
      watchTable,
      '',
      `Throughput with autocannon, ${connections} connections for ${durationSeconds} s each, ` +
        'against the same API process and a plain Fastify route that returns a body of the ' +
        'same size with no schema, database read or ETag check:',
      '',
      throughputTable,
    ].join('\n'),
  );
}

async function machineLine(): Promise<string> {
  const cpus = os.cpus();
  return (
    `Machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ` +
    `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node.js ${process.versions.node}, ` +
    `load average before the run ${os.loadavg()[0]?.toFixed(2)}. ` +
    `Date: ${new Date().toISOString().slice(0, 10)}.`
  );
}

function percentile(sorted: number[], fraction: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

async function publish(registryUrl: string, authToken: string, versions: string[]): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-watched-'));
  const host = registryUrl.replace(/^https?:/, '');
  await writeFile(
    path.join(dir, '.npmrc'),
    `registry=${registryUrl}\n${host}:_authToken=${authToken}\n`,
  );
  await writeFile(path.join(dir, 'index.js'), 'exports.noop = async () => undefined;\n');
  for (const version of versions) {
    await writeFile(
      path.join(dir, 'package.json'),
      JSON.stringify({ name: packageName, version, main: 'index.js' }),
    );
    await run('npm', ['publish'], { cwd: dir });
  }
  await rm(dir, { recursive: true, force: true });
}

/** Starts a compiled script of this repository; its output goes to this process's stderr. */
function startChild(script: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [path.join(repoRoot, script)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.once('exit', (code, signal) => {
    if (signal !== 'SIGTERM') console.error(`${script} exited (${code ?? signal})`);
  });
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function waitForHealth(url: string): Promise<void> {
  // 60 s, because two API processes and PostgreSQL starting together on two loaded cores
  // took more than 10 s.
  for (let attempt = 0; attempt < 600; attempt += 1) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not respond within 60 s`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
