import { execFile } from 'node:child_process';
import { access, constants, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The Temporal CLI release that is built from source when no CLI is found. Later tags
 * carry a `replace` directive in their go.mod, which `go install pkg@version` rejects.
 */
export const temporalCliVersion = 'v1.5.1';

/** Folder of the cached CLI build, outside the clone so that CI runs and later clones reuse it. */
export function temporalCliCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const cacheRoot = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cacheRoot, 'activity-deploy', 'temporal-cli', temporalCliVersion);
}

/**
 * Finds the Temporal CLI: `TEMPORAL_CLI_PATH`, then `temporal` on `PATH`, then the cached
 * build; builds it with `go install` into the cache when none is found.
 */
export async function resolveTemporalCli(
  env: NodeJS.ProcessEnv = process.env,
  log: (message: string) => void = () => undefined,
): Promise<string> {
  if (env.TEMPORAL_CLI_PATH) {
    if (!(await isExecutable(env.TEMPORAL_CLI_PATH))) {
      throw new Error(
        `TEMPORAL_CLI_PATH ${JSON.stringify(env.TEMPORAL_CLI_PATH)} is not an executable file; ` +
          'point it at the temporal binary or unset it',
      );
    }
    return env.TEMPORAL_CLI_PATH;
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'temporal');
    if (await isExecutable(candidate)) return candidate;
  }
  const cacheDir = temporalCliCacheDir(env);
  const cached = path.join(cacheDir, 'temporal');
  if (await isExecutable(cached)) return cached;

  log(
    `building the Temporal CLI ${temporalCliVersion} with go install into ${cacheDir} (a few minutes, once)`,
  );
  await mkdir(cacheDir, { recursive: true });
  try {
    await run('go', ['install', `github.com/temporalio/cli/cmd/temporal@${temporalCliVersion}`], {
      env: { ...env, GOBIN: cacheDir },
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(
      `building the Temporal CLI failed: ${(error as Error).message}\n${stderr.slice(-2000)}\n` +
        'install Go 1.24 or later, or set TEMPORAL_CLI_PATH to an existing temporal binary, ' +
        'or set TEMPORAL_ADDRESS to use a running server',
    );
  }
  return cached;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
