// Wire types of the deploy API, shared by the server, its client and the worker.

/** One package of a task queue's desired state, resolved to an exact version. */
export interface PinnedPackage {
  name: string;
  /** Exact version, resolved from the spec at pin time. */
  version: string;
  /** Subresource Integrity string (`sha512-…`) of the tarball, from the registry. */
  integrity: string;
  /** Settings that activity code reads with `packageConfig()`. Absent when there are none. */
  config?: PackageConfig;
  /** Present and true when the worker registers none of the package's activities. */
  disabled?: true;
  /** Activities the worker does not register, sorted. Absent when there are none. */
  disabledActivities?: string[];
  /**
   * The range or dist-tag that the deploy API keeps resolving, recording a new revision
   * (actor `auto-follow`) when it moves. Absent when the pin stays put.
   */
  follow?: FollowTarget;
}

/** What a following pin follows. */
export interface FollowTarget {
  /** Semver range or dist-tag, as the pin request named it. */
  spec: string;
  /** Seconds a version must have been published before the API follows to it. Absent: 0. */
  minAgeSeconds?: number;
}

/** A value of a package's settings. */
export type PackageConfigValue = string | number | boolean | null;

/** Settings recorded with a pin: at most 64 keys and 16 KiB as JSON. */
export type PackageConfig = Record<string, PackageConfigValue>;

/** The settings of a pin that change without a new version, as `PATCH` sets them. */
export interface PackageSettings {
  config?: PackageConfig | undefined;
  disabled?: boolean | undefined;
  disabledActivities?: string[] | undefined;
}

/**
 * The desired state of a task queue. Revision 0 is a queue that was never changed.
 * `revision` and `packages` are those of the newest revision. While a rollout runs, that
 * is the candidate, and `rollout` selects the workers that run it instead of the stable one.
 */
export interface TaskQueueState {
  taskQueue: string;
  revision: number;
  packages: PinnedPackage[];
  /** Present while a rollout runs. */
  rollout?: RolloutState | undefined;
}

/**
 * One step of a gradual rollout: the candidate runs on `percent` of the queue's workers
 * for `pauseSeconds`, then the rollout moves on. Without `pauseSeconds` it waits at that
 * step until it is resumed or promoted.
 */
export interface RolloutStep {
  percent: number;
  pauseSeconds?: number | undefined;
}

/**
 * `progressing` while a step's timer runs, `paused` when it was paused or waits at a step
 * without `pauseSeconds`, then `promoted` or `aborted`.
 */
export type RolloutStatus = 'progressing' | 'paused' | 'promoted' | 'aborted';

/** Limits under which a candidate is aborted automatically. */
export interface RolloutAnalysis {
  /**
   * Largest allowed ratio of the candidate's activity failure rate to the stable
   * revision's.
   */
  maxFailureRatio: number;
  /** Finished activity calls the candidate needs before its failure rate is judged. */
  minCalls: number;
}

/** A rollout as the deploy API stores it. It is named by its candidate revision. */
export interface Rollout {
  taskQueue: string;
  /** Revision being rolled out; it is also the rollout's identifier. */
  candidateRevision: number;
  /** Revision that every worker outside the candidate's percentage runs. */
  stableRevision: number;
  status: RolloutStatus;
  steps: RolloutStep[];
  /** Index in `steps` of the current step. */
  stepIndex: number;
  /** Share of the queue's workers, 0 to 100, that run the candidate now. */
  percent: number;
  /** ISO 8601 time the current step began. */
  stepStartedAt: string;
  /** ISO 8601 time of the next step; null while paused or waiting to be resumed. */
  nextStepAt: string | null;
  /** Time left of the current step's pause when it was paused, in ms; null otherwise. */
  remainingMs: number | null;
  analysis: RolloutAnalysis;
  startedAt: string;
  startedBy: string;
  endedAt: string | null;
  /** Token name that promoted or aborted it, or `auto-abort`, or `rollout-timer`. */
  endedBy: string | null;
  /** Why it ended: the reason given, or what the automatic abort measured. */
  endReason: string | null;
  /** Counts every change of the rollout, so that the ETag of the state changes with it. */
  version: number;
}

/** A running rollout inside the desired state: enough for a worker to choose its set. */
export interface RolloutState extends Rollout {
  /** Packages of the stable revision. */
  stablePackages: PinnedPackage[];
}

/** Finished activity calls of one revision, summed over the workers that ran it. */
export interface RevisionCalls {
  revision: number;
  completed: number;
  failed: number;
}

/** A rollout with the figures the automatic abort judges, as GET .../rollout returns it. */
export interface RolloutReport extends Rollout {
  /** Calls counted since the rollout started, from workers that reported since then. */
  calls: { candidate: RevisionCalls; stable: RevisionCalls };
  /** Workers that reported since the rollout started, by the revision they should run. */
  workers: { candidate: string[]; stable: string[] };
}

/** Body field of a write that starts a rollout of the revision it creates. */
export interface RolloutRequest {
  steps: RolloutStep[];
  maxFailureRatio?: number | undefined;
  minCalls?: number | undefined;
}

export interface RolloutList {
  taskQueue: string;
  rollouts: Rollout[];
}

export type RevisionAction = 'pin' | 'unpin' | 'rollback' | 'configure';

/** An immutable entry of a task queue's history. */
export interface RevisionRecord {
  revision: number;
  action: RevisionAction;
  actor: string;
  reason: string | null;
  /** ISO 8601 time of the change. */
  createdAt: string;
  packages: PinnedPackage[];
  /** The package a pin or unpin changed, with the spec as the caller wrote it. */
  package: { name: string; spec: string | null } | null;
  /** The revision whose package set a rollback restored. */
  rollbackTo: number | null;
}

/** How a write changes the package set. */
export interface PackageDiff {
  added: PinnedPackage[];
  removed: PinnedPackage[];
  changed: Array<{ name: string; from: string; to: string }>;
  /** Packages whose settings changed. Absent when none did. */
  configured?: Array<{ name: string; from: PackageSettings; to: PackageSettings }>;
  /** Packages whose follow target changed; null is a pin that stays put. Absent when none did. */
  followed?: Array<{ name: string; from: FollowTarget | null; to: FollowTarget | null }>;
}

/** Response of every write: the state after it, and whether it created a revision. */
export interface WriteResult extends TaskQueueState {
  changed: boolean;
  /** True when `?dryRun=true` computed the revision without storing it. */
  dryRun: boolean;
  diff: PackageDiff;
}

export interface RevisionList {
  taskQueue: string;
  revisions: RevisionRecord[];
}

/** What a worker reports about itself, after every change and periodically. */
export interface WorkerReport {
  state: string;
  appliedRevision: number | null;
  desiredRevision: number | null;
  versions: { node: string; temporalSdk: string };
  lastError: {
    code: string;
    message: string;
    revision: number;
    package?: string | undefined;
    version?: string | undefined;
  } | null;
  /**
   * Finished activity calls since the worker started, by the revision of the generation
   * that ran them, for the most recent revisions. Cancelled calls are not counted.
   */
  activityCalls?: RevisionCalls[] | undefined;
}

/** A worker's latest report, as the deploy API returns it. */
export interface WorkerRecord extends WorkerReport {
  workerId: string;
  /** ISO 8601 time the report arrived. */
  reportedAt: string;
  /** True when no report arrived within DEPLOY_API_WORKER_STALE_SECONDS. */
  stale: boolean;
  /**
   * Revision the worker should run: the queue's revision, or during a rollout the
   * candidate or the stable revision, as its hash bucket selects. A deploy API from
   * before rollouts leaves it out.
   */
  targetRevision?: number | undefined;
}

export interface WorkerList {
  taskQueue: string;
  workers: WorkerRecord[];
}

/** Error body of every non-2xx response. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/**
 * Role of a token. `read` reads and sends worker reports, `deploy` also pins, unpins and
 * rolls back, and `admin` may do everything, including tokens and vetoes.
 */
export type TokenRole = 'read' | 'deploy' | 'admin';

/** A token as the API lists it; the secret is never returned after creation. */
export interface TokenInfo {
  name: string;
  role: TokenRole;
  /**
   * Task queues a `read` or `deploy` token may act on: exact names or patterns with `*`
   * (`staging-*`). Null means every queue.
   */
  taskQueues: string[] | null;
  /** ISO 8601 time the token was created. */
  createdAt: string;
  /** Name of the token that created it; null for the bootstrap token. */
  createdBy: string | null;
  /** True for the token from DEPLOY_API_TOKEN or the token file, which cannot be deleted. */
  bootstrap: boolean;
}

/** Response of token creation: the only time the secret is returned. */
export interface CreatedToken extends TokenInfo {
  token: string;
}

export interface TokenList {
  tokens: TokenInfo[];
}

/** A package version marked bad: no later pin or rollback may use it. */
export interface Veto {
  name: string;
  version: string;
  reason: string;
  /** Name of the token that vetoed the version. */
  actor: string;
  /** ISO 8601 time of the veto. */
  createdAt: string;
}

/** Response of a veto: the veto and the revision each affected task queue moved to. */
export interface VetoResult extends Veto {
  rolledBack: Array<{ taskQueue: string; revision: number }>;
}

export interface VetoList {
  name: string;
  vetoes: Veto[];
}

export type AuditAction =
  | 'pin'
  | 'unpin'
  | 'rollback'
  | 'configure'
  | 'veto'
  | 'veto-lift'
  | 'token-create'
  | 'token-delete'
  | 'rollout-start'
  | 'rollout-step'
  | 'rollout-pause'
  | 'rollout-resume'
  | 'rollout-promote'
  | 'rollout-abort';

/** One recorded write. `before` and `after` never contain a token secret. */
export interface AuditEntry {
  id: number;
  /** ISO 8601 time of the write. */
  createdAt: string;
  actor: string;
  action: AuditAction;
  /** Task queue of a pin, unpin or rollback; null for vetoes and token changes. */
  taskQueue: string | null;
  /** Target of the write: `name@version`, a package name, `revision N` or a token name. */
  target: string | null;
  reason: string | null;
  /** Package set of the queue, the token summary, the veto or the rollout, before the write. */
  before: PinnedPackage[] | TokenInfo | Veto | Rollout | null;
  /** The same after the write. */
  after: PinnedPackage[] | TokenInfo | Veto | Rollout | null;
}

export interface AuditList {
  entries: AuditEntry[];
}

/**
 * Result of the latest follow check of one following pin: `current` (the pin is at the
 * version its target selects), `followed` (a revision was recorded), `held` (the
 * selected version is younger than `minAgeSeconds`), `skipped` (the target points at a
 * vetoed version or one a rollback moved away from), `rejected` (a pin check failed) or
 * `failed` (the registry could not be read).
 */
export type FollowOutcome = 'current' | 'followed' | 'held' | 'skipped' | 'rejected' | 'failed';

/** The latest follow check of one pin, as the follower recorded it. */
export interface FollowCheck {
  /** ISO 8601 time of the check. */
  checkedAt: string;
  outcome: FollowOutcome;
  /** Version the follow target selected, if the check got that far. */
  candidate: string | null;
  /** Error code of a `rejected`, `failed` or `skipped` outcome. */
  code: string | null;
  message: string | null;
  /** ISO 8601 time at which a `held` version becomes old enough. */
  releaseAt: string | null;
}

/** A following pin of a task queue with its latest check. */
export interface FollowStatusEntry {
  name: string;
  version: string;
  follow: FollowTarget;
  /** Null until the follower has checked the pin once. */
  lastCheck: FollowCheck | null;
  /** Versions a rollback on this queue moved away from, which the follower skips. */
  skippedVersions: Array<{ version: string; revision: number; createdAt: string }>;
}

export interface FollowStatus {
  taskQueue: string;
  revision: number;
  packages: FollowStatusEntry[];
}

/** Response of the registry notify hook. */
export interface HookResult {
  name: string;
  /** Following pins of the package on every task queue; each is checked in the background. */
  following: number;
}
