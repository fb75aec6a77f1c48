#!/usr/bin/env node
import path from 'node:path';
import { pino } from 'pino';
import { registryOptionsFromEnv } from './options.js';
import { startRegistry } from './registry-server.js';

const logger = pino({ name: 'registry' });

async function main(): Promise<void> {
  const options = registryOptionsFromEnv();
  const registry = await startRegistry(options);
  logger.info(
    {
      url: registry.url,
      dataDir: options.dataDir,
      proxyNpmjs: options.proxyNpmjs,
      // The password is in this file; `npm login` with it returns a publish token.
      publisherCredentials: path.join(options.dataDir, 'registry', 'publisher.json'),
    },
    'registry listening',
  );

  const stop = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'registry stopping');
    registry.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'registry failed to stop cleanly');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  logger.fatal({ err: error }, 'registry failed to start');
  process.exit(1);
});
