import { integerOption, printJson, stringOption, type CommandSpec } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { orDash, table } from '../format.js';

export const auditCommand: CommandSpec = {
  name: 'audit',
  arguments: [],
  summary: 'list recorded changes: pins, vetoes, token changes',
  description:
    'Each entry with its time, actor, action, task queue, target and reason. --json also ' +
    'prints the state before and after each change.',
  options: {
    'task-queue': {
      type: 'string',
      valueName: 'Q',
      description: 'list only the changes of this task queue',
    },
    limit: {
      type: 'string',
      valueName: 'N',
      description: 'number of entries to list, 1 to 1000 (default: the API default)',
    },
  },
  async run(context) {
    const taskQueue = stringOption(context.values, 'task-queue');
    const limit = integerOption(context.values, 'limit', 'audit', { min: 1, max: 1000 });
    const list = await context.client.listAudit({
      ...(taskQueue === undefined ? {} : { taskQueue }),
      ...(limit === undefined ? {} : { limit }),
    });
    if (context.json) {
      printJson(context, list);
      return ExitCode.ok;
    }
    if (list.entries.length === 0) {
      context.out('no audit entries');
      return ExitCode.ok;
    }
    const rows = list.entries.map((entry) => [
      String(entry.id),
      entry.createdAt,
      entry.actor,
      entry.action,
      orDash(entry.taskQueue),
      orDash(entry.target),
      orDash(entry.reason),
    ]);
    context.out(table(['ID', 'TIME', 'ACTOR', 'ACTION', 'TASK QUEUE', 'TARGET', 'REASON'], rows));
    return ExitCode.ok;
  },
};
