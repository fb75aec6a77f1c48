/**
 * Every error the deploy API returns, with its HTTP status. Codes are stable: clients
 * decide on them, never on the message text.
 */
export const errorCatalogue = {
  INVALID_REQUEST: 400,
  INVALID_TASK_QUEUE: 400,
  INVALID_PACKAGE_NAME: 400,
  INVALID_VERSION_SPEC: 400,
  INVALID_PACKAGE_CONFIG: 400,
  INVALID_ROLLOUT: 400,
  INVALID_FOLLOW: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  PACKAGE_NOT_FOUND: 404,
  VERSION_NOT_FOUND: 404,
  PACKAGE_NOT_PINNED: 404,
  REVISION_NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  TOKEN_NOT_FOUND: 404,
  VETO_NOT_FOUND: 404,
  ROLLOUT_NOT_FOUND: 404,
  NOTHING_TO_ROLL_BACK: 409,
  ACTIVITY_NAME_CLASH: 409,
  INCOMPATIBLE_PACKAGE: 409,
  VERSION_VETOED: 409,
  VERSION_SKIPPED: 409,
  TOKEN_EXISTS: 409,
  BOOTSTRAP_TOKEN_PROTECTED: 409,
  ROLLOUT_IN_PROGRESS: 409,
  NO_ROLLOUT_RUNNING: 409,
  NO_STABLE_REVISION: 409,
  ROLLOUT_PAUSED: 409,
  ROLLOUT_NOT_PAUSED: 409,
  PRECONDITION_FAILED: 412,
  REQUEST_TOO_LARGE: 413,
  REGISTRY_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
} as const;

export type ErrorCode = keyof typeof errorCatalogue;

/** An error with a stable code that the error handler turns into `{ error: { code, message } }`. */
export class ApiError extends Error {
  readonly statusCode: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ApiError';
    this.statusCode = errorCatalogue[code];
  }
}
