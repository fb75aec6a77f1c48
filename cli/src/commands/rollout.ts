// rollout start, status, pause, resume, promote and abort: gradual rollouts of a revision.
import type {
  Rollout,
  RolloutAction,
  RolloutReport,
  RolloutRequest,
  RolloutStep,
} from '@activity-deploy/deploy-api/client';
import {
  etagOption,
  printJson,
  stringOption,
  type CommandContext,
  type CommandSpec,
  type OptionSpec,
  type OptionValues,
} from '../command.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { diffLines, orDash } from '../format.js';
import { rolloutLine } from './status.js';

/** Options of a write that may start a rollout; `steps` is required by `rollout start` only. */
export const rolloutOptions: Record<string, OptionSpec> = {
  steps: {
    type: 'string',
    valueName: 'STEPS',
    description:
      'roll the new revision out in steps instead of to every worker: comma-separated ' +
      'PERCENT:SECONDS, such as 10:300,50:600 (10 % for 300 s, then 50 % for 600 s, then ' +
      'promote); a step without :SECONDS waits for rollout resume',
  },
  'max-failure-ratio': {
    type: 'string',
    valueName: 'R',
    description:
      "abort when the candidate's activity failure rate is above R times the stable one's " +
      '(default: the API setting DEPLOY_API_ROLLOUT_MAX_FAILURE_RATIO)',
  },
  'min-calls': {
    type: 'string',
    valueName: 'N',
    description:
      'finished calls of the candidate before its failure rate is judged (default: the API ' +
      'setting DEPLOY_API_ROLLOUT_MIN_CALLS)',
  },
};

/** Parses `10:300,50:600,80` into rollout steps; a bad value is a usage error. */
export function parseSteps(raw: string, command: string): RolloutStep[] {
  return raw.split(',').map((part) => {
    const match = /^(\d{1,3})(?::(\d+))?$/.exec(part.trim());
    const percent = Number(match?.[1]);
    if (!match || percent < 1 || percent > 100) {
      throw new UsageError(
        `invalid --steps entry ${JSON.stringify(part)}: use PERCENT (1 to 100) or ` +
          'PERCENT:SECONDS, such as 10:300',
        command,
      );
    }
    return match[2] === undefined ? { percent } : { percent, pauseSeconds: Number(match[2]) };
  });
}

/** Returns the rollout that --steps and its companions ask for, or undefined without --steps. */
export function rolloutRequest(values: OptionValues, command: string): RolloutRequest | undefined {
  const steps = stringOption(values, 'steps');
  const ratio = stringOption(values, 'max-failure-ratio');
  const minCalls = stringOption(values, 'min-calls');
  if (steps === undefined) {
    if (ratio !== undefined || minCalls !== undefined) {
      throw new UsageError('--max-failure-ratio and --min-calls need --steps', command);
    }
    return undefined;
  }
  const request: RolloutRequest = { steps: parseSteps(steps, command) };
  if (ratio !== undefined) {
    const value = Number(ratio);
    if (!Number.isFinite(value) || value < 1) {
      throw new UsageError(
        `invalid --max-failure-ratio ${JSON.stringify(ratio)}: use a number of at least 1`,
        command,
      );
    }
    request.maxFailureRatio = value;
  }
  if (minCalls !== undefined) {
    if (!/^\d+$/.test(minCalls) || Number(minCalls) < 1) {
      throw new UsageError(
        `invalid --min-calls ${JSON.stringify(minCalls)}: use a whole number of at least 1`,
        command,
      );
    }
    request.minCalls = Number(minCalls);
  }
  return request;
}

function describeRollout(rollout: Rollout): string[] {
  const lines = [
    `task queue ${rollout.taskQueue}: ${rolloutLine(rollout)}`,
    `  steps: ${rollout.steps
      .map(
        (step) =>
          `${step.percent} %${step.pauseSeconds === undefined ? '' : ` for ${step.pauseSeconds} s`}`,
      )
      .join(', ')}`,
    `  aborts when the candidate fails more than ${rollout.analysis.maxFailureRatio} times as ` +
      `often as the stable revision, after ${rollout.analysis.minCalls} calls`,
    `  started by ${rollout.startedBy} at ${rollout.startedAt}`,
  ];
  if (rollout.endedAt !== null) {
    lines.push(
      `  ${rollout.status} by ${orDash(rollout.endedBy)} at ${rollout.endedAt}: ` +
        orDash(rollout.endReason),
    );
  }
  return lines;
}

function describeReport(report: RolloutReport): string[] {
  const { candidate, stable } = report.calls;
  return [
    ...describeRollout(report),
    `  calls since the start: candidate ${candidate.failed} failed of ` +
      `${candidate.completed + candidate.failed}, stable ${stable.failed} failed of ` +
      `${stable.completed + stable.failed}`,
    `  workers on the candidate: ${report.workers.candidate.join(', ') || '-'}`,
    `  workers on the stable revision: ${report.workers.stable.join(', ') || '-'}`,
  ];
}

export const rolloutStartCommand: CommandSpec = {
  name: 'rollout start',
  arguments: ['<taskQueue>', '<package>', '<version|range|tag>'],
  summary: 'pin a package version and roll it out to the workers in steps',
  description:
    'Pins the version as a new revision, the candidate, and runs it on the percentage of ' +
    "the queue's workers that the first step names, chosen by a hash of each worker id; " +
    'the other workers stay on the current revision. Each step raises the percentage ' +
    'after its pause, and the candidate is promoted after the last one. A candidate that ' +
    'fails to load on a worker, or fails more activity calls than the limits allow, is ' +
    'aborted. Writes to the queue are rejected until the rollout ends.',
  options: {
    ...rolloutOptions,
    reason: { type: 'string', valueName: 'R', description: 'reason recorded in the history' },
    'if-match': {
      type: 'string',
      valueName: 'ETAG',
      description: 'start only if the queue is still at this ETag; otherwise exit 4',
    },
    'dry-run': {
      type: 'boolean',
      description: 'print the rollout that would start and store nothing',
    },
  },
  async run(context) {
    const [taskQueue = '', name = '', spec = ''] = context.args;
    const rollout = rolloutRequest(context.values, 'rollout start');
    if (!rollout)
      throw new UsageError('missing --steps, such as --steps 10:300,50:600', 'rollout start');
    const result = await context.client.pin(
      taskQueue,
      name,
      spec,
      { reason: stringOption(context.values, 'reason'), rollout },
      {
        ifMatch: etagOption(context.values, 'rollout start'),
        dryRun: context.values['dry-run'] === true,
      },
    );
    if (context.json) {
      printJson(context, result);
      return ExitCode.ok;
    }
    if (!result.changed || !result.rollout) {
      context.out(
        `${name} is already pinned at that version; task queue ${taskQueue} stays at revision ` +
          `${result.revision} and no rollout started`,
      );
      return ExitCode.ok;
    }
    const prefix = result.dryRun ? 'dry run, nothing stored: would start' : 'started';
    context.out(`${prefix} the rollout of revision ${result.revision} of task queue ${taskQueue}`);
    for (const line of diffLines(result.diff)) context.out(line);
    for (const line of describeRollout(result.rollout).slice(1)) context.out(line);
    context.out(`  ${rolloutLine(result.rollout)}`);
    return ExitCode.ok;
  },
};

export const rolloutStatusCommand: CommandSpec = {
  name: 'rollout status',
  arguments: ['<taskQueue>'],
  summary: 'show the newest rollout of a task queue, running or ended',
  description:
    'Prints the candidate and stable revisions, the status, percentage and step, when the ' +
    'next step starts, the activity calls of both revisions and which workers run which. ' +
    'A queue that never had a rollout fails with ROLLOUT_NOT_FOUND.',
  options: {},
  async run(context) {
    const [taskQueue = ''] = context.args;
    const report = await context.client.getRollout(taskQueue);
    if (context.json) printJson(context, report);
    else for (const line of describeReport(report)) context.out(line);
    return ExitCode.ok;
  },
};

const actionWording: Record<RolloutAction, { summary: string; description: string; done: string }> =
  {
    pause: {
      summary: 'pause the running rollout of a task queue',
      description:
        'Stops the step timer; every worker keeps what it runs. Fails with ROLLOUT_PAUSED ' +
        'when the rollout is already paused.',
      done: 'paused',
    },
    resume: {
      summary: 'resume a paused rollout',
      description:
        'A step paused by hand continues with the time it had left; a step without a pause ' +
        'time moves on to the next step. Fails with ROLLOUT_NOT_PAUSED when it is not paused.',
      done: 'resumed',
    },
    promote: {
      summary: 'move every worker to the candidate now and end the rollout',
      description: 'The candidate becomes the stable revision. Writes are accepted again.',
      done: 'promoted',
    },
    abort: {
      summary: 'return every worker to the stable revision and end the rollout',
      description:
        'Appends a rollback revision with the stable packages, with your reason in the history.',
      done: 'aborted',
    },
  };

function actionCommand(action: RolloutAction): CommandSpec {
  const wording = actionWording[action];
  const name = `rollout ${action}`;
  return {
    name,
    arguments: ['<taskQueue>'],
    summary: wording.summary,
    description: `${wording.description} Fails with NO_ROLLOUT_RUNNING when none runs.`,
    options: {
      reason: { type: 'string', valueName: 'R', description: 'reason recorded in the audit log' },
      'if-match': {
        type: 'string',
        valueName: 'ETAG',
        description:
          'act only if the state still has this ETag (as status prints it); otherwise exit 4',
      },
    },
    async run(context: CommandContext) {
      const [taskQueue = ''] = context.args;
      const rollout = await context.client.rolloutAction(
        taskQueue,
        action,
        stringOption(context.values, 'reason'),
        { ifMatch: etagOption(context.values, name) },
      );
      if (context.json) printJson(context, rollout);
      else {
        context.out(`${wording.done} the rollout of revision ${rollout.candidateRevision}`);
        for (const line of describeRollout(rollout)) context.out(line);
      }
      return ExitCode.ok;
    },
  };
}

export const rolloutPauseCommand = actionCommand('pause');
export const rolloutResumeCommand = actionCommand('resume');
export const rolloutPromoteCommand = actionCommand('promote');
export const rolloutAbortCommand = actionCommand('abort');
