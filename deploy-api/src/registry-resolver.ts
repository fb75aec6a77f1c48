import pacote from 'pacote';
import { ApiError } from './errors.js';
import type { SpecKind } from './validation.js';

export interface ResolvedVersion {
  version: string;
  integrity: string;
}

export interface RegistryResolverOptions {
  /** Registry base URL, for example `http://127.0.0.1:4873/`. */
  registry: string;
  /** Bearer token for reading from the registry, when it requires one. */
  token?: string | undefined;
  /** Folder for pacote's HTTP cache. */
  cacheDir: string;
}

/** Error codes from npm-registry-fetch and Node that mean the registry could not be reached. */
const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'FETCH_ERROR',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Resolves a version spec to the exact version and integrity that the registry serves now. */
export class RegistryResolver {
  readonly #pacoteOptions: pacote.Options;

  constructor(options: RegistryResolverOptions) {
    const registry = options.registry.endsWith('/') ? options.registry : `${options.registry}/`;
    const pacoteOptions: Record<string, unknown> = {
      registry,
      cache: options.cacheDir,
      // A pin must see a version published a moment ago, so always revalidate.
      preferOnline: true,
      fetchRetries: 1,
      fetchRetryMintimeout: 200,
      fetchRetryMaxtimeout: 1000,
      timeout: 15_000,
    };
    if (options.token) {
      // npm-registry-fetch matches credentials by the registry URL without its scheme.
      pacoteOptions[`${registry.replace(/^https?:/, '')}:_authToken`] = options.token;
    }
    this.#pacoteOptions = pacoteOptions as pacote.Options;
  }

  async resolve(name: string, spec: string, kind: SpecKind): Promise<ResolvedVersion> {
    let manifest: { version: string; _integrity?: unknown };
    try {
      manifest = (await pacote.manifest(`${name}@${spec}`, this.#pacoteOptions)) as typeof manifest;
    } catch (error) {
      throw translateRegistryError(error, name, spec, kind);
    }
    const integrity = manifest._integrity;
    if (typeof integrity !== 'string' || !integrity.startsWith('sha512-')) {
      throw new ApiError(
        'VERSION_NOT_FOUND',
        `${name}@${manifest.version} has no sha512 integrity in the registry; publish it again with npm 7 or later`,
      );
    }
    return { version: manifest.version, integrity };
  }
}

function translateRegistryError(
  error: unknown,
  name: string,
  spec: string,
  kind: SpecKind,
): ApiError {
  const code = (error as { code?: unknown }).code;
  if (code === 'E404') {
    return new ApiError(
      'PACKAGE_NOT_FOUND',
      `package ${name} is not in the registry; publish it first with npm publish`,
      { cause: error },
    );
  }
  if (code === 'ETARGET') {
    const what =
      kind === 'tag' ? `dist-tag ${JSON.stringify(spec)}` : `version ${JSON.stringify(spec)}`;
    return new ApiError(
      'VERSION_NOT_FOUND',
      `${what} of ${name} is not in the registry; list published versions with npm view ${name} versions`,
      { cause: error },
    );
  }
  if (typeof code === 'string' && (unreachableCodes.has(code) || /^E5\d\d$/.test(code))) {
    return new ApiError(
      'REGISTRY_UNAVAILABLE',
      `the registry could not be reached to resolve ${name}@${spec} (${code}); retry when it is back`,
      { cause: error },
    );
  }
  return new ApiError(
    'REGISTRY_UNAVAILABLE',
    `the registry failed to resolve ${name}@${spec}: ${(error as Error).message}`,
    { cause: error },
  );
}
