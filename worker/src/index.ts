export { workerOptionsFromEnv } from './options.js';
export type { WorkerOptions } from './options.js';
export { Supervisor } from './supervisor/supervisor.js';
export type { WorkerStatus, SupervisorState, FailureRecord } from './supervisor/supervisor.js';
export { buildHttpServer } from './http-server.js';
