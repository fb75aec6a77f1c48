import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Settings of the deploy API, read from environment variables. */
export interface DeployApiOptions {
  /** `DEPLOY_API_HOST`. @default '127.0.0.1' */
  host: string;
  /** `DEPLOY_API_PORT`; 0 picks a free port. @default 4000 */
  port: number;
  /** `DATA_DIR`: the API keeps `deploy-api/` below it. @default '.data' */
  dataDir: string;
  /** `DEPLOY_API_DB`: the SQLite file, used unless a database URL is set. @default '<DATA_DIR>/deploy-api/deploy.db' */
  databaseFile: string;
  /**
   * `DEPLOY_API_DATABASE_URL`: a PostgreSQL connection string
   * (`postgres://user:password@host:5432/database`). When set, the API keeps its state
   * there instead of in the SQLite file, and several replicas may share it.
   */
  databaseUrl: string | undefined;
  /** `DEPLOY_API_DATABASE_POOL_MAX`: PostgreSQL connections per replica. @default 10 */
  databasePoolMax: number;
  /** `REGISTRY_URL`. @default 'http://127.0.0.1:4873/' */
  registryUrl: string;
  /** `REGISTRY_TOKEN`: sent when resolving pins, for a registry that restricts reads. */
  registryToken: string | undefined;
  /**
   * `DEPLOY_API_TOKEN`: the bootstrap admin token, stored (as its digest) under the name
   * `admin`. When unset, a random token is created once and kept in
   * `<DATA_DIR>/deploy-api/token`.
   */
  token: string | undefined;
  /** `DEPLOY_API_BODY_LIMIT`, in bytes. @default 65536 */
  bodyLimit: number;
  /** `DEPLOY_API_WORKER_STALE_SECONDS`: a worker silent this long is listed as stale. @default 60 */
  workerStaleSeconds: number;
  /**
   * `DEPLOY_API_ROLLOUT_MAX_FAILURE_RATIO`: a rollout's candidate is aborted when its
   * activity failure rate is above this multiple of the stable revision's. A rollout may
   * set its own. @default 2
   */
  rolloutMaxFailureRatio: number;
  /**
   * `DEPLOY_API_ROLLOUT_MIN_CALLS`: finished activity calls the candidate needs before
   * its failure rate is judged. A rollout may set its own. @default 20
   */
  rolloutMinCalls: number;
  /**
   * `DEPLOY_API_FOLLOW_INTERVAL_SECONDS`: how often every following pin is checked against
   * the registry, so that a lost notify call only delays a move. @default 60
   */
  followIntervalSeconds: number;
  /**
   * `DEPLOY_API_HOOK_TOKEN`: the bearer token of the registry notify hook. When unset, a
   * random token is created once and kept in `<DATA_DIR>/deploy-api/hook-token`.
   */
  hookToken: string | undefined;
  /** `LOG_LEVEL`. @default 'info' */
  logLevel: string;
}

export function deployApiOptionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Readonly<DeployApiOptions> {
  const dataDir = path.resolve(env.DATA_DIR ?? '.data');
  return Object.freeze({
    host: env.DEPLOY_API_HOST ?? '127.0.0.1',
    port: parseInteger('DEPLOY_API_PORT', env.DEPLOY_API_PORT, 4000, 0, 65535),
    dataDir,
    databaseFile: path.resolve(env.DEPLOY_API_DB ?? path.join(dataDir, 'deploy-api', 'deploy.db')),
    databaseUrl: parseDatabaseUrl(env.DEPLOY_API_DATABASE_URL),
    databasePoolMax: parseInteger(
      'DEPLOY_API_DATABASE_POOL_MAX',
      env.DEPLOY_API_DATABASE_POOL_MAX,
      10,
      1,
      1000,
    ),
    registryUrl: parseUrl('REGISTRY_URL', env.REGISTRY_URL ?? 'http://127.0.0.1:4873/'),
    registryToken: env.REGISTRY_TOKEN || undefined,
    token: env.DEPLOY_API_TOKEN || undefined,
    bodyLimit: parseInteger(
      'DEPLOY_API_BODY_LIMIT',
      env.DEPLOY_API_BODY_LIMIT,
      65536,
      1024,
      16 * 1024 * 1024,
    ),
    workerStaleSeconds: parseInteger(
      'DEPLOY_API_WORKER_STALE_SECONDS',
      env.DEPLOY_API_WORKER_STALE_SECONDS,
      60,
      1,
      86_400,
    ),
    rolloutMaxFailureRatio: parseDecimal(
      'DEPLOY_API_ROLLOUT_MAX_FAILURE_RATIO',
      env.DEPLOY_API_ROLLOUT_MAX_FAILURE_RATIO,
      2,
      1,
      1000,
    ),
    rolloutMinCalls: parseInteger(
      'DEPLOY_API_ROLLOUT_MIN_CALLS',
      env.DEPLOY_API_ROLLOUT_MIN_CALLS,
      20,
      1,
      1_000_000,
    ),
    followIntervalSeconds: parseInteger(
      'DEPLOY_API_FOLLOW_INTERVAL_SECONDS',
      env.DEPLOY_API_FOLLOW_INTERVAL_SECONDS,
      60,
      1,
      86_400,
    ),
    hookToken: env.DEPLOY_API_HOOK_TOKEN || undefined,
    logLevel: env.LOG_LEVEL ?? 'info',
  });
}

/** Returns the configured bootstrap token, or reads (and on first start creates) the stored one. */
export async function resolveWriteToken(options: Readonly<DeployApiOptions>): Promise<string> {
  return options.token ?? storedToken(path.join(options.dataDir, 'deploy-api', 'token'));
}

/**
 * Returns the configured hook token, or reads (and on first start creates) the stored
 * one. The registry needs it before the deploy API starts, so it takes only the two
 * settings it depends on.
 */
export async function resolveHookToken(
  options: Pick<DeployApiOptions, 'dataDir' | 'hookToken'>,
): Promise<string> {
  return options.hookToken ?? storedToken(path.join(options.dataDir, 'deploy-api', 'hook-token'));
}

/** Reads a token file, creating it with a random token when it does not exist. */
async function storedToken(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const token = randomBytes(32).toString('base64url');
  await mkdir(path.dirname(file), { recursive: true });
  // 'wx' fails if another process created the file first; then its token wins.
  try {
    await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
    return token;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      return (await readFile(file, 'utf8')).trim();
    throw error;
  }
}

export function parseInteger(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(
      `invalid ${name} ${JSON.stringify(raw)}: expected a whole number from ${min} to ${max}`,
    );
  }
  return value;
}

/** Checks a PostgreSQL connection string; the message never repeats it, since it may hold a password. */
function parseDatabaseUrl(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  let protocol: string | undefined;
  try {
    protocol = new URL(raw).protocol;
  } catch {
    // Reported below.
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
    throw new Error(
      'invalid DEPLOY_API_DATABASE_URL: expected a PostgreSQL connection string such as ' +
        'postgres://user:password@127.0.0.1:5432/deploy; unset it to use the SQLite file',
    );
  }
  return raw;
}

/** Returns a connection string without its password, for logs. */
export function redactDatabaseUrl(raw: string): string {
  const url = new URL(raw);
  if (url.password !== '') url.password = '***';
  return url.href;
}

export function parseDecimal(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(
      `invalid ${name} ${JSON.stringify(raw)}: expected a number from ${min} to ${max}`,
    );
  }
  return value;
}

export function parseUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`invalid ${name} ${JSON.stringify(raw)}: expected an http or https URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`invalid ${name} ${JSON.stringify(raw)}: expected an http or https URL`);
  }
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}
