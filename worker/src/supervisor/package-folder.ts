import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { PinnedPackage } from '@activity-deploy/deploy-api/client';
import type { Logger } from 'pino';
import type { LocalPackage } from '../ipc.js';

/** Quiet time after the last file change before a rebuild counts as finished. */
const debounceMs = 200;

/** Folders that never hold the package's own built code. */
const ignoredNames = new Set(['node_modules', '.git']);

interface Manifest {
  name?: unknown;
  version?: unknown;
  main?: unknown;
  exports?: unknown;
}

/**
 * An activity package in a local folder, for `--watch`: the worker imports it in place,
 * with no registry and no deploy API, and reloads it when its built output changes.
 *
 * The generation imports it through `<entry dir>/node_modules/<name>`, a link to the
 * folder, so Node's resolver applies the package's `exports` and `main` as it does for
 * a fetched package. Node follows the link, so the package's own imports, including
 * `@temporalio/activity`, resolve from the folder's `node_modules`.
 */
// NOTE: the peer range and engines checks that fetched packages get are not run here.
export class PackageFolder {
  readonly folder: string;
  readonly #log: Logger;
  #entryDir: string | undefined;
  #linkedName: string | undefined;
  #watchers: FSWatcher[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(folder: string, logger: Logger) {
    this.folder = path.resolve(folder);
    this.#log = logger.child({ folder: this.folder });
  }

  /**
   * Reads the package as it is now and links it for import. `integrity` is a sha512 over
   * package.json and the files of the folder that contains the main module, so that it
   * changes whenever a rebuild changes what the generation would import.
   */
  async snapshot(): Promise<PinnedPackage> {
    const manifest = await this.#readManifest();
    const name = manifest.name as string;
    const version = typeof manifest.version === 'string' ? manifest.version : '0.0.0';
    const hash = createHash('sha512');
    hash.update(JSON.stringify(manifest));
    for (const file of await listFiles(this.folder, this.#watchedDir(manifest))) {
      hash.update(file);
      hash.update(await readFile(path.join(this.folder, file)));
    }
    await this.#link(name);
    return { name, version, integrity: `sha512-${hash.digest('base64')}` };
  }

  /** Returns the LocalPackage of a snapshot, for the generation to import. */
  localPackage(pinned: PinnedPackage): LocalPackage {
    const root = this.#entryDir as string;
    return { ...pinned, root, entryFile: path.join(root, 'entry.mjs') };
  }

  /**
   * Calls `onChange` once the files settle after a change to package.json or to the
   * folder of the main module (for `dist/src/index.js`, all of `dist/`).
   */
  async watch(onChange: () => void): Promise<void> {
    const manifest = await this.#readManifest();
    const watchedDir = this.#watchedDir(manifest);
    const changed = (filename: string | Buffer | null) => {
      const first = String(filename ?? '').split(path.sep)[0] ?? '';
      if (ignoredNames.has(first)) return;
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => {
        // A build tool may delete and recreate its output folder, which ends a watcher on it.
        if (watchedDir && this.#watchers.length < 2) this.#watchDir(watchedDir, changed);
        onChange();
      }, debounceMs);
    };
    this.#watchers.push(watch(this.folder, changed));
    if (watchedDir) this.#watchDir(watchedDir, changed);
    this.#log.info({ watching: watchedDir ?? '.' }, 'watching the package folder');
  }

  async close(): Promise<void> {
    clearTimeout(this.#timer);
    for (const watcher of this.#watchers) watcher.close();
    this.#watchers = [];
    if (this.#entryDir) await rm(this.#entryDir, { recursive: true, force: true });
  }

  #watchDir(relative: string, changed: (filename: string | Buffer | null) => void): void {
    try {
      const watcher = watch(path.join(this.folder, relative), { recursive: true }, (_, name) =>
        changed(name === null ? relative : path.join(relative, String(name))),
      );
      const forget = () => {
        watcher.close();
        this.#watchers = this.#watchers.filter((entry) => entry !== watcher);
      };
      watcher.on('error', forget);
      this.#watchers.push(watcher);
    } catch (error) {
      // The folder does not exist until the first build; the root watcher reports it when it appears.
      this.#log.debug({ err: error, relative }, 'output folder not watched yet');
    }
  }

  async #readManifest(): Promise<Manifest> {
    const file = path.join(this.folder, 'package.json');
    let manifest: Manifest;
    try {
      manifest = JSON.parse(await readFile(file, 'utf8')) as Manifest;
    } catch (error) {
      throw new Error(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
    }
    if (typeof manifest.name !== 'string' || manifest.name === '') {
      throw new Error(`${file} has no name; --watch needs a package folder`);
    }
    return manifest;
  }

  /** The top folder of the main module, relative to the package, or undefined for the root. */
  #watchedDir(manifest: Manifest): string | undefined {
    const main = path.normalize(mainModule(manifest));
    const first = main.split(path.sep)[0];
    return first && first !== main && first !== '.' ? first : undefined;
  }

  /** Points `<entry dir>/node_modules/<name>` at the folder and writes `entry.mjs`. */
  async #link(name: string): Promise<void> {
    // Relinking while a generation imports through the link would fail that import.
    if (name === this.#linkedName) return;
    this.#entryDir ??= await mkdtemp(path.join(os.tmpdir(), 'activity-worker-watch-'));
    const link = path.join(this.#entryDir, 'node_modules', name);
    await rm(path.join(this.#entryDir, 'node_modules'), { recursive: true, force: true });
    await mkdir(path.dirname(link), { recursive: true });
    await symlink(this.folder, link, 'dir');
    const entry = `import * as namespace from ${JSON.stringify(name)};\nexport default namespace;\n`;
    await writeFile(path.join(this.#entryDir, 'entry.mjs'), entry);
    this.#linkedName = name;
  }
}

/** The main module's path as package.json names it: `exports['.']`, then `main`. */
function mainModule(manifest: Manifest): string {
  let target: unknown = manifest.exports;
  if (target !== null && typeof target === 'object' && '.' in target) {
    target = (target as Record<string, unknown>)['.'];
  }
  while (target !== null && typeof target === 'object') {
    const conditions = target as Record<string, unknown>;
    target = conditions.import ?? conditions.node ?? conditions.default ?? conditions.require;
  }
  if (typeof target === 'string') return target;
  return typeof manifest.main === 'string' ? manifest.main : 'index.js';
}

/** Files to hash, relative to `folder`: all of `subdir`, or the root's files if none. */
async function listFiles(folder: string, subdir: string | undefined): Promise<string[]> {
  const base = subdir ? path.join(folder, subdir) : folder;
  let entries;
  try {
    entries = await readdir(base, { recursive: subdir !== undefined, withFileTypes: true });
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const relative = path.relative(folder, path.join(entry.parentPath ?? entry.path, entry.name));
    if (ignoredNames.has(relative.split(path.sep)[0] ?? '')) continue;
    files.push(relative);
  }
  return files.sort();
}
