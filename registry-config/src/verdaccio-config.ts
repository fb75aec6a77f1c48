import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { RegistryOptions } from './options.js';

/** The checked-in Verdaccio configuration that `buildVerdaccioConfig` starts from. */
export const baseConfigFile = fileURLToPath(new URL('../../config.yaml', import.meta.url));

interface PackageRule {
  access?: string;
  publish?: string;
  unpublish?: string;
  proxy?: string;
}

interface NotifyEntry {
  endpoint?: string;
  headers?: Array<Record<string, string>>;
}

/**
 * Reads `config.yaml` and fills in the parts that depend on the machine: absolute
 * storage and htpasswd paths under the data directory, the npmjs uplink on every
 * package rule when proxying is on, and the deploy API notify hook's endpoint and token.
 */
export async function buildVerdaccioConfig(
  options: Readonly<RegistryOptions>,
): Promise<Record<string, unknown>> {
  const config = parse(await readFile(baseConfigFile, 'utf8')) as Record<string, unknown>;
  const registryDir = path.join(options.dataDir, 'registry');

  config.self_path = baseConfigFile;
  config.config_path = baseConfigFile;
  config.storage = path.join(registryDir, 'storage');
  const auth = (config.auth ?? {}) as { htpasswd?: Record<string, unknown> };
  auth.htpasswd = { ...auth.htpasswd, file: path.join(registryDir, 'htpasswd') };
  config.auth = auth;

  const packages = (config.packages ?? {}) as Record<string, PackageRule>;
  for (const rule of Object.values(packages)) {
    if (options.proxyNpmjs) rule.proxy = 'npmjs';
    else delete rule.proxy;
  }

  const notify = (config.notify ?? {}) as Record<string, NotifyEntry>;
  const hook = notify['deploy-api'];
  if (hook && options.notifyUrl !== undefined && options.notifyToken !== undefined) {
    hook.endpoint = options.notifyUrl;
    hook.headers = [...(hook.headers ?? []), { authorization: `Bearer ${options.notifyToken}` }];
  } else {
    delete notify['deploy-api'];
  }
  if (Object.keys(notify).length === 0) delete config.notify;
  return config;
}
