export { registryDefaults, registryOptionsFromEnv, resolveRegistryOptions } from './options.js';
export type { RegistryOptions } from './options.js';
export { startRegistry } from './registry-server.js';
export type { RunningRegistry } from './registry-server.js';
