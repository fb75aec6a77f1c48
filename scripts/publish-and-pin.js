#!/usr/bin/env node
// Publishes the activity package in the current folder (or PACKAGE_DIR) with plain
// `npm publish`, then pins the published version on a task queue with deployctl. The
// reusable GitHub workflow runs this script. It needs Node, npm and a built deployctl
// (`npm ci && npm run build` in this repository, or `npx tsc -b cli`).
//
// Environment:
//   DEPLOY_API_URL    deploy API base URL (required)
//   DEPLOY_API_TOKEN  bearer token for writes (required)
//   TASK_QUEUE        task queue to pin on, usually a staging queue (required)
//   PACKAGE_DIR       folder of the package (default: the current folder)
//   REGISTRY_URL      registry to check for an existing version (default: the package's
//                     publishConfig.registry, else npm's own configuration)
//   PIN_REASON        reason recorded with the pin (default: names the commit when
//                     GITHUB_SHA is set)
// Exit codes: 0 published (or already published) and pinned; 1 a step failed, or the
// deploy API rejected the pin; 2 bad usage or deployctl not built; 3 the deploy API could
// not be reached.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const deployctl = path.join(repoRoot, 'cli', 'dist', 'src', 'main.js');

/** A failure that ends the script with `exitCode` after printing its message. */
class StepError extends Error {
  constructor(message, exitCode) {
    super(message);
    this.exitCode = exitCode;
  }
}

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`missing ${name}: set it in the environment (see the header of this script)`);
    process.exit(2);
  }
  return value;
}

async function isPublished(name, version, registry, cwd) {
  const args = ['view', `${name}@${version}`, 'version', '--json'];
  if (registry) args.push('--registry', registry);
  try {
    const { stdout } = await run('npm', args, { cwd });
    return stdout.trim() !== '';
  } catch (error) {
    if (/E404|404 Not Found|is not in this registry/.test(error.stderr ?? '')) return false;
    throw new Error(
      `npm view ${name}@${version} failed: ${(error.stderr ?? error.message).trim()}`,
    );
  }
}

/**
 * Pins through `deployctl pin --json`, which reads DEPLOY_API_URL and DEPLOY_API_TOKEN from
 * the environment. A failure keeps deployctl's exit code: 1 rejected, 3 unreachable.
 */
async function pin(taskQueue, name, version, reason) {
  const args = [deployctl, 'pin', taskQueue, name, version, '--reason', reason, '--json'];
  try {
    const { stdout } = await run(process.execPath, args);
    return JSON.parse(stdout);
  } catch (error) {
    const exitCode = typeof error.code === 'number' ? error.code : 1;
    throw new StepError(
      `pinning ${name}@${version} on ${taskQueue} failed: ${(error.stderr || error.message).trim()}`,
      exitCode,
    );
  }
}

async function main() {
  required('DEPLOY_API_URL');
  required('DEPLOY_API_TOKEN');
  const taskQueue = required('TASK_QUEUE');
  if (!existsSync(deployctl)) {
    console.error(`deployctl is not built: run npm ci && npm run build in ${repoRoot}`);
    process.exit(2);
  }
  const packageDir = path.resolve(process.env.PACKAGE_DIR ?? '.');
  const manifest = JSON.parse(await readFile(path.join(packageDir, 'package.json'), 'utf8'));
  const { name, version } = manifest;
  const registry = process.env.REGISTRY_URL || manifest.publishConfig?.registry;

  if (await isPublished(name, version, registry, packageDir)) {
    console.log(`${name}@${version} is already published; pinning it without publishing again`);
  } else {
    console.log(`publishing ${name}@${version}`);
    try {
      await run('npm', ['publish'], { cwd: packageDir, maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      throw new Error(
        `npm publish of ${name}@${version} failed: ${(error.stderr ?? error.message).trim()}`,
      );
    }
  }

  const sha = process.env.GITHUB_SHA;
  const reason =
    process.env.PIN_REASON ||
    (sha
      ? `published by CI from ${process.env.GITHUB_REPOSITORY ?? 'a repository'}@${sha}`
      : 'published by CI');
  const result = await pin(taskQueue, name, version, reason);
  console.log(
    result.changed
      ? `pinned ${name}@${version} on ${taskQueue} as revision ${result.revision}`
      : `${name}@${version} was already pinned on ${taskQueue} (revision ${result.revision})`,
  );
}

main().catch((error) => {
  console.error(error.message);
  process.exit(error instanceof StepError ? error.exitCode : 1);
});
