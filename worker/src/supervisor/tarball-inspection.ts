import path from 'node:path';
import { Parser, type ReadEntry } from 'tar';
import { LoadError } from '../errors.js';

export interface TarballLimits {
  /** Largest compressed tarball, in bytes. */
  maxCompressedBytes: number;
  /** Largest sum of the file sizes in the tarball, in bytes. */
  maxUnpackedBytes: number;
}

/**
 * Checks a package tarball before anything of it is written to disk. Rejects entries
 * whose path is absolute or leaves the package folder, links whose target is outside
 * it, and tarballs whose files add up to more than the unpacked limit. pacote would
 * drop such entries silently; a package that contains them is refused instead.
 */
export async function inspectTarball(
  tarball: Buffer,
  limits: TarballLimits,
  id: { name: string; version: string },
): Promise<void> {
  const label = `${id.name}@${id.version}`;
  let unpacked = 0;
  let problem: LoadError | undefined;
  const reject = (code: 'UNSAFE_TARBALL' | 'TARBALL_TOO_LARGE', message: string) => {
    problem ??= new LoadError(code, `${label}: ${message}`, id.name, id.version);
  };

  const parser = new Parser({
    // Raw header paths, so that the check sees what a careless extractor would write.
    preservePaths: true,
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      const relative = outsidePackage(entry.path);
      if (relative) reject('UNSAFE_TARBALL', `entry ${JSON.stringify(entry.path)} ${relative}`);
      if ((entry.type === 'SymbolicLink' || entry.type === 'Link') && entry.linkpath) {
        const base = entry.type === 'Link' ? '.' : path.posix.dirname(entry.path);
        const target = path.posix.join(base, entry.linkpath);
        if (path.posix.isAbsolute(entry.linkpath) || outsidePackage(target)) {
          reject(
            'UNSAFE_TARBALL',
            `link ${JSON.stringify(entry.path)} points outside the package, to ` +
              JSON.stringify(entry.linkpath),
          );
        }
      }
      unpacked += entry.size;
      if (unpacked > limits.maxUnpackedBytes) {
        reject(
          'TARBALL_TOO_LARGE',
          `unpacks to more than ${formatMiB(limits.maxUnpackedBytes)} ` +
            '(WORKER_MAX_UNPACKED_MB); raise the limit or make the package smaller',
        );
      }
      entry.resume();
    },
  });
  await new Promise<void>((resolve, reject_) => {
    parser.on('error', (error: Error) =>
      reject_(
        new LoadError(
          'UNSAFE_TARBALL',
          `${label}: invalid tarball: ${error.message}`,
          id.name,
          id.version,
        ),
      ),
    );
    parser.on('end', () => resolve());
    parser.end(tarball);
  });
  if (problem) throw problem;
}

/** Returns why `entryPath` is outside the package folder, or undefined when it is inside. */
function outsidePackage(entryPath: string): string | undefined {
  if (path.posix.isAbsolute(entryPath) || /^[A-Za-z]:[\\/]/.test(entryPath)) {
    return 'is an absolute path';
  }
  // npm tarballs put every file under one top folder (`package/`), which is removed
  // on extraction; the rest must stay below it.
  const normalized = path.posix.normalize(entryPath.replaceAll('\\', '/'));
  const [, ...rest] = normalized.split('/');
  const inner = rest.join('/');
  if (
    normalized === '..' ||
    normalized.startsWith('../') ||
    inner === '..' ||
    inner.startsWith('../')
  ) {
    return 'leaves the package folder';
  }
  return undefined;
}

export function formatMiB(bytes: number): string {
  return `${Math.round((bytes / 2 ** 20) * 10) / 10} MiB`;
}
