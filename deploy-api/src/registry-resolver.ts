import npmFetch from 'npm-registry-fetch';
import pickManifest from 'npm-pick-manifest';
import { ApiError } from './errors.js';
import type { SpecKind } from './validation.js';

export interface ResolvedVersion {
  version: string;
  integrity: string;
  /** True when every version the spec allows is in `avoid`, so a vetoed one was picked. */
  vetoed: boolean;
  /** `peerDependencies['@temporalio/activity']` of the version, if it declares one. */
  activityPeerRange: string | undefined;
  /** `engines.node` of the version, if it declares one. */
  nodeRange: string | undefined;
  /** `temporalActivities` of the version's package.json as published, not yet checked. */
  declaredActivities: unknown;
}

export interface RegistryResolverOptions {
  /** Registry base URL, for example `http://127.0.0.1:4873/`. */
  registry: string;
  /** Bearer token for reading from the registry, when it requires one. */
  token?: string | undefined;
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

/**
 * Resolves a version spec to the exact version and integrity that the registry serves
 * now. The packument is fetched with npm-registry-fetch and no HTTP cache: a dist-tag
 * must resolve to what it points at now, and a registry that is down must fail the pin
 * instead of resolving from a stale copy.
 */
export class RegistryResolver {
  readonly #fetchOptions: npmFetch.Options;

  constructor(options: RegistryResolverOptions) {
    const registry = options.registry.endsWith('/') ? options.registry : `${options.registry}/`;
    const fetchOptions: Record<string, unknown> = {
      registry,
      fetchRetries: 1,
      fetchRetryMintimeout: 200,
      fetchRetryMaxtimeout: 1000,
      timeout: 15_000,
    };
    if (options.token) {
      // npm-registry-fetch matches credentials by the registry URL without its scheme.
      fetchOptions[`${registry.replace(/^https?:/, '')}:_authToken`] = options.token;
    }
    this.#fetchOptions = fetchOptions;
  }

  /**
   * Resolves `spec`, preferring versions outside `avoid` (vetoed exact versions) as npm's
   * own `avoid` option does: a range picks its highest other version, while an exact
   * version or a dist-tag that points at an avoided version comes back with `vetoed`.
   */
  async resolve(
    name: string,
    spec: string,
    kind: SpecKind,
    avoid: readonly string[] = [],
  ): Promise<ResolvedVersion> {
    let manifest: ReturnType<typeof pickManifest> & { _shouldAvoid?: boolean };
    try {
      const packument = await npmFetch.json(`/${name.replace('/', '%2f')}`, this.#fetchOptions);
      const options = avoid.length > 0 ? { avoid: avoid.join(' || ') } : {};
      manifest = pickManifest(packument, spec, options);
    } catch (error) {
      throw translateRegistryError(error, name, spec, kind);
    }
    return versionDetails(name, manifest, manifest._shouldAvoid === true);
  }

  /**
   * Fetches the packument of `name`: every version's manifest, the dist-tags and the
   * publish times. `spec` and `kind` only word the error when the fetch fails.
   */
  async packument(name: string, spec: string, kind: SpecKind): Promise<Packument> {
    try {
      const packument = await npmFetch.json(`/${name.replace('/', '%2f')}`, this.#fetchOptions);
      return packument as unknown as Packument;
    } catch (error) {
      throw translateRegistryError(error, name, spec, kind);
    }
  }
}

/** One version's manifest in a packument, with the fields the API reads. */
export interface PackumentVersion {
  version: string;
  dist?: { integrity?: string };
  temporalActivities?: unknown;
  peerDependencies?: Record<string, string>;
  engines?: Record<string, string>;
}

/** The registry document of a package, as the npm registry protocol defines it. */
export interface Packument {
  name: string;
  'dist-tags'?: Record<string, string>;
  versions?: Record<string, PackumentVersion>;
  /** ISO 8601 publish time of each version, plus `created` and `modified`. */
  time?: Record<string, string>;
}

/**
 * Returns what the API records and checks of one version. Throws VERSION_NOT_FOUND when
 * the registry lists no sha512 integrity, which pacote needs to verify the tarball.
 */
export function versionDetails(
  name: string,
  manifest: PackumentVersion,
  vetoed: boolean,
): ResolvedVersion {
  const integrity = manifest.dist?.integrity;
  if (typeof integrity !== 'string' || !integrity.startsWith('sha512-')) {
    throw new ApiError(
      'VERSION_NOT_FOUND',
      `${name}@${manifest.version} has no sha512 integrity in the registry; publish it again with npm 7 or later`,
    );
  }
  return {
    version: manifest.version,
    integrity,
    vetoed,
    activityPeerRange: manifest.peerDependencies?.['@temporalio/activity'],
    nodeRange: manifest.engines?.node,
    declaredActivities: manifest.temporalActivities,
  };
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
