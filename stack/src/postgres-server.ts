import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { access, chown, constants, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './free-port.js';

const run = promisify(execFile);

export interface RunningPostgres {
  /** Connection string of the `postgres` database, as the superuser `postgres`. */
  url: string;
  /** Stops the server and deletes its data folder. */
  stop(): Promise<void>;
}

/**
 * Finds the folder with `initdb` and `postgres`: `PG_BIN_DIR`, then the newest Debian
 * install under /usr/lib/postgresql, then `PATH`. Returns undefined when there is none.
 */
export async function findPostgresBinDir(
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const candidates: string[] = [];
  if (env.PG_BIN_DIR) candidates.push(env.PG_BIN_DIR);
  try {
    const versions = await readdir('/usr/lib/postgresql');
    versions.sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((version) => path.join('/usr/lib/postgresql', version, 'bin')));
  } catch {
    // Not a Debian install.
  }
  candidates.push(...(env.PATH ?? '').split(path.delimiter).filter(Boolean));
  for (const dir of candidates) {
    if (
      (await isExecutable(path.join(dir, 'initdb'))) &&
      (await isExecutable(path.join(dir, 'postgres')))
    ) {
      return dir;
    }
  }
  if (env.PG_BIN_DIR) {
    throw new Error(
      `PG_BIN_DIR ${JSON.stringify(env.PG_BIN_DIR)} has no initdb and postgres; point it at ` +
        "PostgreSQL's bin folder or unset it",
    );
  }
  return undefined;
}

/**
 * Starts a throwaway PostgreSQL server on a free loopback port, with its data in a new
 * temporary folder, trusting local connections. PostgreSQL refuses to run as root, so
 * as root the server runs as the `postgres` user that Debian's package creates.
 * Durability is switched off (`fsync=off`): the server lives for one test run.
 */
export async function startPostgresServer(options: {
  binDir: string;
  log?: (message: string) => void;
}): Promise<RunningPostgres> {
  const log = options.log ?? (() => undefined);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'activity-deploy-postgres-'));
  const user = await serverUser();
  if (user) await chown(dataDir, user.uid, user.gid);
  const spawnAs = user ? { uid: user.uid, gid: user.gid } : {};

  try {
    await run(
      path.join(options.binDir, 'initdb'),
      ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'],
      { ...spawnAs, cwd: os.tmpdir(), maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`initdb failed: ${(error as Error).message}\n${stderr.slice(-2000)}`);
  }

  const port = await freePort();
  const server = spawn(
    path.join(options.binDir, 'postgres'),
    [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-k',
      dataDir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=300',
    ],
    { ...spawnAs, cwd: os.tmpdir(), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  server.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const stop = async () => {
    await stopProcess(server);
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await waitUntilReady(url, server, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  log(`PostgreSQL   ${url}`);
  return { url, stop };
}

async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    return { uid, gid };
  } catch {
    throw new Error(
      "PostgreSQL cannot run as root and there is no postgres user; install Debian's " +
        'postgresql package (it creates the user) or run the tests as another user',
    );
  }
}

async function waitUntilReady(
  url: string,
  server: ChildProcess,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (server.exitCode !== null) {
      throw new Error(`PostgreSQL exited with code ${server.exitCode} at start:\n${stderr()}`);
    }
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch {
      await client.end().catch(() => undefined);
    }
    if (Date.now() > deadline) {
      throw new Error(`PostgreSQL did not accept connections within 60 s:\n${stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // SIGINT is PostgreSQL's fast shutdown: it ends open sessions and exits.
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
