import type { RevisionRecord } from '@activity-deploy/deploy-api/client';
import { integerOption, printJson, type CommandSpec } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { orDash, table } from '../format.js';

/**
 * Describes what a revision changed, such as `@acme/greetings ^1.1.0 -> 1.1.0`, with
 * `(following)` when the pin follows its range or dist-tag.
 */
function change(record: RevisionRecord): string {
  if (record.action === 'rollback') return `to revision ${orDash(record.rollbackTo)}`;
  if (!record.package) return '-';
  const { name, spec } = record.package;
  const pinned = record.packages.find((entry) => entry.name === name);
  if (record.action === 'unpin' || !pinned) return name;
  const label =
    spec && spec !== pinned.version
      ? `${name} ${spec} -> ${pinned.version}`
      : `${name}@${pinned.version}`;
  return pinned.follow ? `${label} (following)` : label;
}

export const historyCommand: CommandSpec = {
  name: 'history',
  arguments: ['<taskQueue>'],
  summary: 'list the revisions of a task queue, newest first',
  description: 'Each revision with its action, the change, actor, time and reason.',
  options: {
    limit: {
      type: 'string',
      valueName: 'N',
      description: 'number of revisions to list, 1 to 1000 (default: 100)',
    },
  },
  async run(context) {
    const [taskQueue = ''] = context.args;
    const limit = integerOption(context.values, 'limit', 'history', { min: 1, max: 1000 });
    const list = await context.client.revisions(taskQueue, limit);
    if (context.json) {
      printJson(context, list);
      return ExitCode.ok;
    }
    if (list.revisions.length === 0) {
      context.out(`task queue ${taskQueue} has no revisions`);
      return ExitCode.ok;
    }
    const rows = list.revisions.map((record) => [
      String(record.revision),
      record.action,
      change(record),
      record.actor,
      record.createdAt,
      orDash(record.reason),
    ]);
    context.out(table(['REVISION', 'ACTION', 'CHANGE', 'ACTOR', 'TIME', 'REASON'], rows));
    return ExitCode.ok;
  },
};
