// pin, unpin and rollback: the writes that append a revision to a task queue.
import type { WriteResult } from '@activity-deploy/deploy-api/client';
import {
  etagOption,
  integerOption,
  printJson,
  stringOption,
  type CommandContext,
  type CommandSpec,
  type OptionSpec,
} from '../command.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { diffLines, packageLines } from '../format.js';
import { rolloutRequest, rolloutOptions } from './rollout.js';
import { rolloutLine } from './status.js';

export const writeOptions: Record<string, OptionSpec> = {
  reason: { type: 'string', valueName: 'R', description: 'reason recorded in the history' },
  'if-match': {
    type: 'string',
    valueName: 'ETAG',
    description:
      'write only if the queue is still at this ETag (as status prints it, or a revision ' +
      'number); otherwise exit 4',
  },
  'dry-run': {
    type: 'boolean',
    description: 'print the revision the write would create and store nothing',
  },
  ...rolloutOptions,
};

export function guard(context: CommandContext, command: string) {
  return {
    ifMatch: etagOption(context.values, command),
    dryRun: context.values['dry-run'] === true,
  };
}

/** Wording of a write's result: `done` after a stored write, `plan` for a dry run. */
interface WriteWording {
  done: string;
  plan: string;
  unchanged: string;
}

/** Prints a write's result: what changed, or that nothing did. */
export function report(
  context: CommandContext,
  result: WriteResult,
  wording: WriteWording,
): number {
  if (context.json) {
    printJson(context, result);
    return ExitCode.ok;
  }
  if (!result.changed) {
    context.out(
      `${wording.unchanged}; task queue ${result.taskQueue} stays at revision ${result.revision}`,
    );
    return ExitCode.ok;
  }
  const prefix = result.dryRun
    ? `dry run, nothing stored: would ${wording.plan} as`
    : `${wording.done}:`;
  context.out(`${prefix} revision ${result.revision} of task queue ${result.taskQueue}`);
  for (const line of diffLines(result.diff)) context.out(line);
  context.out('packages now:');
  for (const line of packageLines(result.packages)) context.out(line);
  if (result.rollout) context.out(rolloutLine(result.rollout));
  return ExitCode.ok;
}

export const pinCommand: CommandSpec = {
  name: 'pin',
  arguments: ['<taskQueue>', '<package>', '<version|range|tag>'],
  summary: 'pin a package version on a task queue',
  description:
    'The deploy API resolves a semver range or dist-tag against the registry and records the ' +
    'exact version with its integrity. Pinning what is already pinned changes nothing. With ' +
    '--follow the API keeps resolving the range or dist-tag and records a new revision (actor ' +
    'auto-follow) when it selects another version; a pin without --follow stops following.',
  options: {
    follow: {
      type: 'boolean',
      description: 'keep following the range or dist-tag as versions are published',
    },
    'min-age': {
      type: 'string',
      valueName: 'S',
      description:
        'with --follow: seconds a version must have been published before the pin moves to it',
    },
    ...writeOptions,
  },
  async run(context) {
    const [taskQueue = '', name = '', spec = ''] = context.args;
    const follow = context.values.follow === true;
    const minAgeSeconds = integerOption(context.values, 'min-age', 'pin', {
      min: 0,
      max: 31_536_000,
    });
    if (minAgeSeconds !== undefined && !follow) {
      throw new UsageError('--min-age needs --follow', 'pin');
    }
    const result = await context.client.pin(
      taskQueue,
      name,
      spec,
      {
        reason: stringOption(context.values, 'reason'),
        rollout: rolloutRequest(context.values, 'pin'),
        ...(follow ? { follow } : {}),
        ...(minAgeSeconds === undefined ? {} : { minAgeSeconds }),
      },
      guard(context, 'pin'),
    );
    const pinned = result.packages.find((entry) => entry.name === name);
    const label = `${name}@${pinned?.version ?? spec}`;
    return report(context, result, {
      done: `pinned ${label}`,
      plan: `pin ${label}`,
      unchanged: `${label} is already pinned`,
    });
  },
};

export const unpinCommand: CommandSpec = {
  name: 'unpin',
  arguments: ['<taskQueue>', '<package>'],
  summary: 'remove a package from a task queue',
  description:
    'Appends a revision without the package. Unpinning a package that is not pinned fails ' +
    'with PACKAGE_NOT_PINNED.',
  options: writeOptions,
  async run(context) {
    const [taskQueue = '', name = ''] = context.args;
    const result = await context.client.unpin(
      taskQueue,
      name,
      {
        reason: stringOption(context.values, 'reason'),
        rollout: rolloutRequest(context.values, 'unpin'),
      },
      guard(context, 'unpin'),
    );
    return report(context, result, {
      done: `unpinned ${name}`,
      plan: `unpin ${name}`,
      unchanged: `${name} is not pinned`,
    });
  },
};

export const rollbackCommand: CommandSpec = {
  name: 'rollback',
  arguments: ['<taskQueue>'],
  summary: 'restore the package set of an earlier revision',
  description:
    'Appends a revision with the package set of --to, by default the revision before the ' +
    'current one. History is never rewritten.',
  options: {
    to: {
      type: 'string',
      valueName: 'REVISION',
      description: 'revision whose package set to restore (default: the one before the current)',
    },
    ...writeOptions,
  },
  async run(context) {
    const [taskQueue = ''] = context.args;
    const revision = integerOption(context.values, 'to', 'rollback', {
      min: 1,
      max: Number.MAX_SAFE_INTEGER,
    });
    const reason = stringOption(context.values, 'reason');
    const rollout = rolloutRequest(context.values, 'rollback');
    const result = await context.client.rollback(
      taskQueue,
      {
        ...(revision === undefined ? {} : { revision }),
        ...(reason === undefined ? {} : { reason }),
        ...(rollout === undefined ? {} : { rollout }),
      },
      guard(context, 'rollback'),
    );
    const target = revision === undefined ? 'the previous revision' : `revision ${revision}`;
    return report(context, result, {
      done: `rolled back to the packages of ${target}`,
      plan: `roll back to the packages of ${target}`,
      unchanged: `the packages of ${target} are already the current ones`,
    });
  },
};
