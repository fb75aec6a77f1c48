#!/usr/bin/env node
import { deployApiOptionsFromEnv, redactDatabaseUrl } from './options.js';
import { startDeployApi } from './server.js';

async function main(): Promise<void> {
  const options = deployApiOptionsFromEnv();
  const api = await startDeployApi(options);
  const database =
    options.databaseUrl === undefined
      ? options.databaseFile
      : redactDatabaseUrl(options.databaseUrl);
  api.app.log.info({ url: api.url, database }, 'deploy API listening');
  const stop = (signal: NodeJS.Signals) => {
    api.app.log.info({ signal }, 'deploy API stopping');
    api.close().then(
      () => process.exit(0),
      (error: unknown) => {
        api.app.log.error({ err: error }, 'deploy API failed to stop cleanly');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(`deploy API failed to start: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
