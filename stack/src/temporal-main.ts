#!/usr/bin/env node
// Provides the Temporal CLI (building it when needed) and, unless TEMPORAL_ADDRESS names
// a server, starts a dev server and keeps it running until SIGINT or SIGTERM.
//   node stack/dist/src/temporal-main.js            start a dev server
//   node stack/dist/src/temporal-main.js --cli-only print the CLI path and exit
import { resolveTemporalCli } from './temporal-cli.js';
import { startTemporalDevServer } from './temporal-dev-server.js';

const log = (message: string) => console.error(message);

async function main(): Promise<void> {
  if (process.argv.includes('--cli-only')) {
    console.log(await resolveTemporalCli(process.env, log));
    return;
  }
  if (process.env.TEMPORAL_ADDRESS) {
    log(`TEMPORAL_ADDRESS is set (${process.env.TEMPORAL_ADDRESS}); not starting a dev server`);
    return;
  }
  const server = await startTemporalDevServer({
    port: Number(process.env.TEMPORAL_PORT ?? 7233),
    uiPort: Number(process.env.TEMPORAL_UI_PORT ?? 8233),
    namespace: process.env.TEMPORAL_NAMESPACE,
    log,
  });
  console.log(`TEMPORAL_ADDRESS=${server.address}`);
  if (server.uiUrl) console.log(`TEMPORAL_UI_URL=${server.uiUrl}`);
  const stop = () => void server.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
