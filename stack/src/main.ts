#!/usr/bin/env node
// `npm start`: runs the whole product on this machine until Ctrl-C.
import path from 'node:path';
import { startStack } from './start-stack.js';

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new Error(`invalid ${name} ${JSON.stringify(raw)}: expected a TCP port from 0 to 65535`);
  }
  return value;
}

async function main(): Promise<void> {
  const dataDir = path.resolve(process.env.DATA_DIR ?? '.data');
  const log = (message: string) => console.log(message);
  const stack = await startStack({
    dataDir,
    taskQueue: process.env.TASK_QUEUE ?? 'greetings',
    registryPort: port('REGISTRY_PORT', 4873),
    deployApiPort: port('DEPLOY_API_PORT', 4000),
    workerPort: port('WORKER_HTTP_PORT', 4010),
    temporalPort: port('TEMPORAL_PORT', 7233),
    temporalUiPort: port('TEMPORAL_UI_PORT', 8233),
    temporalAddress: process.env.TEMPORAL_ADDRESS || undefined,
    temporalNamespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    proxyNpmjs: process.env.REGISTRY_PROXY_NPMJS === 'true',
    publisherName: process.env.REGISTRY_PUBLISHER || undefined,
    log,
  });
  log(
    `\nwrote ${path.join(dataDir, 'local.env')}; in another shell: set -a; source .data/local.env; set +a`,
  );
  log('press Ctrl-C to stop');

  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    log('stopping: worker drains first, then the deploy API, registry and Temporal');
    stack.stop().then(
      () => {
        log('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

main().catch((error: unknown) => {
  console.error(`the stack failed to start: ${(error as Error).message}`);
  process.exit(1);
});
