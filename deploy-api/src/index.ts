export { buildApp } from './app.js';
export type { AppOptions } from './app.js';
export { ApiError, errorCatalogue } from './errors.js';
export type { ErrorCode } from './errors.js';
export { deployApiOptionsFromEnv, resolveHookToken } from './options.js';
export type { DeployApiOptions } from './options.js';
export { startDeployApi } from './server.js';
export type { RunningDeployApi } from './server.js';
export * from './client/index.js';
