import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, symlink, writeFile, readlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import Arborist from '@npmcli/arborist';
import pacote from 'pacote';
import semver from 'semver';
import type { PinnedPackage } from '@activity-deploy/deploy-api/client';
import { LoadError } from '../errors.js';
import { formatMiB, inspectTarball, type TarballLimits } from './tarball-inspection.js';
import type { LocalPackage } from '../ipc.js';

/** Host packages that activity code must share with the Worker: one copy, one module instance. */
const hostProvided = [
  '@temporalio/activity',
  '@temporalio/common',
  '@activity-deploy/activity-config',
] as const;

export interface PackageStoreOptions {
  /** `<DATA_DIR>/worker`. */
  workerDir: string;
  registryUrl: string;
  registryToken?: string | undefined;
  /** Run install scripts of dependencies. */
  installScripts: boolean;
  limits: TarballLimits;
}

/**
 * Fetches pinned tarballs with pacote into a cache keyed by name, version and integrity,
 * and prepares each for import in a generation process.
 *
 * Layout: `packages/<key>/node_modules/<name>/` is the extracted tarball and
 * `packages/<key>/entry.mjs` imports it, so Node's own resolver applies the package's
 * `exports` and `main`. `packages/node_modules/@temporalio/*` link to the host's SDK, so
 * that `import '@temporalio/activity'` in any package finds the Worker's own copy.
 */
export class PackageStore {
  readonly #packagesDir: string;
  readonly #cacheDir: string;
  readonly #pacoteOptions: Record<string, unknown>;
  readonly #hostVersions = new Map<string, string>();
  readonly #installScripts: boolean;
  readonly #limits: TarballLimits;

  constructor(options: PackageStoreOptions) {
    this.#packagesDir = path.join(options.workerDir, 'packages');
    this.#cacheDir = path.join(options.workerDir, 'cacache');
    this.#installScripts = options.installScripts;
    this.#limits = options.limits;
    const registry = options.registryUrl;
    this.#pacoteOptions = { registry, cache: this.#cacheDir, fetchRetries: 2, timeout: 30_000 };
    if (options.registryToken) {
      this.#pacoteOptions[`${registry.replace(/^https?:/, '')}:_authToken`] = options.registryToken;
    }
  }

  /** Links the host SDK where extracted packages resolve it. Run once at start. */
  async linkHostPackages(): Promise<void> {
    const require = createRequire(import.meta.url);
    for (const name of hostProvided) {
      const manifestFile = require.resolve(`${name}/package.json`);
      const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as { version: string };
      this.#hostVersions.set(name, manifest.version);
      const link = path.join(this.#packagesDir, 'node_modules', name);
      const target = path.dirname(manifestFile);
      if ((await readlink(link).catch(() => undefined)) === target) continue;
      await mkdir(path.dirname(link), { recursive: true });
      await rm(link, { recursive: true, force: true });
      await symlink(target, link, 'dir');
    }
  }

  /** Returns the local copy of `pinned`, fetching and verifying it first if it is not cached. */
  async get(pinned: PinnedPackage): Promise<LocalPackage> {
    const root = path.join(this.#packagesDir, cacheKey(pinned));
    const local: LocalPackage = {
      name: pinned.name,
      version: pinned.version,
      integrity: pinned.integrity,
      root,
      entryFile: path.join(root, 'entry.mjs'),
      config: pinned.config,
      disabledActivities: pinned.disabledActivities,
    };
    if (!(await exists(path.join(root, '.complete')))) await this.#fetch(pinned, root);
    await this.#checkCompatibility(local);
    return local;
  }

  /** True when the package is on disk, so it can be served without the registry. */
  async has(pinned: PinnedPackage): Promise<boolean> {
    return exists(path.join(this.#packagesDir, cacheKey(pinned), '.complete'));
  }

  async #fetch(pinned: PinnedPackage, root: string): Promise<void> {
    const staging = `${root}.${process.pid}.${Date.now()}.partial`;
    const packageDir = path.join(staging, 'node_modules', pinned.name);
    try {
      // pacote checks the tarball against `integrity` and fails with EINTEGRITY on a
      // mismatch. The tarball is inspected in memory first; the extraction then reads
      // the same verified bytes back from pacote's content-addressed cache.
      const source = await this.#resolve(pinned);
      const tarball = await this.#download(pinned, source);
      await inspectTarball(tarball, this.#limits, pinned);
      await pacote.extract(`${pinned.name}@${pinned.version}`, packageDir, source);
      await this.#installDependencies(pinned, packageDir);
      const entry =
        `import * as namespace from ${JSON.stringify(pinned.name)};\n` +
        'export default namespace;\n';
      await writeFile(path.join(staging, 'entry.mjs'), entry);
      // The folder is shared by every pin of this version, so the marker leaves out settings.
      const { name, version, integrity } = pinned;
      await writeFile(
        path.join(staging, '.complete'),
        `${JSON.stringify({ name, version, integrity })}\n`,
      );
      await rm(root, { recursive: true, force: true });
      await rename(staging, root);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      if (error instanceof LoadError) throw error;
      const code = (error as { code?: unknown }).code;
      if (code === 'EINTEGRITY') {
        throw new LoadError(
          'EINTEGRITY',
          `tarball of ${pinned.name}@${pinned.version} does not match the pinned integrity ` +
            `${pinned.integrity}; the registry copy was changed, so it was not installed`,
          pinned.name,
          pinned.version,
          { cause: error },
        );
      }
      throw new LoadError(
        typeof code === 'string' && (code === 'E404' || code === 'ETARGET') ? code : 'FETCH_FAILED',
        `fetching ${pinned.name}@${pinned.version} failed: ${(error as Error).message}`,
        pinned.name,
        pinned.version,
        { cause: error },
      );
    }
  }

  /**
   * Reads the pinned version's manifest, which is the only packument fetch of a swap,
   * and returns pacote options that carry its tarball URL and the pinned integrity. The
   * packument lists every published version, so it grows with each publish: for 300
   * versions of the memory benchmark's package it is about 130 KiB of JSON.
   */
  async #resolve(pinned: PinnedPackage): Promise<PacoteSource> {
    const options = { ...this.#pacoteOptions, integrity: pinned.integrity };
    const manifest = await pacote.manifest(`${pinned.name}@${pinned.version}`, options);
    if (!manifest._resolved) {
      throw new Error('the registry manifest has no dist.tarball URL');
    }
    return { ...options, resolved: manifest._resolved };
  }

  /**
   * Downloads the tarball into memory, stopping as soon as it exceeds the compressed
   * limit. It is fetched by its URL, because pacote given a name and version would fetch
   * and parse the packument again.
   */
  async #download(pinned: PinnedPackage, source: PacoteSource): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    const limit = this.#limits.maxCompressedBytes;
    await pacote.tarball.stream(
      source.resolved,
      async (stream) => {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > limit) {
            throw new LoadError(
              'TARBALL_TOO_LARGE',
              `${pinned.name}@${pinned.version}: tarball is larger than ${formatMiB(limit)} ` +
                '(WORKER_MAX_TARBALL_MB); raise the limit or make the package smaller',
              pinned.name,
              pinned.version,
            );
          }
          chunks.push(chunk);
        }
      },
      source,
    );
    return Buffer.concat(chunks);
  }

  /**
   * Installs the package's production dependencies into its own `node_modules` with
   * arborist, from the same registry with the same credentials. Peer dependencies are
   * not installed: the host's SDK is found through the links that linkHostPackages made.
   */
  // NOTE: tarballs of dependencies are not run through inspectTarball; arborist unpacks
  // them with pacote, which drops links and entries that leave the package folder.
  async #installDependencies(pinned: PinnedPackage, packageDir: string): Promise<void> {
    const manifestFile = path.join(packageDir, 'package.json');
    const original = await readFile(manifestFile, 'utf8');
    const manifest = JSON.parse(original) as {
      dependencies?: Record<string, string>;
      devDependencies?: unknown;
    };
    if (!manifest.dependencies || Object.keys(manifest.dependencies).length === 0) return;
    // Arborist resolves the root's dev dependencies even when it omits them from disk,
    // and those are often not in this registry. It reads them from package.json only,
    // so they are left out for the install and the published file is put back after.
    delete manifest.devDependencies;
    await writeFile(manifestFile, JSON.stringify(manifest));
    const arborist = new Arborist({
      ...this.#pacoteOptions,
      path: packageDir,
      ignoreScripts: !this.#installScripts,
      legacyPeerDeps: true,
      audit: false,
      fund: false,
    });
    try {
      await arborist.reify({ omit: ['dev', 'peer'], save: false, packageLock: false });
    } catch (error) {
      throw new LoadError(
        'INSTALL_FAILED',
        `installing the dependencies of ${pinned.name}@${pinned.version} failed: ` +
          `${(error as Error).message}; publish them to the registry, or set ` +
          'REGISTRY_PROXY_NPMJS=true on the registry for public packages',
        pinned.name,
        pinned.version,
        { cause: error },
      );
    } finally {
      await writeFile(manifestFile, original);
    }
  }

  async #checkCompatibility(local: LocalPackage): Promise<void> {
    const manifestFile = path.join(local.root, 'node_modules', local.name, 'package.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as {
      peerDependencies?: Record<string, string>;
      engines?: { node?: string };
    };
    for (const [name, hostVersion] of this.#hostVersions) {
      const range = manifest.peerDependencies?.[name];
      if (range && !semver.satisfies(hostVersion, range, { includePrerelease: true })) {
        throw new LoadError(
          'PEER_DEPENDENCY_MISMATCH',
          `${local.name}@${local.version} needs ${name}@${range}, but this worker provides ${hostVersion}; ` +
            `widen the peer range or run a worker with a matching SDK`,
          local.name,
          local.version,
        );
      }
    }
    const nodeRange = manifest.engines?.node;
    if (nodeRange && !semver.satisfies(process.versions.node, nodeRange)) {
      throw new LoadError(
        'ENGINE_MISMATCH',
        `${local.name}@${local.version} needs Node.js ${nodeRange}, but this worker runs ${process.versions.node}`,
        local.name,
        local.version,
      );
    }
  }
}

/** pacote options for one pinned version: its tarball URL and integrity are known. */
type PacoteSource = Record<string, unknown> & { resolved: string; integrity: string };

/** A folder name that is unique per name, version and integrity, and safe on every file system. */
function cacheKey(pinned: PinnedPackage): string {
  const digest = createHash('sha256').update(pinned.integrity).digest('hex').slice(0, 16);
  const safeName = pinned.name.replace('/', '+');
  return `${safeName}@${pinned.version}-${digest}`;
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
