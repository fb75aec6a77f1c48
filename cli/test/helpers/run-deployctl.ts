import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../src/main.js', import.meta.url));

export interface DeployctlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built deployctl as a user would, with only the given deploy API settings in
 * its environment, and resolves with its exit code and output whatever the code.
 */
export function deployctl(
  args: string[],
  env: { DEPLOY_API_URL?: string; DEPLOY_API_TOKEN?: string } = {},
): Promise<DeployctlResult> {
  const inherited = { ...process.env };
  delete inherited.DEPLOY_API_URL;
  delete inherited.DEPLOY_API_TOKEN;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [main, ...args],
      { env: { ...inherited, ...env } },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`deployctl did not run: ${error.message}`, { cause: error }));
          return;
        }
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
}
