// Every line a generation writes is one pino JSON object on stdout: its own logs, the
// SDK's logs (including the activity context logger) and console output of activity code.
import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';
import type { LogLevel, LogMetadata, Logger as SdkLogger } from '@temporalio/worker';
import type { Logger } from 'pino';

/** Fields of the activity that runs in the current async context. */
export interface ActivityLogFields {
  workflowId: string | undefined;
  activityId: string;
  activityType: string;
  attempt: number;
  package: string;
  version: string;
  revision: number;
}

/** Set by the activity context interceptor around each activity execution. */
export const activityLogContext = new AsyncLocalStorage<ActivityLogFields>();

const pinoLevels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * Adapts a pino logger to the SDK's Logger interface. The SDK passes errors as
 * `meta.error`; they move to `err`, where pino's error serializer finds them.
 */
export function sdkLogger(logger: Logger): SdkLogger {
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => {
    const fields: Record<string, unknown> = { ...meta };
    if (fields.error instanceof Error) {
      fields.err = fields.error;
      delete fields.error;
    }
    logger[pinoLevels[level] ?? 'info'](fields, message);
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

const consoleLevels = {
  log: 'info',
  info: 'info',
  debug: 'debug',
  trace: 'trace',
  warn: 'warn',
  error: 'error',
} as const;

/**
 * Replaces console.log, info, debug, trace, warn and error with calls to `logger`, so
 * that activity code that prints keeps stdout valid JSON lines. Inside an activity, each
 * line also carries the activity's fields from activityLogContext.
 */
export function routeConsoleToLogger(logger: Logger): void {
  for (const [method, level] of Object.entries(consoleLevels)) {
    (console as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      const fields = { source: 'console', ...activityLogContext.getStore() };
      logger[level](fields, format(...args));
    };
  }
}
