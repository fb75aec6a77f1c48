import type { FailureInfo } from './ipc.js';

/**
 * Codes of the failures a worker reports for a revision it could not apply.
 * EINTEGRITY, E404 and ETARGET pass through from pacote unchanged.
 */
export type WorkerErrorCode =
  | 'FETCH_FAILED'
  | 'UNSAFE_TARBALL'
  | 'TARBALL_TOO_LARGE'
  | 'INSTALL_FAILED'
  | 'EINTEGRITY'
  | 'PEER_DEPENDENCY_MISMATCH'
  | 'ENGINE_MISMATCH'
  | 'IMPORT_FAILED'
  | 'NO_ACTIVITIES'
  | 'ACTIVITY_NAME_CLASH'
  | 'DECLARED_ACTIVITIES_MISMATCH'
  | 'DISABLED_ACTIVITY_NOT_FOUND'
  | 'WORKER_START_FAILED'
  | 'GENERATION_EXITED'
  | 'GENERATION_UNRESPONSIVE'
  | 'LOAD_TIMED_OUT'
  | 'E404'
  | 'ETARGET'
  | 'INTERNAL_ERROR';

/** A failure to apply a revision, carrying the package that caused it. */
export class LoadError extends Error {
  constructor(
    readonly code: WorkerErrorCode,
    message: string,
    readonly packageName?: string,
    readonly version?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LoadError';
  }

  toFailureInfo(): FailureInfo {
    return {
      code: this.code,
      message: this.message,
      package: this.packageName,
      version: this.version,
    };
  }

  static fromFailureInfo(info: FailureInfo): LoadError {
    return new LoadError(info.code as WorkerErrorCode, info.message, info.package, info.version);
  }
}
