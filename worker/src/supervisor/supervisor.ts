import { createRequire } from 'node:module';
import path from 'node:path';
import {
  DeployApiClient,
  rolloutBucket,
  workerTarget,
  type PinnedPackage,
  type RevisionCalls,
  type TaskQueueState,
} from '@activity-deploy/deploy-api/client';
import type { Logger } from 'pino';
import { LoadError } from '../errors.js';
import type { ActivityEntry, FailureInfo, LocalPackage } from '../ipc.js';
import type { WorkerOptions } from '../options.js';
import { AppliedStateFile } from './applied-state.js';
import { backoffDelay, sleep } from './backoff.js';
import { GenerationProcess } from './generation-process.js';
import { PackageFolder } from './package-folder.js';
import { PackageStore } from './package-store.js';
import { WorkerMetrics } from './worker-metrics.js';

export type SupervisorState = 'starting' | 'idle' | 'serving' | 'stopping' | 'stopped';

export interface GenerationStatus {
  id: number;
  pid: number | undefined;
  revision: number | null;
  state: string;
  startedAt: string;
  /** Memory in the latest response to a health ping, in bytes. */
  memory: { rss: number; heapUsed: number } | null;
  /** Time to import the set, in milliseconds. */
  loadMs: number | null;
}

export interface FailureRecord extends FailureInfo {
  revision: number;
  at: string;
}

/** An activity of the serving generation, with the package it came from. */
export interface ActivityStatus extends ActivityEntry {
  integrity: string;
  /** When the generation finished importing the set. */
  loadedAt: string | null;
}

/** One attempt to put a generation in service, in /status `swaps`. */
export interface SwapRecord {
  revision: number;
  /** `revision`: a new desired revision; `recycle`, `restart`: the same set in a fresh process. */
  reason: 'revision' | 'recycle' | 'restart';
  result: 'applied' | 'failed';
  startedAt: string;
  /** Durations in milliseconds; null for a step that did not run or has not ended. */
  durations: {
    total: number;
    /** Fetching, verifying and installing the packages. */
    fetchInstall: number | null;
    /** From handing the set to a generation until its Worker runs. */
    load: number | null;
    /** From asking the previous generation to stop until it exited. */
    drain: number | null;
  };
  generation: number | null;
  /** Code of the failure, for result `failed`. */
  code: string | null;
}

/** Body of the `/status` response. */
export interface WorkerStatus {
  workerId: string;
  taskQueue: string;
  state: SupervisorState;
  desiredRevision: number | null;
  appliedRevision: number | null;
  packages: PinnedPackage[];
  activities: ActivityStatus[];
  generation: GenerationStatus | null;
  draining: GenerationStatus[];
  /** The generation waiting, SDK loaded and connected, for the next activity set. */
  spare: GenerationStatus | null;
  lastError: FailureRecord | null;
  /** The most recent failures, newest first, including ones already recovered from. */
  errors: FailureRecord[];
  /** The most recent swaps, newest first, with their durations. */
  swaps: SwapRecord[];
  /** Generations replaced after they exited on their own or stopped responding to pings. */
  restarts: number;
  /** Generations replaced for memory or age by a fresh one with the same set. */
  recycles: number;
  deployApi: { reachable: boolean; lastContactAt: string | null };
  /** The queue's running rollout as this worker sees it, else null. */
  rollout: RolloutView | null;
  /** Finished activity calls since the worker started, by revision, newest revision first. */
  activityCalls: RevisionCalls[];
  /** The local package folder in `--watch` mode, else null. */
  watchDir: string | null;
  versions: { node: string; temporalSdk: string };
}

/** A running rollout of the queue, and which side of it this worker is on. */
export interface RolloutView {
  candidateRevision: number;
  stableRevision: number;
  percent: number;
  /** This worker's bucket, 0 to 99; it runs the candidate when the bucket is below `percent`. */
  bucket: number;
  onCandidate: boolean;
}

/** How many revisions the activity call counts are kept for; the first one counted goes first. */
const maxRevisionsCounted = 20;

/** Uptime after which a crashed generation no longer counts as crashing again and again. */
const stableAfterMs = 60_000;

/** How many failures /status keeps in `errors`, and swaps in `swaps`. */
const maxRecentErrors = 20;
const maxRecentSwaps = 20;

/** Limit for fetching the serving generation's SDK metrics during a /metrics request. */
const sdkMetricsTimeoutMs = 2000;

const sdkVersion = (
  createRequire(import.meta.url)('@temporalio/worker/package.json') as { version: string }
).version;

/**
 * Keeps one generation process serving the desired revision of a task queue. It
 * long-polls the deploy API, fetches and verifies the pinned tarballs, starts the next
 * generation, and drains the previous one only once the next one's Worker is running.
 * A revision that fails to apply never replaces the one that is serving.
 */
export class Supervisor {
  readonly #options: Readonly<WorkerOptions>;
  readonly #log: Logger;
  readonly #client: DeployApiClient;
  readonly #store: PackageStore;
  readonly #appliedFile: AppliedStateFile;
  /** Set in `--watch` mode, which replaces the deploy API and the registry. */
  readonly #folder: PackageFolder | undefined;
  readonly #stopController = new AbortController();
  readonly metrics = new WorkerMetrics(() => this.#current);

  #state: SupervisorState = 'starting';
  #desired: TaskQueueState | undefined;
  #applied: TaskQueueState | undefined;
  #current: GenerationProcess | undefined;
  #spare: GenerationProcess | undefined;
  readonly #draining = new Set<GenerationProcess>();
  #nextGenerationId = 1;
  #restarts = 0;
  #recycles = 0;
  /** Set while the serving generation waits to be replaced for memory or age. */
  #recycleReason: string | undefined;
  #lastError: FailureRecord | null = null;
  readonly #errors: FailureRecord[] = [];
  readonly #swaps: SwapRecord[] = [];
  #failedAttempts = 0;
  #retryAt = 0;
  #wake: (() => void) | undefined;
  #lastContactAt: Date | null = null;
  #reachable = false;
  #loops: Promise<void>[] = [];
  #reportFailing = false;
  #rollout: RolloutView | null = null;
  /** Finished calls by revision, in order of first call, so the oldest is dropped first. */
  readonly #calls = new Map<number, RevisionCalls>();

  constructor(options: Readonly<WorkerOptions>, logger: Logger) {
    this.#options = options;
    this.#log = logger.child({ taskQueue: options.taskQueue });
    this.#client = new DeployApiClient({
      url: options.deployApiUrl,
      token: options.deployApiToken,
    });
    const workerDir = path.join(options.dataDir, 'worker');
    this.#store = new PackageStore({
      workerDir,
      registryUrl: options.registryUrl,
      registryToken: options.registryToken,
      installScripts: options.installScripts,
      limits: {
        maxCompressedBytes: options.maxTarballBytes,
        maxUnpackedBytes: options.maxUnpackedBytes,
      },
    });
    this.#appliedFile = new AppliedStateFile(workerDir, options.taskQueue);
    if (options.watchDir) this.#folder = new PackageFolder(options.watchDir, this.#log);
  }

  /** Restores the last applied revision from disk, then starts watching the deploy API. */
  async start(): Promise<void> {
    if (this.#folder) return this.#startWatching(this.#folder);
    await this.#store.linkHostPackages();
    const restored = await this.#appliedFile.read();
    if (restored) {
      this.#log.info({ revision: restored.revision }, 'restoring last applied revision');
      this.#desired = restored;
    }
    this.#loops = [this.#watch(), this.#reconcile(), this.#reportPeriodically()];
    this.#prepareSpare();
  }

  /**
   * Stops watching and drains every generation, cancelling their running activities
   * with WORKER_SHUTDOWN at once (ShutdownMode `exit`). Resolves with true when every
   * generation exited on its own, false when one had to be killed after the grace and
   * force periods.
   */
  async stop(): Promise<boolean> {
    if (this.#state === 'stopping' || this.#state === 'stopped') return true;
    this.#setState('stopping');
    this.#stopController.abort();
    this.#wake?.();
    // A swap in progress may put a new generation in #current or #draining while the
    // loops end, so the generations are collected after they have.
    await Promise.allSettled(this.#loops);
    const generations = [...this.#draining, this.#current, this.#spare].filter(
      (generation): generation is GenerationProcess => generation !== undefined,
    );
    await Promise.all(generations.map((generation) => generation.drain('exit')));
    this.#setState('stopped');
    // The last report tells the deploy API that this worker left on purpose.
    await this.#report();
    await this.#folder?.close();
    return generations.every((generation) => !generation.killed);
  }

  /**
   * Returns the Prometheus text of the serving generation's SDK runtime metrics, or an
   * empty string when there is none or it does not respond in time.
   */
  async sdkMetrics(): Promise<string> {
    const port = this.#current?.metricsPort;
    if (!port) return '';
    try {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`, {
        signal: AbortSignal.timeout(sdkMetricsTimeoutMs),
      });
      if (!response.ok) throw new Error(`status ${response.status}`);
      return await response.text();
    } catch (error) {
      this.#log.warn({ err: error, port }, 'fetching SDK metrics of the generation failed');
      return '';
    }
  }

  /** Kills every generation at once, for a second SIGTERM. */
  kill(): void {
    this.#current?.kill();
    this.#spare?.kill();
    for (const generation of this.#draining) generation.kill();
  }

  get ready(): boolean {
    return this.#current?.state === 'running';
  }

  status(): WorkerStatus {
    return {
      workerId: this.#options.workerId,
      taskQueue: this.#options.taskQueue,
      state: this.#state,
      desiredRevision: this.#desired?.revision ?? null,
      appliedRevision: this.#applied?.revision ?? null,
      packages: this.#applied?.packages ?? [],
      activities: this.#activityStatus(),
      generation: this.#current ? generationStatus(this.#current) : null,
      draining: [...this.#draining].map(generationStatus),
      spare: this.#spare ? generationStatus(this.#spare) : null,
      lastError: this.#lastError,
      errors: [...this.#errors],
      swaps: this.#swaps.map((swap) => ({ ...swap, durations: { ...swap.durations } })),
      restarts: this.#restarts,
      recycles: this.#recycles,
      deployApi: {
        reachable: this.#reachable,
        lastContactAt: this.#lastContactAt?.toISOString() ?? null,
      },
      rollout: this.#rollout && { ...this.#rollout },
      activityCalls: this.#callCounts(),
      watchDir: this.#folder?.folder ?? null,
      versions: { node: process.versions.node, temporalSdk: sdkVersion },
    };
  }

  #activityStatus(): ActivityStatus[] {
    const current = this.#current;
    if (!current) return [];
    const packages = this.#applied?.packages ?? [];
    return current.activities.map((entry) => ({
      ...entry,
      integrity: packages.find((pinned) => pinned.name === entry.package)?.integrity ?? '',
      loadedAt: current.loadedAt?.toISOString() ?? null,
    }));
  }

  /**
   * Serves the package in a local folder: each change that alters its built output
   * becomes the next local revision (1, 2, …), applied through the usual swap.
   */
  async #startWatching(folder: PackageFolder): Promise<void> {
    let revision = 0;
    const reload = async () => {
      try {
        const pinned = await folder.snapshot();
        if (pinned.integrity === this.#desired?.packages[0]?.integrity) return;
        revision += 1;
        this.#log.info({ revision, folder: folder.folder }, 'package folder changed');
        this.#desired = { taskQueue: this.#options.taskQueue, revision, packages: [pinned] };
        this.#failedAttempts = 0;
        this.#retryAt = 0;
        this.#wake?.();
      } catch (error) {
        this.#log.error({ err: error, folder: folder.folder }, 'reading the package folder failed');
      }
    };
    await reload();
    if (!this.#desired) throw new Error(`--watch ${folder.folder}: no package to serve there`);
    await folder.watch(() => void reload());
    this.#loops = [this.#reconcile()];
    this.#prepareSpare();
  }

  async #watch(): Promise<void> {
    const signal = this.#stopController.signal;
    let etag: string | undefined;
    let failures = 0;
    while (!signal.aborted) {
      const wait = this.#options.pollWaitSeconds;
      try {
        const result = await this.#client.getState(this.#options.taskQueue, {
          etag,
          waitSeconds: wait,
          signal: AbortSignal.any([signal, AbortSignal.timeout((wait + 15) * 1000)]),
        });
        failures = 0;
        this.#reachable = true;
        this.#lastContactAt = new Date();
        if (!result.notModified) {
          etag = result.etag;
          this.#takeState(result.state);
        }
      } catch (error) {
        if (signal.aborted) break;
        failures += 1;
        this.#reachable = false;
        const delay = backoffDelay(failures, this.#options.retryMaxMs);
        this.#log.warn(
          { err: error, attempt: failures, retryInMs: delay },
          'deploy API poll failed',
        );
        await sleep(delay, signal);
      }
    }
  }

  /**
   * Makes what this worker must run from the queue's state its desired revision: the
   * newest revision, or during a rollout the candidate or the stable one, by its bucket.
   */
  #takeState(state: TaskQueueState): void {
    const { workerId, taskQueue } = this.#options;
    const rollout = state.rollout;
    if (rollout) {
      const bucket = rolloutBucket(taskQueue, workerId);
      this.#rollout = {
        candidateRevision: rollout.candidateRevision,
        stableRevision: rollout.stableRevision,
        percent: rollout.percent,
        bucket,
        onCandidate: bucket < rollout.percent,
      };
    } else {
      this.#rollout = null;
    }
    const target = workerTarget(state, workerId);
    if (target.revision === this.#desired?.revision) return;
    this.#log.info(
      { revision: target.revision, rollout: this.#rollout ?? undefined },
      'desired revision changed',
    );
    this.#desired = {
      taskQueue: state.taskQueue,
      revision: target.revision,
      packages: target.packages,
    };
    this.#failedAttempts = 0;
    this.#retryAt = 0;
    this.#wake?.();
  }

  /** Counts a finished call under the revision of the generation that ran it. */
  #countCall(revision: number | null, outcome: 'completed' | 'failed' | 'cancelled'): void {
    // A cancelled call says nothing about the code: workers cancel calls when they stop.
    if (revision === null || outcome === 'cancelled') return;
    let counts = this.#calls.get(revision);
    if (!counts) {
      counts = { revision, completed: 0, failed: 0 };
      this.#calls.set(revision, counts);
      for (const oldest of this.#calls.keys()) {
        if (this.#calls.size <= maxRevisionsCounted) break;
        this.#calls.delete(oldest);
      }
    }
    counts[outcome] += 1;
  }

  #callCounts(): RevisionCalls[] {
    return [...this.#calls.values()]
      .map((counts) => ({ ...counts }))
      .sort((a, b) => b.revision - a.revision);
  }

  /** Sends the worker's state to the deploy API now and then every report interval. */
  async #reportPeriodically(): Promise<void> {
    const signal = this.#stopController.signal;
    while (!signal.aborted) {
      await this.#report();
      await sleep(this.#options.reportIntervalMs, signal);
    }
  }

  /** Sends one report; a failure is logged once until a report succeeds again. */
  async #report(): Promise<void> {
    if (this.#folder) return;
    const status = this.status();
    const lastError = status.lastError
      ? {
          code: status.lastError.code,
          message: status.lastError.message.slice(0, 4000),
          revision: status.lastError.revision,
          package: status.lastError.package,
          version: status.lastError.version,
        }
      : null;
    try {
      await this.#client.reportWorker(this.#options.taskQueue, this.#options.workerId, {
        state: status.state,
        appliedRevision: status.appliedRevision,
        desiredRevision: status.desiredRevision,
        versions: status.versions,
        lastError,
        activityCalls: status.activityCalls,
      });
      this.#reportFailing = false;
    } catch (error) {
      if (!this.#reportFailing) {
        this.#log.warn({ err: error }, 'reporting to the deploy API failed');
        this.#reportFailing = true;
      }
    }
  }

  async #reconcile(): Promise<void> {
    const signal = this.#stopController.signal;
    while (!signal.aborted) {
      const target = this.#desired;
      if (!target || !this.#needsApply(target)) {
        await this.#sleepUntilWoken();
        continue;
      }
      const waitMs = this.#retryAt - Date.now();
      if (waitMs > 0) {
        await this.#sleepUntilWoken(Number.isFinite(waitMs) ? waitMs : undefined);
        continue;
      }
      try {
        await this.#apply(target);
        // The attempt count survives a successful start, so that a set which crashes
        // soon after each start backs off further each time; see #watchForCrash.
        this.#retryAt = 0;
      } catch (error) {
        if (signal.aborted) break;
        this.metrics.swaps.inc({ result: 'failed' });
        this.#recordFailure(target.revision, error);
        if (this.#folder) {
          // Loading the same files again would fail the same way: wait for the next save.
          this.#retryAt = Number.POSITIVE_INFINITY;
          this.#log.warn(
            { folder: this.#folder.folder, servingRevision: this.#current?.revision ?? null },
            'the previous build keeps serving; fix the package and save to reload',
          );
        }
      }
    }
  }

  #needsApply(target: TaskQueueState): boolean {
    if (this.#applied?.revision !== target.revision) return true;
    if (enabledPackages(target).length === 0) return false;
    return this.#current === undefined || this.#recycleReason !== undefined;
  }

  /**
   * Asks for the serving generation to be replaced by a fresh one with the same set,
   * through the usual swap, once it is above the memory limit or past the age limit.
   */
  #checkRecycle(generation: GenerationProcess): void {
    if (generation !== this.#current || this.#recycleReason !== undefined) return;
    const { maxGenerationRssBytes, maxGenerationAgeMs } = this.#options;
    const rss = generation.memory?.rss ?? 0;
    const age = Date.now() - (generation.runningSince?.getTime() ?? Date.now());
    let reason: string | undefined;
    if (maxGenerationRssBytes > 0 && rss > maxGenerationRssBytes) {
      reason = `rss ${Math.round(rss / 2 ** 20)} MiB is above WORKER_GENERATION_MAX_RSS_MB`;
    } else if (maxGenerationAgeMs > 0 && age > maxGenerationAgeMs) {
      reason = `it has run ${Math.round(age / 1000)} s, past WORKER_GENERATION_MAX_AGE_SECONDS`;
    }
    if (!reason) return;
    this.#recycleReason = reason;
    this.#log.info(
      { generation: generation.id, pid: generation.pid, reason },
      'recycling generation',
    );
    this.#wake?.();
  }

  async #apply(target: TaskQueueState): Promise<void> {
    const log = this.#log.child({ revision: target.revision });
    const started = Date.now();
    // A disabled package is neither fetched nor loaded, so disabling a broken one works.
    const enabled = enabledPackages(target);
    if (enabled.length === 0) {
      this.#retire(this.#current);
      this.#current = undefined;
      await this.#markApplied(target);
      log.info('no packages pinned or enabled, no generation serving');
      return;
    }

    // A revision with the set that already serves, such as the rollback that ends an
    // aborted rollout on a worker that stayed on the stable revision, needs no new process.
    const current = this.#current;
    const applied = this.#applied;
    if (
      current !== undefined &&
      applied !== undefined &&
      this.#recycleReason === undefined &&
      samePackageSet(applied.packages, target.packages)
    ) {
      current.revision = target.revision;
      await this.#markApplied(target);
      log.info(
        { generation: current.id, from: applied.revision },
        'revision applied without a swap',
      );
      return;
    }

    const swap = this.#recordSwap(target.revision, started);
    let local: LocalPackage[];
    let generation: GenerationProcess;
    try {
      local = await Promise.all(enabled.map((pinned) => this.#localPackage(pinned)));
      swap.durations.fetchInstall = Date.now() - started;
      const loadStarted = Date.now();
      generation = this.#takeGeneration();
      swap.generation = generation.id;
      try {
        await generation.load(target.revision, local);
      } finally {
        swap.durations.load = Date.now() - loadStarted;
        this.#prepareSpare();
      }
    } catch (error) {
      swap.result = 'failed';
      swap.code = error instanceof LoadError ? error.code : 'INTERNAL_ERROR';
      swap.durations.total = Date.now() - started;
      throw error;
    }

    if (this.#stopController.signal.aborted) {
      await generation.drain('exit');
      return;
    }
    const previous = this.#current;
    this.#current = generation;
    generation.monitor(this.#options.healthIntervalMs, this.#options.hangTimeoutMs, () =>
      this.#checkRecycle(generation),
    );
    if (this.#recycleReason !== undefined && previous !== undefined) {
      this.#recycles += 1;
      this.metrics.recycles.inc();
      this.#recycleReason = undefined;
    }
    this.#watchForCrash(generation);
    this.#retire(previous, swap);
    swap.durations.total = Date.now() - started;
    await this.#markApplied(target);
    this.metrics.swaps.inc({ result: 'applied' });
    this.metrics.swapDuration.observe((Date.now() - started) / 1000);
    log.info(
      {
        generation: generation.id,
        pid: generation.pid,
        durationMs: Date.now() - started,
        packages: target.packages.map((entry) => `${entry.name}@${entry.version}`),
      },
      'revision applied',
    );
  }

  #localPackage(pinned: PinnedPackage): Promise<LocalPackage> {
    if (this.#folder) return Promise.resolve(this.#folder.localPackage(pinned));
    return this.#store.get(pinned);
  }

  /** Adds a swap to `swaps` as applied; #apply changes it if the swap fails. */
  #recordSwap(revision: number, started: number): SwapRecord {
    let reason: SwapRecord['reason'] = 'revision';
    if (this.#applied?.revision === revision) {
      reason = this.#recycleReason !== undefined ? 'recycle' : 'restart';
    }
    const swap: SwapRecord = {
      revision,
      reason,
      result: 'applied',
      startedAt: new Date(started).toISOString(),
      durations: { total: 0, fetchInstall: null, load: null, drain: null },
      generation: null,
      code: null,
    };
    this.#swaps.unshift(swap);
    this.#swaps.length = Math.min(this.#swaps.length, maxRecentSwaps);
    return swap;
  }

  #newGeneration(): GenerationProcess {
    const id = this.#nextGenerationId++;
    return new GenerationProcess({
      id,
      taskQueue: this.#options.taskQueue,
      identity: `${this.#options.workerId}/gen-${id}`,
      shutdownGraceMs: this.#options.shutdownGraceMs,
      shutdownForceMs: this.#options.shutdownForceMs,
      loadTimeoutMs: this.#options.loadTimeoutMs,
      logger: this.#log,
      onActivity: (generation, sample) => {
        this.metrics.observeActivity(generation, sample);
        this.#countCall(generation.revision, sample.outcome);
      },
    });
  }

  /** Returns the spare if it is still waiting, else a new generation process. */
  #takeGeneration(): GenerationProcess {
    const spare = this.#spare;
    this.#spare = undefined;
    if (spare?.isSpare) return spare;
    if (spare) void spare.drain();
    return this.#newGeneration();
  }

  /**
   * Starts a spare generation when none is waiting. Loading the SDK and connecting to
   * Temporal take most of a new process's start, so a swap into a spare skips both.
   */
  #prepareSpare(): void {
    if (!this.#options.spareGeneration || this.#spare || this.#stopController.signal.aborted) {
      return;
    }
    const spare = this.#newGeneration();
    this.#spare = spare;
    void spare.exited.then(() => {
      if (this.#spare === spare) this.#spare = undefined;
    });
  }

  async #markApplied(target: TaskQueueState): Promise<void> {
    this.#applied = target;
    this.metrics.appliedRevision.set(target.revision);
    if (this.#lastError?.revision !== undefined && this.#lastError.revision <= target.revision) {
      this.#lastError = null;
    }
    this.#setState(this.#current ? 'serving' : 'idle');
    // A folder in --watch mode is not a revision of the deploy API, so it is not kept.
    if (this.#folder) return;
    await this.#appliedFile.write(target);
    void this.#report();
  }

  /** Drains a replaced generation; its drain time goes to `swap` once it has exited. */
  #retire(generation: GenerationProcess | undefined, swap?: SwapRecord): void {
    if (!generation) return;
    this.#draining.add(generation);
    void generation.drain().then(() => {
      this.#draining.delete(generation);
      if (swap) swap.durations.drain = generation.drainMs;
    });
  }

  #watchForCrash(generation: GenerationProcess): void {
    void generation.exited.then((code) => {
      if (generation !== this.#current || this.#stopController.signal.aborted) return;
      this.#current = undefined;
      this.#restarts += 1;
      this.metrics.restarts.inc();
      this.#setState('idle');
      // A generation that ran for a while before it crashed starts the backoff over.
      if (Date.now() - generation.startedAt.getTime() >= stableAfterMs) this.#failedAttempts = 0;
      const error = generation.unresponsive
        ? new LoadError(
            'GENERATION_UNRESPONSIVE',
            `generation ${generation.id} did not answer health pings for ` +
              `${this.#options.hangTimeoutMs / 1000} s (an activity may block the event loop), ` +
              'so it was killed',
          )
        : new LoadError(
            'GENERATION_EXITED',
            `generation ${generation.id} exited unexpectedly (${code}); ` +
              'an activity may call process.exit or throw outside its promise',
          );
      this.#recordFailure(generation.revision ?? 0, error);
    });
  }

  #recordFailure(revision: number, error: unknown): void {
    const info =
      error instanceof LoadError
        ? error.toFailureInfo()
        : { code: 'INTERNAL_ERROR', message: (error as Error)?.message ?? String(error) };
    this.#failedAttempts += 1;
    this.metrics.loadFailures.inc({ code: info.code });
    const delay = backoffDelay(this.#failedAttempts, this.#options.retryMaxMs);
    this.#retryAt = Date.now() + delay;
    this.#lastError = { ...info, revision, at: new Date().toISOString() };
    this.#errors.unshift(this.#lastError);
    this.#errors.length = Math.min(this.#errors.length, maxRecentErrors);
    this.#log.error(
      {
        err: error,
        code: info.code,
        package: info.package,
        version: info.version,
        revision,
        attempt: this.#failedAttempts,
        retryInMs: delay,
        servingRevision: this.#current?.revision ?? null,
      },
      'revision not applied',
    );
    void this.#report();
    this.#wake?.();
  }

  #sleepUntilWoken(timeoutMs?: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      if (timeoutMs !== undefined) timer = setTimeout(done, timeoutMs);
      this.#wake = done;
      if (this.#stopController.signal.aborted) done();
    });
  }

  #setState(state: SupervisorState): void {
    if (state === this.#state) return;
    this.#log.info({ from: this.#state, to: state }, 'worker state changed');
    this.#state = state;
  }
}

function generationStatus(generation: GenerationProcess): GenerationStatus {
  return {
    id: generation.id,
    pid: generation.pid,
    revision: generation.revision,
    state: generation.state,
    startedAt: generation.startedAt.toISOString(),
    memory: generation.memory,
    loadMs: generation.loadMs,
  };
}

/** Returns true when two package sets have the same versions, integrity and settings. */
function samePackageSet(a: readonly PinnedPackage[], b: readonly PinnedPackage[]): boolean {
  const key = (packages: readonly PinnedPackage[]) =>
    JSON.stringify(
      [...packages]
        .sort((x, y) => x.name.localeCompare(y.name))
        .map((entry) => [
          entry.name,
          entry.version,
          entry.integrity,
          entry.config ?? null,
          entry.disabled ?? false,
          entry.disabledActivities ?? [],
        ]),
    );
  return key(a) === key(b);
}

/** Returns the packages of a revision that are not disabled. */
function enabledPackages(state: TaskQueueState): PinnedPackage[] {
  return state.packages.filter((pinned) => pinned.disabled !== true);
}
