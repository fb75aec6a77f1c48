import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DeployApiClient } from '@activity-deploy/deploy-api/client';
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
import { freePort, testDatabaseEnv } from '@activity-deploy/stack';

/** The registry and the deploy API alone, for tests that need no worker or Temporal. */
export interface ControlPlane {
  dataDir: string;
  /** Token of the registry notify hook, from `<dataDir>/deploy-api/hook-token`. */
  hookToken: string;
  registry: RunningRegistry;
  api: RunningDeployApi;
  client: DeployApiClient;
  /** Sends a raw request to the deploy API, with the write token unless `token` is given. */
  request(
    method: string,
    urlPath: string,
    options?: {
      body?: unknown;
      rawBody?: string;
      token?: string | null;
      headers?: Record<string, string>;
    },
  ): Promise<{ status: number; body: any; headers: Headers }>;
  restartApi(): Promise<void>;
  /**
   * Starts one more deploy API on the same data folder and database, as a second
   * replica; the caller closes it.
   */
  startReplica(): Promise<RunningDeployApi>;
  close(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** Configure the registry's notify hook to call the deploy API, as `npm start` does. */
  notify?: boolean;
  /** Extra deploy API settings, such as DEPLOY_API_FOLLOW_INTERVAL_SECONDS. */
  apiEnv?: NodeJS.ProcessEnv;
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'activity-deploy-api-'));
  // The notify URL names the API's port before the API starts, so the port is fixed here.
  const apiPort = options.notify ? await freePort() : 0;
  const hookToken = await resolveHookToken({ dataDir, hookToken: undefined });
  const registry = await startRegistry(
    resolveRegistryOptions({
      dataDir,
      port: 0,
      ...(options.notify
        ? { notifyUrl: `http://127.0.0.1:${apiPort}/v1/hooks/registry`, notifyToken: hookToken }
        : {}),
    }),
  );
  // Chosen once, so that a restarted API finds the state of the one before it.
  const databaseEnv = await testDatabaseEnv();
  const startApi = (port = apiPort) =>
    startDeployApi(
      deployApiOptionsFromEnv({
        ...databaseEnv,
        ...options.apiEnv,
        DATA_DIR: dataDir,
        DEPLOY_API_PORT: String(port),
        REGISTRY_URL: registry.url,
      }),
      false,
    );
  const plane: ControlPlane = {
    dataDir,
    hookToken,
    registry,
    api: await startApi(),
    client: undefined as unknown as DeployApiClient,
    async request(method, urlPath, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      const token = options.token === undefined ? plane.api.token : options.token;
      if (token !== null) headers.authorization = `Bearer ${token}`;
      let body: string | undefined = options.rawBody;
      if (options.body !== undefined) body = JSON.stringify(options.body);
      if (body !== undefined) headers['content-type'] ??= 'application/json';
      const response = await fetch(new URL(urlPath.replace(/^\//, ''), plane.api.url), {
        method,
        headers,
        body: body ?? null,
      });
      const text = await response.text();
      return {
        status: response.status,
        body: text ? JSON.parse(text) : undefined,
        headers: response.headers,
      };
    },
    // On a port of its own: the first API keeps the one the registry notifies.
    startReplica: () => startApi(0),
    async restartApi() {
      await plane.api.close();
      plane.api = await startApi();
      plane.client = new DeployApiClient({ url: plane.api.url, token: plane.api.token });
    },
    async close() {
      await plane.api.close();
      await registry.close().catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  plane.client = new DeployApiClient({ url: plane.api.url, token: plane.api.token });
  return plane;
}
