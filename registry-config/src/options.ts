import path from 'node:path';

/** Settings of the private registry. Every field has a documented default. */
export interface RegistryOptions {
  /** Root of the product's data; the registry keeps `registry/` below it. @default '.data' */
  dataDir: string;
  /** Interface to listen on. @default '127.0.0.1' */
  host: string;
  /** TCP port; 0 picks a free one. @default 4873 */
  port: number;
  /**
   * Serve packages that are not published here from the public npm registry.
   * @default false
   */
  proxyNpmjs: boolean;
  /** Name of the local publisher account created on first start. @default 'publisher' */
  publisherName: string;
  /**
   * Deploy API hook that Verdaccio's notify calls after every publish, such as
   * `http://127.0.0.1:4000/v1/hooks/registry`. Unset: no notify call.
   */
  notifyUrl: string | undefined;
  /** Bearer token sent with the notify call: the deploy API's hook token. */
  notifyToken: string | undefined;
}

export const registryDefaults: Readonly<RegistryOptions> = Object.freeze({
  dataDir: '.data',
  host: '127.0.0.1',
  port: 4873,
  proxyNpmjs: false,
  publisherName: 'publisher',
  notifyUrl: undefined,
  notifyToken: undefined,
});

/** Reads registry settings from environment variables, rejecting invalid values by name. */
export function registryOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): RegistryOptions {
  return resolveRegistryOptions({
    dataDir: env.DATA_DIR,
    host: env.REGISTRY_HOST,
    port:
      env.REGISTRY_PORT === undefined ? undefined : parsePort('REGISTRY_PORT', env.REGISTRY_PORT),
    proxyNpmjs:
      env.REGISTRY_PROXY_NPMJS === undefined
        ? undefined
        : parseBoolean('REGISTRY_PROXY_NPMJS', env.REGISTRY_PROXY_NPMJS),
    publisherName: env.REGISTRY_PUBLISHER,
    notifyUrl: env.REGISTRY_NOTIFY_URL || undefined,
    notifyToken: env.REGISTRY_NOTIFY_TOKEN || undefined,
  });
}

/** Fills defaults, makes paths absolute and freezes the result. */
export function resolveRegistryOptions(partial: {
  [K in keyof RegistryOptions]?: RegistryOptions[K] | undefined;
}): Readonly<RegistryOptions> {
  const merged: RegistryOptions = { ...registryDefaults };
  for (const [key, value] of Object.entries(partial)) {
    if (value !== undefined) Object.assign(merged, { [key]: value });
  }
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(merged.publisherName)) {
    throw new Error(
      `invalid REGISTRY_PUBLISHER ${JSON.stringify(merged.publisherName)}: ` +
        'use lower-case letters, digits, ".", "_" or "-"',
    );
  }
  if (merged.notifyUrl !== undefined) {
    if (!/^https?:\/\//.test(merged.notifyUrl)) {
      throw new Error(
        `invalid REGISTRY_NOTIFY_URL ${JSON.stringify(merged.notifyUrl)}: expected an http or ` +
          'https URL such as http://127.0.0.1:4000/v1/hooks/registry',
      );
    }
    if (merged.notifyToken === undefined) {
      throw new Error(
        'REGISTRY_NOTIFY_URL is set but REGISTRY_NOTIFY_TOKEN is not: set it to the deploy ' +
          "API's hook token (DEPLOY_API_HOOK_TOKEN or <DATA_DIR>/deploy-api/hook-token)",
      );
    }
  }
  merged.dataDir = path.resolve(merged.dataDir);
  return Object.freeze(merged);
}

export function parsePort(name: string, raw: string): number {
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`invalid ${name} ${JSON.stringify(raw)}: expected a TCP port from 0 to 65535`);
  }
  return port;
}

export function parseBoolean(name: string, raw: string): boolean {
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new Error(`invalid ${name} ${JSON.stringify(raw)}: expected true or false`);
}
