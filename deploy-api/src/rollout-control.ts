import type { FastifyBaseLogger } from 'fastify';
import type { ChangeNotifier } from './change-notifier.js';
import { runsCandidate } from './client/rollout-bucket.js';
import type {
  AuditAction,
  Rollout,
  RolloutAnalysis,
  RolloutReport,
  RolloutRequest,
  TaskQueueState,
  WorkerReport,
} from './client/types.js';
import { ApiError } from './errors.js';
import {
  failureRateVerdict,
  loadFailureVerdict,
  sumRolloutCalls,
  type StoredReport,
} from './rollout-analysis.js';
import type { Store } from './store/store.js';
import { etagMatches, stateEtag } from './state-etag.js';

type RolloutAuditAction = Extract<AuditAction, `rollout-${string}`>;

/** Analysis settings when neither the rollout nor the environment sets them. */
export const defaultRolloutAnalysis: Readonly<RolloutAnalysis> = Object.freeze({
  maxFailureRatio: 2,
  minCalls: 20,
});

/** Actor of the steps and the final promotion that a rollout's timer makes. */
export const timerActor = 'rollout-timer';
/** Actor of an abort that a load failure or a failure rate caused. */
export const autoAbortActor = 'auto-abort';

/**
 * Shortest time between two failure-rate checks of one queue. Each check reads every
 * report of the queue, and a large fleet sends hundreds of reports a second.
 */
const analysisIntervalMs = 1000;

/**
 * How often every running rollout is checked for a step that is due. Each replica sets
 * a timer for the rollouts it started or read at start, and the sweep also finds those
 * that another replica started or resumed.
 */
const sweepIntervalMs = 10_000;

/** Maximum delay of setTimeout, in ms. A later step gets a new timer when this one fires. */
const maxTimerMs = 2 ** 31 - 1;

export interface RolloutControllerOptions {
  store: Store;
  notifier: ChangeNotifier;
  /** Analysis settings of a rollout whose request sets none. */
  defaults: RolloutAnalysis;
  log: FastifyBaseLogger;
}

/**
 * Runs gradual rollouts: starts them with a write, moves them through their steps on
 * timers computed from the stored times (so they survive a restart), pauses, resumes,
 * promotes and aborts them, and aborts a candidate that fails on a worker. Every
 * change happens in one transaction with its audit entry, then wakes the queue's
 * long-polls, because the ETag of the state changes with the rollout.
 */
export class RolloutController {
  readonly #store: Store;
  readonly #notifier: ChangeNotifier;
  readonly #defaults: RolloutAnalysis;
  readonly #log: FastifyBaseLogger;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #lastAnalysis = new Map<string, number>();
  readonly #pendingAnalysis = new Map<string, NodeJS.Timeout>();
  #sweep: NodeJS.Timeout | undefined;

  constructor(options: RolloutControllerOptions) {
    this.#store = options.store;
    this.#notifier = options.notifier;
    this.#defaults = options.defaults;
    this.#log = options.log;
  }

  /** Sets the timers of every stored running rollout, and starts the periodic sweep. */
  async start(): Promise<void> {
    for (const rollout of await this.#store.rollouts.allRunning()) this.#schedule(rollout);
    this.#sweep = setInterval(() => {
      this.#runDueSteps().catch((error: unknown) =>
        this.#log.error({ err: error }, 'checking rollouts for due steps failed'),
      );
    }, sweepIntervalMs);
    this.#sweep.unref();
  }

  close(): void {
    clearInterval(this.#sweep);
    for (const timer of this.#timers.values()) clearTimeout(timer);
    for (const timer of this.#pendingAnalysis.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#pendingAnalysis.clear();
  }

  /**
   * Returns the desired state of a queue, with its running rollout if there is one.
   * Inside a transaction, pass its store as `store`.
   */
  async readState(taskQueue: string, store: Store = this.#store): Promise<TaskQueueState> {
    const state = await store.current(taskQueue);
    const rollout = await store.rollouts.running(taskQueue);
    if (!rollout) return state;
    const stable = await store.revision(taskQueue, rollout.stableRevision);
    return { ...state, rollout: { ...rollout, stablePackages: stable?.packages ?? [] } };
  }

  /** Throws ROLLOUT_IN_PROGRESS when a rollout runs on the queue. */
  async assertNoRollout(taskQueue: string, store: Store = this.#store): Promise<void> {
    const rollout = await store.rollouts.running(taskQueue);
    if (!rollout) return;
    throw new ApiError(
      'ROLLOUT_IN_PROGRESS',
      `task queue ${taskQueue} is rolling out revision ${rollout.candidateRevision} ` +
        `(${rollout.status}, ${rollout.percent} % at step ${rollout.stepIndex + 1} of ` +
        `${rollout.steps.length}); promote or abort it first with POST ` +
        `/v1/task-queues/${taskQueue}/rollout/promote or .../rollout/abort`,
    );
  }

  /** Throws INVALID_ROLLOUT when the steps do not raise the percentage at each step. */
  validateRequest(request: RolloutRequest): void {
    let previous = 0;
    for (const [index, step] of request.steps.entries()) {
      if (step.percent <= previous) {
        throw new ApiError(
          'INVALID_ROLLOUT',
          `invalid rollout.steps.${index}.percent ${step.percent}: each step must raise the ` +
            `percentage, and the step before it is at ${previous}; list percentages in ` +
            'increasing order, such as 10, 50',
        );
      }
      previous = step.percent;
    }
  }

  /**
   * Inserts the rollout of a new candidate revision inside the write's transaction, and
   * returns it. With `dryRun` it returns the rollout that would start and stores nothing.
   */
  async begin(
    tx: Store,
    taskQueue: string,
    request: RolloutRequest,
    revisions: { stable: number; candidate: number },
    actor: string,
    dryRun: boolean,
  ): Promise<Rollout> {
    if (revisions.stable === 0) {
      throw new ApiError(
        'NO_STABLE_REVISION',
        `task queue ${taskQueue} has no revision yet, so no workers run a stable revision to ` +
          'roll out from; make the first write without rollout',
      );
    }
    const now = new Date();
    const first = request.steps[0];
    if (!first) throw new ApiError('INVALID_ROLLOUT', 'invalid rollout.steps: give at least one');
    const rollout: Rollout = {
      taskQueue,
      candidateRevision: revisions.candidate,
      stableRevision: revisions.stable,
      status: 'progressing',
      steps: request.steps.map((step) => ({ ...step })),
      stepIndex: 0,
      percent: first.percent,
      stepStartedAt: now.toISOString(),
      nextStepAt: null,
      remainingMs: null,
      analysis: {
        maxFailureRatio: request.maxFailureRatio ?? this.#defaults.maxFailureRatio,
        minCalls: request.minCalls ?? this.#defaults.minCalls,
      },
      startedAt: now.toISOString(),
      startedBy: actor,
      endedAt: null,
      endedBy: null,
      endReason: null,
      version: 1,
    };
    Object.assign(rollout, stepTiming(rollout, 0, now));
    if (dryRun) return rollout;
    await tx.rollouts.insert(rollout);
    await this.#audit(tx, 'rollout-start', actor, null, rollout, null);
    return rollout;
  }

  /** Sets the timer of a rollout that a write started; call after its transaction. */
  started(rollout: Rollout): void {
    this.#log.info(
      {
        taskQueue: rollout.taskQueue,
        revision: rollout.candidateRevision,
        percent: rollout.percent,
      },
      'rollout started',
    );
    this.#schedule(rollout);
  }

  pause(
    taskQueue: string,
    actor: string,
    reason: string | null,
    ifMatch?: string,
  ): Promise<Rollout> {
    return this.#transition(taskQueue, 'rollout-pause', actor, reason, ifMatch, (rollout, now) => {
      if (rollout.status !== 'progressing') {
        throw new ApiError(
          'ROLLOUT_PAUSED',
          `the rollout of revision ${rollout.candidateRevision} on task queue ${taskQueue} is ` +
            `already paused at ${rollout.percent} % (step ${rollout.stepIndex + 1}); resume, ` +
            'promote or abort it',
        );
      }
      const due = rollout.nextStepAt === null ? 0 : Date.parse(rollout.nextStepAt);
      return {
        ...rollout,
        status: 'paused',
        nextStepAt: null,
        remainingMs: Math.max(0, due - now.getTime()),
      };
    });
  }

  /**
   * Resumes a paused rollout: a step paused by hand keeps the time it had left, and a
   * step without `pauseSeconds` moves on to the next step.
   */
  resume(
    taskQueue: string,
    actor: string,
    reason: string | null,
    ifMatch?: string,
  ): Promise<Rollout> {
    return this.#transition(taskQueue, 'rollout-resume', actor, reason, ifMatch, (rollout, now) => {
      if (rollout.status !== 'paused') {
        throw new ApiError(
          'ROLLOUT_NOT_PAUSED',
          `the rollout of revision ${rollout.candidateRevision} on task queue ${taskQueue} is ` +
            `not paused (it is ${rollout.status} at ${rollout.percent} %); pause it first, or ` +
            'promote it to finish now',
        );
      }
      if (rollout.remainingMs === null) return nextStep(rollout, now, actor, reason);
      return {
        ...rollout,
        status: 'progressing',
        nextStepAt: new Date(now.getTime() + rollout.remainingMs).toISOString(),
        remainingMs: null,
      };
    });
  }

  /** Moves every worker to the candidate now and makes it the stable revision. */
  promote(
    taskQueue: string,
    actor: string,
    reason: string | null,
    ifMatch?: string,
  ): Promise<Rollout> {
    return this.#transition(taskQueue, 'rollout-promote', actor, reason, ifMatch, (rollout, now) =>
      ended(rollout, 'promoted', now, actor, reason ?? 'promoted by hand'),
    );
  }

  /**
   * Returns every worker to the stable revision. The history gets a rollback revision
   * with the stable packages, whose actor and reason say who aborted and why.
   */
  abort(
    taskQueue: string,
    actor: string,
    reason: string | null,
    ifMatch?: string,
  ): Promise<Rollout> {
    return this.#transition(
      taskQueue,
      'rollout-abort',
      actor,
      reason,
      ifMatch,
      (rollout, now, tx) => this.#aborted(tx, rollout, now, actor, reason ?? 'aborted by hand'),
    );
  }

  /**
   * Ends the running rollout of a queue as aborted because a veto is about to replace
   * its candidate, inside the veto's transaction. The veto appends the revision.
   */
  async endForVeto(tx: Store, taskQueue: string, actor: string, reason: string): Promise<void> {
    const rollout = await tx.rollouts.running(taskQueue);
    if (!rollout) return;
    const next = {
      ...ended(rollout, 'aborted', new Date(), actor, reason),
      version: rollout.version + 1,
    };
    await tx.rollouts.update(next);
    await this.#audit(tx, 'rollout-abort', actor, rollout, next, reason);
  }

  /** Returns the newest rollout of a queue with the figures its analysis judges. */
  async report(rollout: Rollout): Promise<RolloutReport> {
    const reports = await this.#store.workerReports(rollout.taskQueue);
    const { candidate, stable } = sumRolloutCalls(rollout, reports);
    const since = Date.parse(rollout.startedAt);
    const workers: RolloutReport['workers'] = { candidate: [], stable: [] };
    for (const entry of reports) {
      if (Date.parse(entry.reportedAt) < since) continue;
      const onCandidate = runsCandidate(rollout.taskQueue, entry.workerId, rollout.percent);
      workers[onCandidate ? 'candidate' : 'stable'].push(entry.workerId);
    }
    return { ...rollout, calls: { candidate, stable }, workers };
  }

  /**
   * Aborts the queue's rollout when the report shows that the worker could not serve
   * the candidate, and checks the failure rate at most once a second per queue.
   */
  async onWorkerReport(taskQueue: string, workerId: string, report: WorkerReport): Promise<void> {
    const rollout = await this.#store.rollouts.running(taskQueue);
    if (!rollout) return;
    const entry = { workerId, report, reportedAt: new Date().toISOString() };
    const verdict = loadFailureVerdict(rollout, entry);
    if (verdict) {
      await this.#autoAbort(rollout, verdict);
      return;
    }
    this.#scheduleAnalysis(taskQueue);
  }

  #scheduleAnalysis(taskQueue: string): void {
    if (this.#pendingAnalysis.has(taskQueue)) return;
    const wait = (this.#lastAnalysis.get(taskQueue) ?? 0) + analysisIntervalMs - Date.now();
    if (wait <= 0) {
      void this.#analyze(taskQueue);
      return;
    }
    const timer = setTimeout(() => {
      this.#pendingAnalysis.delete(taskQueue);
      void this.#analyze(taskQueue);
    }, wait);
    timer.unref();
    this.#pendingAnalysis.set(taskQueue, timer);
  }

  /** Checks the failure rate of the queue's rollout; it never rejects, it logs instead. */
  async #analyze(taskQueue: string): Promise<void> {
    this.#lastAnalysis.set(taskQueue, Date.now());
    try {
      const rollout = await this.#store.rollouts.running(taskQueue);
      if (!rollout) return;
      const verdict = await this.#failureVerdict(rollout);
      if (verdict) await this.#autoAbort(rollout, verdict);
    } catch (error) {
      this.#log.error({ err: error, taskQueue }, 'rollout analysis failed');
    }
  }

  async #failureVerdict(rollout: Rollout): Promise<string | null> {
    const reports: StoredReport[] = await this.#store.workerReports(rollout.taskQueue);
    for (const entry of reports) {
      if (Date.parse(entry.reportedAt) < Date.parse(rollout.startedAt)) continue;
      const verdict = loadFailureVerdict(rollout, entry);
      if (verdict) return verdict;
    }
    return failureRateVerdict(rollout, sumRolloutCalls(rollout, reports));
  }

  async #autoAbort(rollout: Rollout, verdict: string): Promise<void> {
    try {
      const result = await this.#transition(
        rollout.taskQueue,
        'rollout-abort',
        autoAbortActor,
        verdict,
        undefined,
        (current, now, tx) => {
          if (current.candidateRevision !== rollout.candidateRevision) return null;
          return this.#aborted(tx, current, now, autoAbortActor, verdict);
        },
      );
      if (result.status !== 'aborted') return;
      this.#log.warn(
        { taskQueue: rollout.taskQueue, revision: rollout.candidateRevision, reason: verdict },
        'rollout aborted automatically',
      );
    } catch (error) {
      this.#log.error(
        { err: error, taskQueue: rollout.taskQueue, revision: rollout.candidateRevision },
        'automatic abort of the rollout failed',
      );
    }
  }

  /** Appends the rollback to the stable packages and returns the aborted rollout. */
  async #aborted(
    tx: Store,
    rollout: Rollout,
    now: Date,
    actor: string,
    reason: string,
  ): Promise<Rollout> {
    const stable = await tx.revision(rollout.taskQueue, rollout.stableRevision);
    await tx.append(rollout.taskQueue, () => ({
      action: 'rollback',
      actor,
      reason: `abort of the rollout of revision ${rollout.candidateRevision}: ${reason}`,
      packages: stable?.packages ?? [],
      package: null,
      rollbackTo: rollout.stableRevision,
    }));
    return ended(rollout, 'aborted', now, actor, reason);
  }

  /** Moves a progressing rollout on when its step is due; the timers and the sweep call it. */
  async #step(taskQueue: string, candidateRevision: number, version: number): Promise<void> {
    const rollout = await this.#store.rollouts.running(taskQueue);
    if (
      !rollout ||
      rollout.candidateRevision !== candidateRevision ||
      rollout.version !== version ||
      rollout.status !== 'progressing'
    ) {
      return;
    }
    // The analysis runs before each step, so that a bad candidate never reaches more workers.
    const verdict = await this.#failureVerdict(rollout);
    if (verdict) {
      await this.#autoAbort(rollout, verdict);
      return;
    }
    try {
      await this.#transition(
        taskQueue,
        'rollout-step',
        timerActor,
        null,
        undefined,
        (current, now) => {
          if (current.version !== version) return null;
          if (current.nextStepAt !== null && Date.parse(current.nextStepAt) > now.getTime()) {
            return null;
          }
          return nextStep(current, now, timerActor, null);
        },
      );
    } catch (error) {
      this.#log.error(
        { err: error, taskQueue, revision: candidateRevision },
        'rollout step failed',
      );
    }
  }

  async #runDueSteps(): Promise<void> {
    const now = Date.now();
    for (const rollout of await this.#store.rollouts.allRunning()) {
      if (rollout.nextStepAt !== null && Date.parse(rollout.nextStepAt) <= now) {
        await this.#step(rollout.taskQueue, rollout.candidateRevision, rollout.version);
      }
    }
  }

  /**
   * Applies `change` to the queue's running rollout in one transaction with its audit
   * entry, then wakes the long-polls and sets the timer. `change` returns null to leave
   * the rollout as it is.
   */
  async #transition(
    taskQueue: string,
    action: Exclude<RolloutAuditAction, 'rollout-start'>,
    actor: string,
    reason: string | null,
    ifMatch: string | undefined,
    change: (rollout: Rollout, now: Date, tx: Store) => Rollout | null | Promise<Rollout | null>,
  ): Promise<Rollout> {
    let changed = false;
    const result = await this.#store.transaction(async (tx) => {
      const rollout = await tx.rollouts.running(taskQueue);
      if (!rollout) throw await noRollout(tx, taskQueue);
      if (ifMatch !== undefined) assertIfMatch(await this.readState(taskQueue, tx), ifMatch);
      const next = await change(rollout, new Date(), tx);
      if (next === null) return rollout;
      changed = true;
      const stored = { ...next, version: rollout.version + 1 };
      if (!(await tx.rollouts.update(stored))) {
        throw new Error(`rollout of revision ${rollout.candidateRevision} changed concurrently`);
      }
      // A step or resume past the last step promotes, and the audit log names the outcome.
      let audited: RolloutAuditAction = action;
      if (stored.status === 'promoted') audited = 'rollout-promote';
      else if (stored.status === 'aborted') audited = 'rollout-abort';
      await this.#audit(tx, audited, actor, rollout, stored, reason);
      // Other replicas wake their long-polls too, because the state's ETag changed.
      await tx.announceChange({ taskQueue, revision: stored.candidateRevision });
      return stored;
    });
    // A timer that fired a moment early changes nothing and is set again here.
    this.#schedule(result);
    if (!changed) return result;
    this.#notifier.notify(await this.readState(taskQueue));
    if (action !== 'rollout-step' || result.status !== 'progressing') {
      this.#log.info(
        {
          taskQueue,
          revision: result.candidateRevision,
          status: result.status,
          percent: result.percent,
          step: result.stepIndex + 1,
          actor,
        },
        `rollout ${action.slice('rollout-'.length)}`,
      );
    }
    return result;
  }

  #schedule(rollout: Rollout): void {
    const key = rollout.taskQueue;
    clearTimeout(this.#timers.get(key));
    this.#timers.delete(key);
    if (rollout.status !== 'progressing' || rollout.nextStepAt === null) return;
    const delay = Math.max(0, Date.parse(rollout.nextStepAt) - Date.now());
    const timer = setTimeout(
      () => {
        this.#timers.delete(key);
        if (delay > maxTimerMs) {
          this.#store.rollouts.running(key).then(
            (current) => current && this.#schedule(current),
            (error: unknown) =>
              this.#log.error({ err: error, taskQueue: key }, 'rollout read failed'),
          );
          return;
        }
        this.#step(key, rollout.candidateRevision, rollout.version).catch((error: unknown) =>
          this.#log.error({ err: error, taskQueue: key }, 'rollout step failed'),
        );
      },
      Math.min(delay, maxTimerMs),
    );
    timer.unref();
    this.#timers.set(key, timer);
  }

  async #audit(
    tx: Store,
    action: RolloutAuditAction,
    actor: string,
    before: Rollout | null,
    after: Rollout,
    reason: string | null,
  ): Promise<void> {
    await tx.audit.record({
      actor,
      action,
      taskQueue: after.taskQueue,
      target: `revision ${after.candidateRevision}`,
      reason,
      before,
      after,
    });
  }
}

/** Returns the timing fields of a rollout that enters step `index` at `now`. */
function stepTiming(
  rollout: Rollout,
  index: number,
  now: Date,
): Pick<
  Rollout,
  'status' | 'stepIndex' | 'percent' | 'stepStartedAt' | 'nextStepAt' | 'remainingMs'
> {
  const step = rollout.steps[index];
  if (!step) throw new Error(`rollout has no step ${index}`);
  const timed = step.pauseSeconds !== undefined;
  return {
    status: timed ? 'progressing' : 'paused',
    stepIndex: index,
    percent: step.percent,
    stepStartedAt: now.toISOString(),
    nextStepAt: timed
      ? new Date(now.getTime() + (step.pauseSeconds ?? 0) * 1000).toISOString()
      : null,
    remainingMs: null,
  };
}

/** Returns the rollout at its next step, or promoted after its last one. */
function nextStep(rollout: Rollout, now: Date, actor: string, reason: string | null): Rollout {
  const index = rollout.stepIndex + 1;
  if (index >= rollout.steps.length) {
    return ended(rollout, 'promoted', now, actor, reason ?? 'every step completed');
  }
  return { ...rollout, ...stepTiming(rollout, index, now) };
}

function ended(
  rollout: Rollout,
  status: 'promoted' | 'aborted',
  now: Date,
  actor: string,
  reason: string,
): Rollout {
  return {
    ...rollout,
    status,
    percent: status === 'promoted' ? 100 : 0,
    nextStepAt: null,
    remainingMs: null,
    endedAt: now.toISOString(),
    endedBy: actor,
    endReason: reason,
  };
}

async function noRollout(store: Store, taskQueue: string): Promise<ApiError> {
  const last = (await store.rollouts.list(taskQueue, 1))[0];
  const history = last
    ? `; the last one, of revision ${last.candidateRevision}, was ${last.status} by ` +
      `${last.endedBy ?? '?'} at ${last.endedAt ?? '?'}`
    : '';
  return new ApiError(
    'NO_ROLLOUT_RUNNING',
    `no rollout is running on task queue ${taskQueue}${history}; start one with a write that ` +
      'has a rollout object, such as PUT .../packages/{name} with {"version", "rollout"}',
  );
}

function assertIfMatch(state: TaskQueueState, ifMatch: string): void {
  const etag = stateEtag(state);
  if (etagMatches(ifMatch, etag)) return;
  throw new ApiError(
    'PRECONDITION_FAILED',
    `task queue ${state.taskQueue} has ETag ${etag}, which does not match If-Match ` +
      `${ifMatch}; read the state again and retry`,
  );
}
