import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { resolveHookToken, resolveWriteToken, type DeployApiOptions } from './options.js';

export interface RunningDeployApi {
  url: string;
  /** The bootstrap admin token, named `admin`. */
  token: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Starts the deploy API on the configured address. */
export async function startDeployApi(
  options: Readonly<DeployApiOptions>,
  logger: boolean | { level: string } = { level: options.logLevel },
): Promise<RunningDeployApi> {
  const token = await resolveWriteToken(options);
  if (options.databaseUrl === undefined) {
    await mkdir(path.dirname(options.databaseFile), { recursive: true });
  }
  const app = await buildApp({
    databaseFile: options.databaseFile,
    databaseUrl: options.databaseUrl,
    databasePoolMax: options.databasePoolMax,
    registryUrl: options.registryUrl,
    registryToken: options.registryToken,
    tokens: [{ name: 'admin', token }],
    bodyLimit: options.bodyLimit,
    workerStaleAfterMs: options.workerStaleSeconds * 1000,
    rolloutDefaults: {
      maxFailureRatio: options.rolloutMaxFailureRatio,
      minCalls: options.rolloutMinCalls,
    },
    followIntervalMs: options.followIntervalSeconds * 1000,
    hookToken: await resolveHookToken(options),
    logger:
      logger === false
        ? false
        : { ...(logger === true ? {} : logger), redact: ['req.headers.authorization'] },
  });
  const address = await app.listen({ host: options.host, port: options.port });
  return { url: `${address}/`, token, app, close: () => app.close() };
}
