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

/** The desired state of a task queue. Revision 0 is a queue that was never changed. */
export interface TaskQueueState {
  taskQueue: string;
  revision: number;
  packages: PinnedPackage[];
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
}

/** A worker's latest report, as the deploy API returns it. */
export interface WorkerRecord extends WorkerReport {
  workerId: string;
  /** ISO 8601 time the report arrived. */
  reportedAt: string;
  /** True when no report arrived within DEPLOY_API_WORKER_STALE_SECONDS. */
  stale: boolean;
}

export interface WorkerList {
  taskQueue: string;
  workers: WorkerRecord[];
}

/** Error body of every non-2xx response. */
export interface ErrorBody {
  error: { code: string; message: string };
}
