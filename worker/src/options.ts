import os from 'node:os';
import path from 'node:path';

/** Settings of the worker supervisor, read from environment variables. */
export interface WorkerOptions {
  /** `TASK_QUEUE`: the Temporal task queue this worker serves. Required. */
  taskQueue: string;
  /** `DEPLOY_API_URL`. @default 'http://127.0.0.1:4000/' */
  deployApiUrl: string;
  /** `DEPLOY_API_TOKEN`: sent with reads, for an API that requires it. */
  deployApiToken: string | undefined;
  /** `REGISTRY_URL`: where tarballs are fetched from. @default 'http://127.0.0.1:4873/' */
  registryUrl: string;
  /** `REGISTRY_TOKEN`: sent to the registry, for one that restricts reads. */
  registryToken: string | undefined;
  /** `DATA_DIR`: the worker keeps `worker/` below it. @default '.data' */
  dataDir: string;
  /** `WORKER_ID`: identity reported to Temporal. @default '<hostname>-<pid>' */
  workerId: string;
  /** `WORKER_HTTP_HOST`. @default '127.0.0.1' */
  httpHost: string;
  /** `WORKER_HTTP_PORT`: health and status; 0 picks a free port. @default 4010 */
  httpPort: number;
  /**
   * `WORKER_SHUTDOWN_GRACE_SECONDS`: how long a replaced generation lets in-flight
   * activities finish before the SDK cancels them, and how long a stopping worker waits
   * for the activities it cancelled to end. @default 600
   */
  shutdownGraceMs: number;
  /**
   * `WORKER_SHUTDOWN_FORCE_SECONDS`: extra time after the grace period before the
   * supervisor kills a generation that has still not exited. @default 30
   */
  shutdownForceMs: number;
  /** `WORKER_POLL_WAIT_SECONDS`: long-poll duration against the deploy API. @default 30 */
  pollWaitSeconds: number;
  /** `WORKER_LOAD_TIMEOUT_SECONDS`: limit for a new generation to import and start. @default 60 */
  loadTimeoutMs: number;
  /** `WORKER_RETRY_MAX_SECONDS`: cap of the backoff between failed attempts. @default 60 */
  retryMaxMs: number;
  /**
   * `WORKER_REPORT_INTERVAL_SECONDS`: how often the worker reports its state to the deploy
   * API, besides after every change. @default 15
   */
  reportIntervalMs: number;
  /** `WORKER_HEALTH_INTERVAL_SECONDS`: how often the serving generation is pinged. @default 5 */
  healthIntervalMs: number;
  /**
   * `WORKER_HANG_TIMEOUT_SECONDS`: how long the serving generation may leave pings
   * unanswered, for example while an activity blocks its event loop, before it is
   * killed and replaced. @default 30
   */
  hangTimeoutMs: number;
  /**
   * `WORKER_GENERATION_MAX_RSS_MB`: resident memory above which the serving generation
   * is replaced by a fresh one with the same set; 0 turns the check off. @default 0
   */
  maxGenerationRssBytes: number;
  /**
   * `WORKER_GENERATION_MAX_AGE_SECONDS`: running time after which the serving generation
   * is replaced by a fresh one with the same set; 0 turns the check off. @default 0
   */
  maxGenerationAgeMs: number;
  /**
   * `WORKER_SPARE_GENERATION`: keep one generation process started, with the SDK loaded
   * and connected, so that a swap does not wait for a new process. @default true
   */
  spareGeneration: boolean;
  /** `WORKER_MAX_TARBALL_MB`: largest compressed package tarball. @default 50 */
  maxTarballBytes: number;
  /** `WORKER_MAX_UNPACKED_MB`: largest sum of file sizes in a package tarball. @default 250 */
  maxUnpackedBytes: number;
  /** `WORKER_INSTALL_SCRIPTS`: run install scripts of package dependencies. @default false */
  installScripts: boolean;
  /** `LOG_LEVEL`. @default 'info' */
  logLevel: string;
  /**
   * `--watch <folder>`: serve the package in this local folder and reload it on every
   * change, with no deploy API and no registry. Unset in normal operation.
   */
  watchDir: string | undefined;
}

/** Command-line flags of the worker. */
export interface WorkerFlags {
  watch?: string | undefined;
}

export function workerOptionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  flags: WorkerFlags = {},
): Readonly<WorkerOptions> {
  const taskQueue = env.TASK_QUEUE;
  if (!taskQueue) {
    throw new Error('missing TASK_QUEUE: set it to the Temporal task queue this worker serves');
  }
  return Object.freeze({
    taskQueue,
    deployApiUrl: parseUrl('DEPLOY_API_URL', env.DEPLOY_API_URL ?? 'http://127.0.0.1:4000/'),
    deployApiToken: env.DEPLOY_API_TOKEN || undefined,
    registryUrl: parseUrl('REGISTRY_URL', env.REGISTRY_URL ?? 'http://127.0.0.1:4873/'),
    registryToken: env.REGISTRY_TOKEN || undefined,
    dataDir: path.resolve(env.DATA_DIR ?? '.data'),
    workerId: env.WORKER_ID || `${os.hostname()}-${process.pid}`,
    httpHost: env.WORKER_HTTP_HOST ?? '127.0.0.1',
    httpPort: parseNumber('WORKER_HTTP_PORT', env.WORKER_HTTP_PORT, 4010, 0, 65535),
    shutdownGraceMs:
      1000 *
      parseNumber(
        'WORKER_SHUTDOWN_GRACE_SECONDS',
        env.WORKER_SHUTDOWN_GRACE_SECONDS,
        600,
        0,
        86_400,
      ),
    shutdownForceMs:
      1000 *
      parseNumber('WORKER_SHUTDOWN_FORCE_SECONDS', env.WORKER_SHUTDOWN_FORCE_SECONDS, 30, 1, 3600),
    pollWaitSeconds: parseNumber(
      'WORKER_POLL_WAIT_SECONDS',
      env.WORKER_POLL_WAIT_SECONDS,
      30,
      1,
      120,
    ),
    loadTimeoutMs:
      1000 *
      parseNumber('WORKER_LOAD_TIMEOUT_SECONDS', env.WORKER_LOAD_TIMEOUT_SECONDS, 60, 1, 3600),
    retryMaxMs:
      1000 * parseNumber('WORKER_RETRY_MAX_SECONDS', env.WORKER_RETRY_MAX_SECONDS, 60, 1, 3600),
    reportIntervalMs:
      1000 *
      parseNumber(
        'WORKER_REPORT_INTERVAL_SECONDS',
        env.WORKER_REPORT_INTERVAL_SECONDS,
        15,
        0.5,
        3600,
      ),
    healthIntervalMs:
      1000 *
      parseNumber(
        'WORKER_HEALTH_INTERVAL_SECONDS',
        env.WORKER_HEALTH_INTERVAL_SECONDS,
        5,
        0.1,
        600,
      ),
    hangTimeoutMs:
      1000 *
      parseNumber('WORKER_HANG_TIMEOUT_SECONDS', env.WORKER_HANG_TIMEOUT_SECONDS, 30, 1, 3600),
    maxGenerationRssBytes:
      2 ** 20 *
      parseNumber(
        'WORKER_GENERATION_MAX_RSS_MB',
        env.WORKER_GENERATION_MAX_RSS_MB,
        0,
        0,
        1_048_576,
      ),
    maxGenerationAgeMs:
      1000 *
      parseNumber(
        'WORKER_GENERATION_MAX_AGE_SECONDS',
        env.WORKER_GENERATION_MAX_AGE_SECONDS,
        0,
        0,
        31_536_000,
      ),
    spareGeneration: parseBoolean('WORKER_SPARE_GENERATION', env.WORKER_SPARE_GENERATION, true),
    maxTarballBytes:
      2 ** 20 * parseNumber('WORKER_MAX_TARBALL_MB', env.WORKER_MAX_TARBALL_MB, 50, 0.001, 10_240),
    maxUnpackedBytes:
      2 ** 20 *
      parseNumber('WORKER_MAX_UNPACKED_MB', env.WORKER_MAX_UNPACKED_MB, 250, 0.001, 102_400),
    installScripts: parseBoolean('WORKER_INSTALL_SCRIPTS', env.WORKER_INSTALL_SCRIPTS, false),
    logLevel: env.LOG_LEVEL ?? 'info',
    watchDir: flags.watch === undefined ? undefined : path.resolve(flags.watch),
  });
}

function parseNumber(
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

function parseBoolean(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new Error(`invalid ${name} ${JSON.stringify(raw)}: expected true or false`);
}

function parseUrl(name: string, raw: string): string {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new Error(`invalid ${name} ${JSON.stringify(raw)}: expected an http or https URL`);
  }
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}
