export { freePort } from './free-port.js';
export { writeLocalEnv } from './local-env.js';
export { startStack } from './start-stack.js';
export type { RunningStack, StackOptions } from './start-stack.js';
export { resolveTemporalCli, temporalCliCacheDir, temporalCliVersion } from './temporal-cli.js';
export { checkTemporalServer, startTemporalDevServer } from './temporal-dev-server.js';
export type { DevServerOptions, RunningDevServer } from './temporal-dev-server.js';
export { startWorkerProcess } from './worker-process.js';
export type { WorkerProcess, WorkerProcessOptions } from './worker-process.js';
