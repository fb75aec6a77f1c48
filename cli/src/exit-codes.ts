import { DeployApiError } from '@activity-deploy/deploy-api/client';

/** Exit codes of deployctl; scripts may rely on them. */
export const ExitCode = {
  ok: 0,
  /** The deploy API rejected the request, or deployctl failed unexpectedly. */
  rejected: 1,
  usage: 2,
  unreachable: 3,
  /** HTTP 412: `--if-match` named a state the task queue has moved on from. */
  preconditionFailed: 4,
  notConverged: 5,
  /** Ctrl-C, as a shell reports a process ended by SIGINT (128 + 2). */
  interrupted: 130,
} as const;

/** Invalid command-line input; deployctl prints the message and exits 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** Command whose help the message points to, such as `pin` or `tokens create`. */
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Returns true for a fetch that failed before any response arrived: refused, reset, unknown host. */
export function isUnreachable(error: unknown): boolean {
  // Node's fetch (undici) rejects with a TypeError whose cause is the socket error.
  return error instanceof TypeError && error.cause !== undefined;
}

/** Maps an error of a command to its exit code and the line printed to stderr. */
export function describeFailure(error: unknown, apiUrl: string): { code: number; message: string } {
  if (error instanceof UsageError) {
    const help = error.command ? `deployctl ${error.command} --help` : 'deployctl --help';
    return { code: ExitCode.usage, message: `${error.message}\nRun '${help}' for usage.` };
  }
  if (error instanceof DeployApiError) {
    return {
      code: error.status === 412 ? ExitCode.preconditionFailed : ExitCode.rejected,
      message: `${error.code} (HTTP ${error.status}): ${error.message}`,
    };
  }
  if (isUnreachable(error)) {
    const cause = (error as TypeError).cause;
    const detail = cause instanceof Error ? cause.message : String(cause);
    return {
      code: ExitCode.unreachable,
      message:
        `could not reach the deploy API at ${apiUrl}: ${detail}; ` +
        'check --url or DEPLOY_API_URL and that the API is running',
    };
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { code: ExitCode.rejected, message: `unexpected error: ${detail}` };
}
