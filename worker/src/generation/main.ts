// A generation: one child process that runs one activity set in one Temporal Worker.
// It loads the SDK and connects to Temporal first, reports `idle`, and then waits, so
// the supervisor can keep one ready as a spare. The supervisor sends `load`, waits for
// `running`, and later sends `shutdown`. The process exits when its Worker has drained,
// which is how old activity code is freed.
import { createServer } from 'node:net';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection, Runtime, Worker, type LogLevel } from '@temporalio/worker';
import { pino } from 'pino';
import { LoadError } from '../errors.js';
import type {
  ActivitySample,
  GenerationMessage,
  LocalPackage,
  ShutdownMode,
  SupervisorMessage,
} from '../ipc.js';
import { activityContextInterceptor } from './activity-context.js';
import { activityMetricsInterceptor } from './activity-metrics.js';
import { isImportError, loadActivities } from './load-activities.js';
import { packageConfigInterceptor } from './package-config.js';
import { routeConsoleToLogger, sdkLogger } from './logging.js';
import { cancelRunningActivities, trackRunningActivities } from './shutdown-cancellation.js';

const taskQueue = requireEnv('TASK_QUEUE');
const identity = requireEnv('GENERATION_IDENTITY');
const shutdownGraceMs = Number(requireEnv('GENERATION_SHUTDOWN_GRACE_MS'));

const logger = pino({ name: 'generation', level: process.env.LOG_LEVEL ?? 'info' }).child({
  taskQueue,
  identity,
});

routeConsoleToLogger(logger);
trackRunningActivities();

let worker: Worker | undefined;
/** True once `load` arrived: from then on the process exits only through start(). */
let loading = false;
/** Set by the first `shutdown`; `exit` replaces `retire` when the worker stops later. */
let shutdownMode: ShutdownMode | undefined;

const metricsPort = await freeLoopbackPort();

// The supervisor decides when a generation stops, so the SDK must not react to SIGINT
// or SIGTERM by itself: a terminal's Ctrl-C reaches the whole process group. The SDK's
// runtime metrics are served on a loopback port that the supervisor scrapes for /metrics.
Runtime.install({
  shutdownSignals: [],
  logger: sdkLogger(logger.child({ component: 'sdk' })),
  telemetryOptions: {
    logging: { filter: { core: sdkLogLevel(process.env.LOG_LEVEL), other: 'WARN' }, forward: {} },
    metrics: { prometheus: { bindAddress: `127.0.0.1:${metricsPort}` } },
  },
});

/**
 * Finished executions not yet sent to the supervisor. They go in batches because one IPC
 * message per call cost the supervisor CPU time on every activity.
 */
const pendingSamples: ActivitySample[] = [];
const sampleFlushMs = 1000;
const maxSamplesPerMessage = 500;
let sampleTimer: NodeJS.Timeout | undefined;

function reportSample(sample: ActivitySample): void {
  pendingSamples.push(sample);
  if (pendingSamples.length >= maxSamplesPerMessage) void flushSamples();
  else sampleTimer ??= setTimeout(() => void flushSamples(), sampleFlushMs);
}

function flushSamples(): Promise<void> {
  clearTimeout(sampleTimer);
  sampleTimer = undefined;
  if (pendingSamples.length === 0) return Promise.resolve();
  return send({ type: 'activities', samples: pendingSamples.splice(0) });
}

function send(message: GenerationMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, () => resolve());
  });
}

function sdkLogLevel(level: string | undefined): LogLevel {
  switch (level) {
    case 'trace':
      return 'TRACE';
    case 'debug':
      return 'DEBUG';
    case 'warn':
      return 'WARN';
    case 'error':
    case 'fatal':
      return 'ERROR';
    default:
      return 'INFO';
  }
}

/** Returns a loopback port that was free a moment ago, for the SDK's metrics exporter. */
function freeLoopbackPort(): Promise<number> {
  // NOTE: another process may take the port between this check and the SDK binding it.
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`generation process started without ${name}`);
  return value;
}

const config = loadClientConnectConfig();

/** Connects before any activity set arrives; a failure here is retried at load time. */
async function connectEarly(): Promise<NativeConnection | undefined> {
  try {
    return await NativeConnection.connect(config.connectionOptions);
  } catch (error) {
    logger.warn({ err: error }, 'connecting to Temporal failed, retrying at load');
    return undefined;
  }
}

async function start(revision: number, packages: LocalPackage[]): Promise<void> {
  const log = logger.child({ revision });
  const loadStarted = performance.now();
  const { functions, entries } = await loadActivities(packages);
  await send({ type: 'loaded', activities: entries, loadMs: performance.now() - loadStarted });

  let connection: NativeConnection;
  try {
    connection =
      (await earlyConnection) ?? (await NativeConnection.connect(config.connectionOptions));
    worker = await Worker.create({
      connection,
      namespace: config.namespace ?? 'default',
      taskQueue,
      identity,
      activities: functions,
      shutdownGraceTime: shutdownGraceMs,
      interceptors: {
        activity: [
          activityMetricsInterceptor(reportSample),
          packageConfigInterceptor(packages, entries),
          activityContextInterceptor(entries, revision),
        ],
      },
    });
  } catch (error) {
    throw new LoadError(
      'WORKER_START_FAILED',
      `starting the Temporal Worker failed: ${(error as Error).message}`,
    );
  }

  const running = worker.run();
  // run() moves the Worker to RUNNING synchronously once polling starts.
  if (worker.getState() === 'RUNNING') await send({ type: 'running' });
  log.info({ activities: entries.map((entry) => entry.name) }, 'generation running');
  if (shutdownMode) stopWorker(shutdownMode);
  try {
    await running;
  } finally {
    await connection.close();
  }
  log.info('generation stopped');
  await flushSamples();
  await send({ type: 'stopped' });
}

process.on('message', (message: SupervisorMessage) => {
  if (message.type === 'load') {
    loading = true;
    start(message.revision, message.packages).then(
      () => process.exit(0),
      async (error: unknown) => {
        const failure =
          error instanceof LoadError
            ? error.toFailureInfo()
            : { code: 'WORKER_START_FAILED', message: (error as Error)?.message ?? String(error) };
        logger.error({ err: error, code: failure.code }, 'generation failed');
        await send({ type: 'failed', error: failure });
        process.exit(1);
      },
    );
  } else if (message.type === 'ping') {
    // The response goes out only while the event loop runs, so a blocked loop shows as none.
    const { rss, heapUsed } = process.memoryUsage();
    void send({ type: 'pong', sequence: message.sequence, memory: { rss, heapUsed } });
  } else if (message.type === 'shutdown') {
    logger.info({ mode: message.mode }, 'generation draining');
    stopWorker(message.mode);
  }
});

/**
 * Stops polling, and in-flight activities keep running for the grace period. With `exit`,
 * they are also cancelled at once with WORKER_SHUTDOWN, so that they can heartbeat their
 * progress and end. A generation that already drains for a swap gets that cancellation
 * when a later `exit` arrives.
 */
function stopWorker(mode: ShutdownMode): void {
  if (shutdownMode !== 'exit') shutdownMode = mode;
  if (!worker) {
    if (!loading) void exitIdle();
    return;
  }
  if (worker.getState() === 'RUNNING') worker.shutdown();
  if (shutdownMode === 'exit') {
    const cancelled = cancelRunningActivities();
    if (cancelled > 0) logger.info({ cancelled }, 'activities cancelled for worker shutdown');
  }
}

/** Ends a generation that never received an activity set, such as an unused spare. */
async function exitIdle(): Promise<void> {
  const connection = await earlyConnection;
  await connection?.close();
  process.exit(0);
}

// The supervisor owns this process: if it goes away, the worker is stopping, so stop as on
// an `exit` shutdown.
process.on('disconnect', () => stopWorker('exit'));
process.on('SIGINT', () => undefined);

process.on('unhandledRejection', (reason) => {
  // Already reported as IMPORT_FAILED; see isImportError.
  if (isImportError(reason)) return;
  // Keep Node's default for every other rejection: end the process with the error.
  throw reason;
});

// Listeners are in place, so the supervisor may send `load` once it gets `idle`.
const earlyConnection = connectEarly();
void earlyConnection.then(() => send({ type: 'idle', metricsPort }));
