import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  deployApiOptionsFromEnv,
  startDeployApi,
  type RunningDeployApi,
} from '@activity-deploy/deploy-api';
import { DeployApiClient } from '@activity-deploy/deploy-api/client';
import {
  resolveRegistryOptions,
  startRegistry,
  type RunningRegistry,
} from '@activity-deploy/registry';
import { testDatabaseEnv } from '@activity-deploy/stack';

const run = promisify(execFile);

/** A real registry and deploy API on free loopback ports, in a temporary data folder. */
export interface ControlPlane {
  registry: RunningRegistry;
  api: RunningDeployApi;
  client: DeployApiClient;
  /** The deploy API settings deployctl reads, pointing at this deploy API. */
  env: { DEPLOY_API_URL: string; DEPLOY_API_TOKEN: string };
  /** Publishes a package with plain `npm publish`; its module exports `hello`. */
  publish(name: string, version: string): Promise<void>;
  close(): Promise<void>;
}

export async function startControlPlane(): Promise<ControlPlane> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'deployctl-test-'));
  const registry = await startRegistry(resolveRegistryOptions({ dataDir, port: 0 }));
  const api = await startDeployApi(
    deployApiOptionsFromEnv({
      ...(await testDatabaseEnv()),
      DATA_DIR: dataDir,
      DEPLOY_API_PORT: '0',
      REGISTRY_URL: registry.url,
    }),
    false,
  );
  let published = 0;
  return {
    registry,
    api,
    client: new DeployApiClient({ url: api.url, token: api.token }),
    env: { DEPLOY_API_URL: api.url, DEPLOY_API_TOKEN: api.token },
    async publish(name, version) {
      const dir = path.join(dataDir, `package-${published++}`);
      await mkdir(dir, { recursive: true });
      const manifest = { name, version, main: 'index.js' };
      await writeFile(path.join(dir, 'package.json'), JSON.stringify(manifest));
      await writeFile(path.join(dir, 'index.js'), 'exports.hello = async () => "hello";\n');
      const hostPath = registry.url.replace(/^https?:/, '');
      await writeFile(
        path.join(dir, '.npmrc'),
        `registry=${registry.url}\n${hostPath}:_authToken=${registry.publisherToken}\n`,
      );
      await run('npm', ['publish'], {
        cwd: dir,
        env: { ...process.env, npm_config_update_notifier: 'false' },
      });
    },
    async close() {
      await api.close();
      await registry.close().catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
