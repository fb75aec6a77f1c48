import type {
  AuditList,
  CreatedToken,
  ErrorBody,
  FollowStatus,
  PackageConfig,
  PackageSettings,
  RevisionList,
  Rollout,
  RolloutList,
  RolloutReport,
  RolloutRequest,
  TokenList,
  TokenRole,
  Veto,
  VetoList,
  VetoResult,
  TaskQueueState,
  WorkerList,
  WorkerReport,
  WriteResult,
} from './types.js';

export type * from './types.js';

/** A non-2xx response of the deploy API, with its stable error code. */
export class DeployApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'DeployApiError';
  }
}

export interface DeployApiClientOptions {
  /** Base URL, for example `http://127.0.0.1:4000/`. */
  url: string;
  /** Bearer token; needed for writes only. */
  token?: string | undefined;
}

export interface GetStateOptions {
  /** ETag of the state the caller has; a matching state returns `notModified`. */
  etag?: string | undefined;
  /** Seconds the server may hold the request while the state still matches `etag`. */
  waitSeconds?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** Conditions of a write. */
export interface WriteGuard {
  /** ETag the state must still have; otherwise the write fails with PRECONDITION_FAILED. */
  ifMatch?: string | undefined;
  /** Compute the revision and store nothing. */
  dryRun?: boolean | undefined;
}

export interface PinOptions {
  reason?: string | undefined;
  /** Settings that replace those of the current pin. Without them, the current settings stay. */
  config?: PackageConfig | undefined;
  /** Rolls the new revision out in steps instead of to every worker at once. */
  rollout?: RolloutRequest | undefined;
  /** Keep resolving the range or dist-tag and move the pin when it selects another version. */
  follow?: boolean | undefined;
  /** With `follow`: seconds a version must have been published before the pin moves to it. */
  minAgeSeconds?: number | undefined;
}

/** Action of a rollout call on the running rollout of a queue. */
export type RolloutAction = 'pause' | 'resume' | 'promote' | 'abort';

export type GetStateResult =
  { notModified: false; state: TaskQueueState; etag: string } | { notModified: true; etag: string };

/** Typed HTTP client of the deploy API, for workers, CI scripts and tests. */
export class DeployApiClient {
  readonly #base: URL;
  readonly #token: string | undefined;

  constructor(options: DeployApiClientOptions) {
    this.#base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`);
    this.#token = options.token;
  }

  /** Reads a task queue's desired state; with `etag` and `waitSeconds`, long-polls for a change. */
  async getState(taskQueue: string, options: GetStateOptions = {}): Promise<GetStateResult> {
    const url = this.#url(`v1/task-queues/${encodeURIComponent(taskQueue)}`);
    if (options.waitSeconds) url.searchParams.set('wait', String(options.waitSeconds));
    const headers = this.#headers();
    if (options.etag) headers['if-none-match'] = options.etag;
    const response = await fetch(url, { headers, signal: options.signal ?? null });
    const etag = response.headers.get('etag') ?? '';
    if (response.status === 304) {
      await response.body?.cancel();
      return { notModified: true, etag };
    }
    const state = await parse<TaskQueueState>(response);
    return { notModified: false, state, etag };
  }

  /**
   * Pins `name` to an exact version, semver range or dist-tag. `options` is the reason,
   * or an object with the reason and the config that replaces the pin's settings.
   */
  pin(
    taskQueue: string,
    name: string,
    version: string,
    options?: string | PinOptions,
    guard?: WriteGuard,
  ): Promise<WriteResult> {
    const { reason, config, rollout, follow, minAgeSeconds } =
      typeof options === 'string' ? { reason: options } : (options ?? {});
    const body = {
      version,
      ...(reason === undefined ? {} : { reason }),
      ...(config === undefined ? {} : { config }),
      ...(rollout === undefined ? {} : { rollout }),
      ...(follow === undefined ? {} : { follow }),
      ...(minAgeSeconds === undefined ? {} : { minAgeSeconds }),
    };
    return this.#write('PUT', packagePath(taskQueue, name), body, guard);
  }

  /** Changes the settings of a pinned package without changing its version. */
  configure(
    taskQueue: string,
    name: string,
    settings: PackageSettings & {
      reason?: string | undefined;
      rollout?: RolloutRequest | undefined;
    },
    guard?: WriteGuard,
  ): Promise<WriteResult> {
    return this.#write('PATCH', packagePath(taskQueue, name), settings, guard);
  }

  /** Removes a package; `options` is the reason, or an object with it and a rollout. */
  unpin(
    taskQueue: string,
    name: string,
    options?: string | { reason?: string | undefined; rollout?: RolloutRequest | undefined },
    guard?: WriteGuard,
  ): Promise<WriteResult> {
    const { reason, rollout } = typeof options === 'string' ? { reason: options } : (options ?? {});
    const body = {
      ...(reason === undefined ? {} : { reason }),
      ...(rollout === undefined ? {} : { rollout }),
    };
    return this.#write('DELETE', packagePath(taskQueue, name), body, guard);
  }

  /** Restores the package set of `revision`, by default the revision before the current one. */
  rollback(
    taskQueue: string,
    options: { revision?: number; reason?: string; rollout?: RolloutRequest } = {},
    guard?: WriteGuard,
  ): Promise<WriteResult> {
    return this.#write('POST', `${queuePath(taskQueue)}/rollback`, options, guard);
  }

  /** Reads the newest rollout of a queue, running or ended, with its call figures. */
  getRollout(taskQueue: string): Promise<RolloutReport> {
    return this.#send('GET', `${queuePath(taskQueue)}/rollout`);
  }

  /** Lists the rollouts of a queue, newest first. */
  listRollouts(taskQueue: string, limit?: number): Promise<RolloutList> {
    const search = limit === undefined ? '' : `?limit=${limit}`;
    return this.#send('GET', `${queuePath(taskQueue)}/rollouts${search}`);
  }

  /** Pauses, resumes, promotes or aborts the running rollout of a queue. */
  async rolloutAction(
    taskQueue: string,
    action: RolloutAction,
    reason?: string,
    guard: { ifMatch?: string | undefined } = {},
  ): Promise<Rollout> {
    const headers: Record<string, string> = {
      ...this.#headers(),
      'content-type': 'application/json',
    };
    if (guard.ifMatch) headers['if-match'] = guard.ifMatch;
    const response = await fetch(this.#url(`${queuePath(taskQueue)}/rollout/${action}`), {
      method: 'POST',
      headers,
      body: JSON.stringify(reason === undefined ? {} : { reason }),
    });
    return parse<Rollout>(response);
  }

  /** Sends a worker's report; the latest one replaces the previous. */
  async reportWorker(taskQueue: string, workerId: string, report: WorkerReport): Promise<void> {
    const url = this.#url(`${queuePath(taskQueue)}/workers/${encodeURIComponent(workerId)}`);
    const headers = { ...this.#headers(), 'content-type': 'application/json' };
    const response = await fetch(url, { method: 'PUT', headers, body: JSON.stringify(report) });
    if (!response.ok) await parse<unknown>(response);
  }

  async workers(taskQueue: string): Promise<WorkerList> {
    const url = this.#url(`${queuePath(taskQueue)}/workers`);
    return parse<WorkerList>(await fetch(url, { headers: this.#headers() }));
  }

  /** Reads the pins of a queue that follow a range or dist-tag, with their latest check. */
  async followStatus(taskQueue: string): Promise<FollowStatus> {
    const url = this.#url(`${queuePath(taskQueue)}/follow`);
    return parse<FollowStatus>(await fetch(url, { headers: this.#headers() }));
  }

  async revisions(taskQueue: string, limit?: number): Promise<RevisionList> {
    const url = this.#url(`${queuePath(taskQueue)}/revisions`);
    if (limit !== undefined) url.searchParams.set('limit', String(limit));
    return parse<RevisionList>(await fetch(url, { headers: this.#headers() }));
  }

  async #write<T>(method: string, path: string, body: unknown, guard: WriteGuard = {}): Promise<T> {
    const headers: Record<string, string> = {
      ...this.#headers(),
      'content-type': 'application/json',
    };
    if (guard.ifMatch) headers['if-match'] = guard.ifMatch;
    const url = this.#url(path);
    if (guard.dryRun) url.searchParams.set('dryRun', 'true');
    const response = await fetch(url, { method, headers, body: JSON.stringify(body) });
    return parse<T>(response);
  }

  /** Headers of every request: the token, when one is set, goes with reads too. */
  #headers(): Record<string, string> {
    return this.#token ? { authorization: `Bearer ${this.#token}` } : {};
  }

  #url(path: string): URL {
    return new URL(path, this.#base);
  }

  /** Vetoes a version: it can no longer be pinned, and queues running it are rolled back. */
  vetoVersion(name: string, version: string, reason: string): Promise<VetoResult> {
    return this.#send('POST', vetoPath(name, version), { reason });
  }

  /** Lifts the veto of a version and returns the veto that was lifted. */
  liftVeto(name: string, version: string, reason?: string): Promise<Veto> {
    return this.#send('DELETE', vetoPath(name, version), reason === undefined ? {} : { reason });
  }

  listVetoes(name: string): Promise<VetoList> {
    return this.#send('GET', `v1/packages/${encodeURIComponent(name)}/vetoes`);
  }

  /** Creates a token; the response is the only place its secret appears. */
  createToken(request: CreateTokenRequest): Promise<CreatedToken> {
    const body = {
      name: request.name,
      role: request.role,
      ...(request.taskQueues === undefined ? {} : { taskQueues: request.taskQueues }),
    };
    return this.#send('POST', 'v1/tokens', body);
  }

  listTokens(): Promise<TokenList> {
    return this.#send('GET', 'v1/tokens');
  }

  async deleteToken(name: string): Promise<void> {
    await this.#send('DELETE', `v1/tokens/${encodeURIComponent(name)}`);
  }

  /** Reads the audit log, newest first, optionally of one task queue. */
  listAudit(options: { taskQueue?: string; limit?: number } = {}): Promise<AuditList> {
    const query = new URLSearchParams();
    if (options.taskQueue !== undefined) query.set('taskQueue', options.taskQueue);
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    const search = query.size > 0 ? `?${query.toString()}` : '';
    return this.#send('GET', `v1/audit${search}`);
  }

  /** Sends a request with a JSON body when `body` is given, and parses the response. */
  async #send<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers = this.#headers();
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(this.#url(path), {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
    });
    return parse<T>(response);
  }
}

export interface CreateTokenRequest {
  name: string;
  role: TokenRole;
  /** Task queues the token may change; omitted, the token is not limited to some. */
  taskQueues?: string[] | undefined;
}

function vetoPath(name: string, version: string): string {
  return `v1/packages/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}/veto`;
}

function packagePath(taskQueue: string, name: string): string {
  return `${queuePath(taskQueue)}/packages/${encodeURIComponent(name)}`;
}

function queuePath(taskQueue: string): string {
  return `v1/task-queues/${encodeURIComponent(taskQueue)}`;
}

async function parse<T>(response: Response): Promise<T> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const error = (body as Partial<ErrorBody> | undefined)?.error;
    throw new DeployApiError(
      response.status,
      error?.code ?? `HTTP_${response.status}`,
      error?.message ?? `deploy API returned HTTP ${response.status}: ${text.slice(0, 200)}`,
    );
  }
  return body as T;
}

export { rolloutBucket, runsCandidate, workerTarget } from './rollout-bucket.js';
export type { WorkerTarget } from './rollout-bucket.js';
