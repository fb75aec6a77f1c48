import path from 'node:path';
import {
  deployApiOptionsFromEnv,
  resolveHookToken,
  startDeployApi,
  type RunningDeployApi,
} from '@activity-deploy/deploy-api';
import {
  resolveRegistryOptions,
  startRegistry,
  type RunningRegistry,
} from '@activity-deploy/registry';
import { freePort } from './free-port.js';
import { writeLocalEnv } from './local-env.js';
import {
  checkTemporalServer,
  startTemporalDevServer,
  type RunningDevServer,
} from './temporal-dev-server.js';
import { startWorkerProcess, type WorkerProcess } from './worker-process.js';

export interface StackOptions {
  dataDir: string;
  taskQueue: string;
  registryPort: number;
  deployApiPort: number;
  workerPort: number;
  temporalPort: number;
  temporalUiPort: number;
  /** Use this Temporal server instead of starting a dev server. */
  temporalAddress?: string | undefined;
  temporalNamespace: string;
  proxyNpmjs: boolean;
  /** Name of the local publisher account. @default 'publisher' */
  publisherName?: string | undefined;
  /** Environment for the deploy API, such as DEPLOY_API_WORKER_STALE_SECONDS. */
  deployApiEnv?: NodeJS.ProcessEnv;
  /** Environment passed on to the worker, such as WORKER_SHUTDOWN_GRACE_SECONDS. */
  workerEnv?: NodeJS.ProcessEnv;
  /** Destination of the worker's output. @default 'inherit' */
  workerStdio?: 'inherit' | 'ignore' | number;
  log: (message: string) => void;
}

export interface RunningStack {
  registry: RunningRegistry;
  deployApi: RunningDeployApi;
  temporal: RunningDevServer | null;
  worker: WorkerProcess;
  /** The values written to `<dataDir>/local.env`. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Starts every part on loopback: Temporal dev server (unless an address is given), the
 * registry and the deploy API in this process, and one worker as a child process.
 * Stops them in reverse order, so the worker drains while Temporal is still up.
 */
export async function startStack(options: StackOptions): Promise<RunningStack> {
  const started: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const stopPart of started.reverse()) await stopPart().catch(() => undefined);
  };
  try {
    const temporalPromise = options.temporalAddress
      ? checkTemporalServer(options.temporalAddress).then(
          () => null,
          (error: Error) => {
            throw new Error(
              `${error.message}; unset TEMPORAL_ADDRESS to start a dev server (a shell that ` +
                'sourced .data/local.env has it set), or start that server first',
            );
          },
        )
      : startTemporalDevServer({
          port: options.temporalPort,
          uiPort: options.temporalUiPort,
          namespace: options.temporalNamespace,
          dbFile: path.join(options.dataDir, 'temporal', 'dev-server.db'),
          log: options.log,
        });
    // The registry's notify hook needs the deploy API's address and hook token before
    // the deploy API starts, because the API resolves pins against the registry.
    const deployApiEnv = { ...process.env, ...options.deployApiEnv };
    const deployApiPort = options.deployApiPort || (await freePort());
    const hookToken = await resolveHookToken({
      dataDir: options.dataDir,
      hookToken: deployApiEnv.DEPLOY_API_HOOK_TOKEN || undefined,
    });
    const registry = await startRegistry(
      resolveRegistryOptions({
        dataDir: options.dataDir,
        port: options.registryPort,
        proxyNpmjs: options.proxyNpmjs,
        publisherName: options.publisherName,
        notifyUrl: `http://127.0.0.1:${deployApiPort}/v1/hooks/registry`,
        notifyToken: hookToken,
      }),
    );
    started.push(() => registry.close());
    options.log(`registry     ${registry.url}`);

    const deployApi = await startDeployApi(
      deployApiOptionsFromEnv({
        ...deployApiEnv,
        DATA_DIR: options.dataDir,
        DEPLOY_API_PORT: String(deployApiPort),
        DEPLOY_API_HOOK_TOKEN: hookToken,
        REGISTRY_URL: registry.url,
      }),
      false,
    );
    started.push(() => deployApi.close());
    options.log(`deploy API   ${deployApi.url}`);

    const temporal = await temporalPromise;
    if (temporal) started.push(() => temporal.stop());
    const temporalAddress = temporal?.address ?? options.temporalAddress ?? '';
    options.log(
      `Temporal     ${temporalAddress}${temporal?.uiUrl ? ` (web UI ${temporal.uiUrl})` : ''}`,
    );

    const env: Record<string, string> = {
      REGISTRY_URL: registry.url,
      NPM_TOKEN: registry.publisherToken,
      DEPLOY_API_URL: deployApi.url.replace(/\/$/, ''),
      DEPLOY_API_TOKEN: deployApi.token,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: options.temporalNamespace,
      TASK_QUEUE: options.taskQueue,
      WORKER_URL: `http://127.0.0.1:${options.workerPort}`,
    };
    if (temporal?.uiUrl) env.TEMPORAL_UI_URL = temporal.uiUrl;

    const worker = await startWorkerProcess({
      httpPort: options.workerPort,
      stdio: options.workerStdio ?? 'inherit',
      env: {
        ...options.workerEnv,
        DATA_DIR: options.dataDir,
        TASK_QUEUE: options.taskQueue,
        DEPLOY_API_URL: deployApi.url,
        DEPLOY_API_TOKEN: deployApi.token,
        REGISTRY_URL: registry.url,
        TEMPORAL_ADDRESS: temporalAddress,
        TEMPORAL_NAMESPACE: options.temporalNamespace,
      },
    });
    started.push(() => worker.stop());
    options.log(`worker       ${worker.url} (task queue ${options.taskQueue})`);

    await writeLocalEnv(path.join(options.dataDir, 'local.env'), env);
    return { registry, deployApi, temporal, worker, env, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
