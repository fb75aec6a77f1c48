// Messages between the supervisor and a generation process, sent over Node's IPC channel.

/** A package extracted on local disk, ready to import. */
export interface LocalPackage {
  name: string;
  version: string;
  integrity: string;
  /** Folder that contains `node_modules/<name>` and the `entry.mjs` that imports it. */
  root: string;
  /** `entry.mjs`, whose default export is the package's module namespace. */
  entryFile: string;
  /** Settings from the pin, which activity code reads with packageConfig(). */
  config?: Record<string, string | number | boolean | null> | undefined;
  /** Exported functions not to register as activities. */
  disabledActivities?: string[] | undefined;
}

/** An activity as registered with the Temporal Worker, and the package it came from. */
export interface ActivityEntry {
  name: string;
  package: string;
  version: string;
}

export interface FailureInfo {
  /** Stable code: decide on it, not on the message. */
  code: string;
  message: string;
  package?: string | undefined;
  version?: string | undefined;
}

/** Memory of a generation process, in bytes, from process.memoryUsage(). */
export interface MemorySample {
  rss: number;
  heapUsed: number;
}

/** One finished activity execution, as the generation's interceptor saw it. */
export interface ActivitySample {
  activity: string;
  outcome: 'completed' | 'failed' | 'cancelled';
  durationMs: number;
}

/**
 * Stop mode of a generation. `retire` (a swap, a recycle, an unpin) lets in-flight
 * activities finish on their code, and the SDK cancels them only when the grace period
 * ends. `exit` (the worker itself stops) also cancels them at once with `WORKER_SHUTDOWN`.
 */
export type ShutdownMode = 'retire' | 'exit';

export type SupervisorMessage =
  | { type: 'load'; revision: number; packages: LocalPackage[] }
  | { type: 'ping'; sequence: number }
  | { type: 'shutdown'; mode: ShutdownMode };

export type GenerationMessage =
  /** `metricsPort`: loopback port of the SDK's Prometheus exporter in the process. */
  | { type: 'idle'; metricsPort: number }
  /** `loadMs`: time to import every package of the set. */
  | { type: 'loaded'; activities: ActivityEntry[]; loadMs: number }
  | { type: 'running' }
  | { type: 'pong'; sequence: number; memory: MemorySample }
  | { type: 'activities'; samples: ActivitySample[] }
  | { type: 'failed'; error: FailureInfo }
  | { type: 'stopped' };
