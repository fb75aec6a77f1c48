// status: the desired state of a task queue and how many of its workers run it.
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  DeployApiClient,
  Rollout,
  FollowStatusEntry,
  TaskQueueState,
  WorkerRecord,
} from '@activity-deploy/deploy-api/client';
import { integerOption, printJson, type CommandContext, type CommandSpec } from '../command.js';
import { ExitCode, UsageError, isUnreachable } from '../exit-codes.js';
import { followLabel, orDash, packageLines, table } from '../format.js';

/** The state, its workers and how far they have converged, as `status --json` prints it. */
export interface StatusSnapshot extends TaskQueueState {
  etag: string;
  workers: WorkerRecord[];
  /** Pins that follow a range or dist-tag, with their latest check. */
  follow: FollowStatusEntry[];
  convergence: {
    /** Workers that are not stale. */
    active: number;
    stale: number;
    /**
     * Workers that are not stale and have applied the revision they should run:
     * `revision`, or during a rollout the candidate or the stable one.
     */
    converged: number;
    /** True when at least one worker is active and every active one has converged. */
    complete: boolean;
  };
}

export function snapshot(
  state: TaskQueueState,
  etag: string,
  workers: WorkerRecord[],
  follow: FollowStatusEntry[] = [],
) {
  const active = workers.filter((worker) => !worker.stale);
  const converged = active.filter(
    (worker) => worker.appliedRevision === (worker.targetRevision ?? state.revision),
  ).length;
  const result: StatusSnapshot = {
    ...state,
    etag,
    workers,
    follow,
    convergence: {
      active: active.length,
      stale: workers.length - active.length,
      converged,
      complete: active.length > 0 && converged === active.length,
    },
  };
  return result;
}

function workerError(worker: WorkerRecord): string {
  const error = worker.lastError;
  if (!error) return '-';
  const target = error.package ? ` ${error.package}@${orDash(error.version)}` : '';
  return `${error.code} at revision ${error.revision}${target}: ${error.message}`;
}

/** Formats a running rollout in one line: the two revisions, its status, percentage and step. */
export function rolloutLine(rollout: Rollout): string {
  const next = rollout.nextStepAt ? `, next step at ${rollout.nextStepAt}` : '';
  return (
    `rollout of revision ${rollout.candidateRevision} (stable: revision ` +
    `${rollout.stableRevision}): ${rollout.status}, ${rollout.percent} % of workers, step ` +
    `${rollout.stepIndex + 1} of ${rollout.steps.length}${next}`
  );
}

/** Describes a following pin's latest check, such as `held 1.2.0 until <time>`. */
function followCheck(entry: FollowStatusEntry): string {
  const check = entry.lastCheck;
  if (!check) return 'not checked yet';
  const candidate = check.candidate === null ? '' : ` ${check.candidate}`;
  const until = check.releaseAt === null ? '' : ` until ${check.releaseAt}`;
  const error = check.code === null ? '' : `: ${check.code} ${orDash(check.message)}`;
  return `${check.outcome}${candidate}${until}${error} (checked ${check.checkedAt})`;
}

export function renderStatus(status: StatusSnapshot): string {
  const { active, stale, converged } = status.convergence;
  const lines = [
    `task queue ${status.taskQueue} at revision ${status.revision} (ETag ${status.etag})`,
  ];
  lines.push(...packageLines(status.packages));
  if (status.rollout) lines.push(rolloutLine(status.rollout));
  if (status.follow.length > 0) {
    lines.push('auto-follow:');
    const rows = status.follow.map((entry) => [
      entry.name,
      followLabel(entry.follow),
      followCheck(entry),
    ]);
    lines.push(table(['PACKAGE', 'TARGET', 'LAST CHECK'], rows));
  }
  if (status.workers.length === 0) {
    lines.push('workers: none has reported');
    return lines.join('\n');
  }
  const target = status.rollout
    ? `the revision the rollout gives them`
    : `revision ${status.revision}`;
  lines.push(
    `workers: ${converged} of ${active} converged on ${target}` +
      (stale > 0 ? `, ${stale} stale` : ''),
  );
  const rows = status.workers.map((worker) => [
    worker.workerId,
    worker.state,
    orDash(worker.appliedRevision),
    orDash(worker.targetRevision ?? status.revision),
    worker.versions.node,
    worker.versions.temporalSdk,
    worker.reportedAt,
    worker.stale ? 'yes' : 'no',
    workerError(worker),
  ]);
  const header = ['WORKER', 'STATE', 'APPLIED', 'TARGET', 'NODE', 'SDK', 'REPORTED', 'STALE'];
  lines.push(table([...header, 'LAST ERROR'], rows));
  return lines.join('\n');
}

async function readSnapshot(client: DeployApiClient, taskQueue: string, signal: AbortSignal) {
  const result = await client.getState(taskQueue, { signal });
  if (result.notModified) throw new Error('deploy API returned 304 without If-None-Match');
  return readDetails(client, result.state, result.etag);
}

/** Reads the workers and, when a pin follows, the follow checks that go with `state`. */
async function readDetails(client: DeployApiClient, state: TaskQueueState, etag: string) {
  const { workers } = await client.workers(state.taskQueue);
  const follows = state.packages.some((entry) => entry.follow !== undefined);
  const follow = follows ? (await client.followStatus(state.taskQueue)).packages : [];
  return snapshot(state, etag, workers, follow);
}

interface WatchOptions {
  taskQueue: string;
  intervalSeconds: number;
  /** With `untilConverged`: when to give up. */
  deadline: number;
  untilConverged: boolean;
}

/** Long-polls the state and re-reads the workers until converged, the deadline or Ctrl-C. */
async function watch(context: CommandContext, options: WatchOptions): Promise<number> {
  const { client, signal } = context;
  let status = await readSnapshot(client, options.taskQueue, signal);
  let shown = '';
  let failing = false;
  for (;;) {
    const text = context.json ? JSON.stringify(status) : renderStatus(status);
    if (text !== shown) {
      if (!context.json && context.interactive) context.out('\x1b[H\x1b[2J');
      else if (shown && !context.json) context.out('');
      context.out(text);
      shown = text;
    }
    if (options.untilConverged && status.convergence.complete) return ExitCode.ok;
    const remainingMs = options.deadline - Date.now();
    if (remainingMs <= 0) return notConverged(context, status, options);
    const waitSeconds = Math.max(
      1,
      Math.min(options.intervalSeconds, Math.ceil(remainingMs / 1000)),
    );
    try {
      const result = await client.getState(options.taskQueue, {
        etag: status.etag,
        waitSeconds,
        signal,
      });
      const state = result.notModified ? status : result.state;
      status = await readDetails(client, state, result.etag);
      failing = false;
    } catch (error) {
      if (signal.aborted || !isUnreachable(error)) throw error;
      // A deploy API restart must not end a wait that CI relies on: retry until the deadline.
      if (!failing)
        context.err(`deploy API unreachable, retrying: ${String((error as TypeError).cause)}`);
      failing = true;
      await sleep(waitSeconds * 1000, undefined, { signal });
    }
  }
}

function notConverged(context: CommandContext, status: StatusSnapshot, options: WatchOptions) {
  const { active, converged } = status.convergence;
  context.err(
    `not converged: ${converged} of ${active} active workers applied revision ` +
      `${status.revision} of task queue ${options.taskQueue} within the timeout`,
  );
  return ExitCode.notConverged;
}

export const statusCommand: CommandSpec = {
  name: 'status',
  arguments: ['<taskQueue>'],
  summary: 'show the desired state and the workers, optionally until they converge',
  description:
    'Prints the pinned packages and every worker with its applied revision, SDK and Node ' +
    'versions, last report, staleness and last error. A worker has converged when it is ' +
    'not stale and has applied the desired revision.',
  options: {
    watch: {
      type: 'boolean',
      description: 'keep redrawing as the state changes and workers converge, until Ctrl-C',
    },
    interval: {
      type: 'string',
      valueName: 'S',
      description: 'seconds between reads of the workers while watching, 1 to 120 (default: 2)',
    },
    'until-converged': {
      type: 'boolean',
      description:
        'watch until every worker that is not stale has applied the desired revision (at ' +
        'least one must report), then exit 0; exit 5 at the timeout',
    },
    timeout: {
      type: 'string',
      valueName: 'S',
      description: 'seconds --until-converged waits (default: 300)',
    },
  },
  async run(context) {
    const [taskQueue = ''] = context.args;
    const { values } = context;
    const untilConverged = values['until-converged'] === true;
    const intervalSeconds = integerOption(values, 'interval', 'status', { min: 1, max: 120 }) ?? 2;
    const timeoutSeconds = integerOption(values, 'timeout', 'status', {
      min: 1,
      max: 24 * 60 * 60,
    });
    if (timeoutSeconds !== undefined && !untilConverged) {
      throw new UsageError('--timeout needs --until-converged', 'status');
    }
    if (values.watch !== true && !untilConverged) {
      const status = await readSnapshot(context.client, taskQueue, context.signal);
      if (context.json) printJson(context, status);
      else context.out(renderStatus(status));
      return ExitCode.ok;
    }
    const deadline = untilConverged
      ? Date.now() + (timeoutSeconds ?? 300) * 1000
      : Number.POSITIVE_INFINITY;
    return watch(context, { taskQueue, intervalSeconds, deadline, untilConverged });
  },
};
