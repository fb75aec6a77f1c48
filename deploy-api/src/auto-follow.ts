import type { FastifyBaseLogger } from 'fastify';
import type { ChangeNotifier } from './change-notifier.js';
import type { FollowCheck, PinnedPackage, TaskQueueState } from './client/types.js';
import { ApiError } from './errors.js';
import type { FollowingPin } from './follow-table.js';
import { selectFollowVersion, type FollowSelection } from './follow-selection.js';
import { settingsOf, withSettings } from './package-settings.js';
import {
  assertCompatible,
  assertNoActivityClash,
  assertNotSkipped,
  assertNotVetoed,
  parseDeclaredActivities,
} from './pin-checks.js';
import {
  versionDetails,
  type Packument,
  type PackumentVersion,
  type RegistryResolver,
} from './registry-resolver.js';
import type { RolloutController } from './rollout-control.js';
import type { RevisionDraft, Store } from './store/store.js';
import { parseVersionSpec } from './validation.js';

/** Actor of the revisions that the follower records. */
export const autoFollowActor = 'auto-follow';

/** Cause of a check, recorded in the reason of the revision it creates. */
export type FollowTrigger = 'registry notification' | 're-check' | 'minimum age reached';

export interface AutoFollowerOptions {
  store: Store;
  resolver: RegistryResolver;
  notifier: ChangeNotifier;
  /** A pin does not move while a rollout runs on its queue. */
  rollouts: RolloutController;
  log: FastifyBaseLogger;
  /** Time between re-checks of every following pin, in ms. */
  intervalMs: number;
  /** A worker whose latest report is older than this is left out of compatibility checks. */
  staleAfterMs: number;
}

/** Maximum delay of setTimeout, so a later release waits for a re-check. */
const maxTimerMs = 2 ** 31 - 1;

/** Slack after a held version's release time, so that its age is past the minimum. */
const releaseSlackMs = 250;

/**
 * Moves following pins when their range or dist-tag selects another version. Checks
 * run one at a time in this process: on a registry notification for a package, every
 * `intervalMs` for every following pin, and when a held version reaches its minimum
 * age. Each move goes through `store.append`, which re-reads the pin inside the
 * transaction, so two replicas that check at once record the move only once.
 */
export class AutoFollower {
  readonly #options: AutoFollowerOptions;
  /** Packages waiting for a check, with the cause. The `null` key stands for every package. */
  readonly #pending = new Map<string | null, FollowTrigger>();
  readonly #releaseTimers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  #interval: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(options: AutoFollowerOptions) {
    this.#options = options;
  }

  /** Starts the re-checks, with one at once to catch up on publishes made while down. */
  start(): void {
    this.#interval = setInterval(
      () => this.requestCheck(null, 're-check'),
      this.#options.intervalMs,
    );
    this.requestCheck(null, 're-check');
    this.#options.log.info({ intervalMs: this.#options.intervalMs }, 'auto-follow started');
  }

  /** Stops every timer and waits for a running check to end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#interval);
    for (const { timer } of this.#releaseTimers.values()) clearTimeout(timer);
    this.#releaseTimers.clear();
    this.#pending.clear();
    await this.#running;
  }

  /** Returns how many following pins the current revisions have for `name`. */
  async followerCount(name: string): Promise<number> {
    const pins = await this.#options.store.follows.followingPins();
    return pins.filter((pin) => pin.pinned.name === name).length;
  }

  /**
   * Queues a check of the following pins of `name`, or of every package with `null`.
   * Requests that arrive while a check runs are merged into the next one.
   */
  requestCheck(name: string | null, trigger: FollowTrigger): void {
    if (this.#stopped) return;
    if (!this.#pending.has(name)) this.#pending.set(name, trigger);
    this.#startDrain();
  }

  #startDrain(): void {
    if (this.#running) return;
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
      // A request that came in after the last loop of #drain found it still running.
      if (this.#pending.size > 0 && !this.#stopped) this.#startDrain();
    });
  }

  async #drain(): Promise<void> {
    try {
      await this.#drainPending();
    } catch (error) {
      this.#options.log.error({ err: error }, 'follow checks failed');
    }
  }

  async #drainPending(): Promise<void> {
    while (this.#pending.size > 0 && !this.#stopped) {
      const requested = new Map(this.#pending);
      this.#pending.clear();
      const everything = requested.get(null);
      const byName = new Map<string, FollowingPin[]>();
      for (const pin of await this.#options.store.follows.followingPins()) {
        if (everything === undefined && !requested.has(pin.pinned.name)) continue;
        const pins = byName.get(pin.pinned.name) ?? [];
        pins.push(pin);
        byName.set(pin.pinned.name, pins);
      }
      for (const [name, pins] of byName) {
        if (this.#stopped) return;
        const trigger = requested.get(name) ?? everything ?? 're-check';
        await this.#checkPackage(name, pins, trigger);
      }
    }
  }

  /** Checks every following pin of one package against one read of its packument. */
  async #checkPackage(name: string, pins: FollowingPin[], trigger: FollowTrigger): Promise<void> {
    let packument: Packument;
    try {
      const first = pins[0]?.pinned.follow.spec ?? 'latest';
      packument = await this.#options.resolver.packument(
        name,
        first,
        parseVersionSpec(name, first),
      );
    } catch (error) {
      for (const pin of pins) await this.#record(pin, failure(error, null), trigger);
      return;
    }
    const vetoes = await this.#options.store.vetoes.list(name);
    const vetoed = new Set(vetoes.map((veto) => veto.version));
    for (const pin of pins) {
      try {
        await this.#checkPin(pin, packument, vetoed, trigger);
      } catch (error) {
        await this.#record(pin, failure(error, null), trigger);
      }
    }
  }

  async #checkPin(
    pin: FollowingPin,
    packument: Packument,
    vetoed: ReadonlySet<string>,
    trigger: FollowTrigger,
  ): Promise<void> {
    const { store } = this.#options;
    const { taskQueue, pinned } = pin;
    const skips = await store.follows.skippedVersions(taskQueue, pinned.name);
    const skipped = new Set(skips.map((entry) => entry.version));
    const selection = selectFollowVersion({
      name: pinned.name,
      packument,
      follow: pinned.follow,
      current: pinned.version,
      vetoed,
      skipped,
      now: Date.now(),
    });
    if (selection.releaseAt !== null) this.#scheduleRelease(pinned.name, selection.releaseAt);
    if (selection.outcome !== 'move') {
      await this.#record(pin, checkOf(selection), trigger);
      return;
    }
    const candidate = selection.candidate;
    try {
      const result = await this.#move(pin, selection.target, trigger);
      await this.#record(
        pin,
        check(result ? 'followed' : 'current', candidate, null, null, selection.releaseAt),
        trigger,
        result ?? undefined,
      );
    } catch (error) {
      await this.#record(pin, failure(error, candidate), trigger);
    }
  }

  /**
   * Appends the revision that moves the pin to `target`, running the checks of a manual
   * pin against the state inside the transaction. Returns the new state, or null when
   * the pin changed meanwhile or another replica already moved it.
   */
  async #move(
    pin: FollowingPin,
    target: PackumentVersion,
    trigger: FollowTrigger,
  ): Promise<TaskQueueState | null> {
    const { store, notifier, rollouts, staleAfterMs } = this.#options;
    const { taskQueue, pinned } = pin;
    const name = pinned.name;
    const spec = pinned.follow.spec;
    const details = versionDetails(name, target, false);
    const declared = parseDeclaredActivities(name, details.version, details.declaredActivities);
    const result = await store.append(
      taskQueue,
      async (current, tx): Promise<RevisionDraft | null> => {
        const existing = current.packages.find((entry) => entry.name === name);
        if (!existing || !sameTarget(existing, pinned) || existing.version === details.version) {
          return null;
        }
        const moved = withSettings(
          { name, version: details.version, integrity: details.integrity, follow: pinned.follow },
          settingsOf(existing),
        );
        await rollouts.assertNoRollout(taskQueue, tx);
        await assertNotVetoed(tx, moved, spec);
        await assertNotSkipped(tx, taskQueue, moved, spec);
        await assertNoActivityClash(tx, current, moved, declared);
        await assertCompatible(tx, taskQueue, moved, details, staleAfterMs);
        return {
          action: 'pin',
          actor: autoFollowActor,
          reason: `auto-follow of ${spec} after a ${trigger}: ${existing.version} -> ${details.version}`,
          packages: [...current.packages.filter((entry) => entry.name !== name), moved],
          package: { name, spec },
          rollbackTo: null,
          declaredActivities: declared && { name, version: details.version, activities: declared },
        };
      },
    );
    if (!result.record) return null;
    notifier.notify(result.state);
    return result.state;
  }

  /** Schedules a check of `name` just after `releaseAt`, unless one is due earlier. */
  #scheduleRelease(name: string, releaseAt: number): void {
    const existing = this.#releaseTimers.get(name);
    if (existing && existing.at <= releaseAt && existing.at > Date.now()) return;
    if (existing) clearTimeout(existing.timer);
    const delay = Math.min(Math.max(releaseAt - Date.now(), 0) + releaseSlackMs, maxTimerMs);
    const timer = setTimeout(() => {
      this.#releaseTimers.delete(name);
      this.requestCheck(name, 'minimum age reached');
    }, delay);
    this.#releaseTimers.set(name, { at: releaseAt, timer });
  }

  /**
   * Stores the check and logs it. A check whose result repeats the previous one is
   * logged at debug level, so a pin that keeps failing logs once per change, not once
   * per re-check.
   */
  async #record(
    pin: FollowingPin,
    result: FollowCheck,
    trigger: FollowTrigger,
    state?: TaskQueueState,
  ): Promise<void> {
    const { store, log } = this.#options;
    const { taskQueue, pinned } = pin;
    const previous = await store.follows.lastCheck(taskQueue, pinned.name);
    await store.follows.saveCheck(taskQueue, pinned.name, result);
    const fields = {
      taskQueue,
      package: pinned.name,
      follow: pinned.follow.spec,
      version: pinned.version,
      candidate: result.candidate,
      trigger,
      ...(result.code === null ? {} : { code: result.code, error: result.message }),
      ...(result.releaseAt === null ? {} : { releaseAt: result.releaseAt }),
      ...(state === undefined ? {} : { revision: state.revision }),
    };
    const repeated =
      previous !== undefined &&
      previous.outcome === result.outcome &&
      previous.candidate === result.candidate &&
      previous.code === result.code;
    if (result.outcome === 'followed') log.info(fields, 'package followed');
    else if (repeated || result.outcome === 'current') log.debug(fields, 'follow check unchanged');
    else if (result.outcome === 'rejected' || result.outcome === 'failed') {
      log.warn(fields, 'follow check failed');
    } else log.info(fields, 'follow check held back a version');
  }
}

/** True when both pins follow the same spec with the same minimum age. */
function sameTarget(a: PinnedPackage, b: PinnedPackage): boolean {
  return a.follow?.spec === b.follow?.spec && a.follow?.minAgeSeconds === b.follow?.minAgeSeconds;
}

function check(
  outcome: FollowCheck['outcome'],
  candidate: string | null,
  code: string | null,
  message: string | null,
  releaseAt: number | null,
): FollowCheck {
  return {
    checkedAt: new Date().toISOString(),
    outcome,
    candidate,
    code,
    message,
    releaseAt: releaseAt === null ? null : new Date(releaseAt).toISOString(),
  };
}

function checkOf(selection: Exclude<FollowSelection, { outcome: 'move' }>): FollowCheck {
  switch (selection.outcome) {
    case 'current':
      return check('current', selection.candidate, null, null, null);
    case 'held':
      return check('held', selection.candidate, null, null, selection.releaseAt);
    case 'skipped':
      return check('skipped', selection.candidate, selection.code, selection.message, null);
    case 'failed':
      return check('failed', selection.candidate, selection.code, selection.message, null);
  }
}

/**
 * Turns an error of a check into its record: a pin check that rejected the version is
 * `rejected`, anything else (the registry, an unexpected error) is `failed`.
 */
function failure(error: unknown, candidate: string | null): FollowCheck {
  if (error instanceof ApiError) {
    const outcome = error.statusCode === 409 ? 'rejected' : 'failed';
    return check(outcome, candidate, error.code, error.message, null);
  }
  return check('failed', candidate, 'INTERNAL_ERROR', (error as Error).message, null);
}
