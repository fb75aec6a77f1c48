#!/usr/bin/env -S node --max-semi-space-size=1
// The shebang carries supervisorNodeFlags (node-flags.ts) for `npx activity-worker`.
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { buildHttpServer } from './http-server.js';
import { supervisorNodeFlags } from './node-flags.js';
import { workerOptionsFromEnv } from './options.js';
import { Supervisor } from './supervisor/supervisor.js';

const logger = pino({ name: 'worker', level: process.env.LOG_LEVEL ?? 'info' });

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { watch: { type: 'string' } } });
  const options = workerOptionsFromEnv(process.env, values);
  warnOnMissingNodeFlags();
  const supervisor = new Supervisor(options, logger);
  const http = buildHttpServer(supervisor);
  const address = await http.listen({ host: options.httpHost, port: options.httpPort });
  logger.info(
    {
      url: `${address}/`,
      taskQueue: options.taskQueue,
      workerId: options.workerId,
      watch: options.watchDir,
    },
    'worker listening',
  );
  await supervisor.start();

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal, killing generations');
      supervisor.kill();
      process.exit(1);
    }
    logger.info({ signal, graceSeconds: options.shutdownGraceMs / 1000 }, 'worker draining');
    supervisor
      .stop()
      .then(async (drained) => {
        await http.close();
        if (drained) {
          logger.info('worker stopped');
          process.exit(0);
        }
        logger.error('worker stopped, but a generation was killed after the force period');
        process.exit(1);
      })
      .then(
        () => undefined,
        (error: unknown) => {
          logger.error({ err: error }, 'worker failed to stop cleanly');
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Warns when a flag of supervisorNodeFlags is set neither on the command line nor in NODE_OPTIONS. */
function warnOnMissingNodeFlags(): void {
  const passedFlags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  const missing = supervisorNodeFlags.filter(
    (flag) => !passedFlags.some((arg) => arg.split('=')[0] === flag.split('=')[0]),
  );
  if (missing.length === 0) return;
  logger.warn(
    { missing, example: `node ${supervisorNodeFlags.join(' ')} ${process.argv[1] ?? 'main.js'}` },
    'worker started without its Node.js flags, so its resident memory grows with the V8 young generation',
  );
}

main().catch((error: unknown) => {
  logger.fatal({ err: error }, 'worker failed to start');
  process.exit(1);
});
