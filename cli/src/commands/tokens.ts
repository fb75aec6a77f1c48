// tokens create, list and delete: the bearer tokens of the deploy API.
import type { TokenRole } from '@activity-deploy/deploy-api/client';
import { printJson, stringOption, type CommandSpec } from '../command.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { table } from '../format.js';

const roles: readonly TokenRole[] = ['read', 'deploy', 'admin'];

function queuesLabel(taskQueues: string[] | null): string {
  return taskQueues && taskQueues.length > 0 ? taskQueues.join(',') : 'all';
}

export const tokensCreateCommand: CommandSpec = {
  name: 'tokens create',
  arguments: ['<name>'],
  summary: 'create a token and print its secret once',
  description:
    '--role sets what the token may do (read, deploy or admin, as the deploy API defines ' +
    'them), and --task-queue limits it to those queues. The secret is printed on the last ' +
    'line and cannot be shown again.',
  options: {
    role: { type: 'string', valueName: 'ROLE', description: 'read, deploy or admin (required)' },
    'task-queue': {
      type: 'string',
      multiple: true,
      valueName: 'Q',
      description: 'task queue the token may change; repeat for several (default: all)',
    },
  },
  async run(context) {
    const [name = ''] = context.args;
    const role = stringOption(context.values, 'role');
    if (!role) throw new UsageError('missing --role: use read, deploy or admin', 'tokens create');
    if (!roles.includes(role as TokenRole)) {
      throw new UsageError(
        `invalid --role ${JSON.stringify(role)}: use read, deploy or admin`,
        'tokens create',
      );
    }
    const taskQueues = context.values['task-queue'];
    const created = await context.client.createToken({
      name,
      role: role as TokenRole,
      taskQueues: Array.isArray(taskQueues) ? taskQueues : undefined,
    });
    if (context.json) {
      printJson(context, created);
      return ExitCode.ok;
    }
    context.out(
      `created token ${created.name} (role ${created.role}, task queues ` +
        `${queuesLabel(created.taskQueues)}); store the secret now, it is not shown again:`,
    );
    context.out(created.token);
    return ExitCode.ok;
  },
};

export const tokensListCommand: CommandSpec = {
  name: 'tokens list',
  arguments: [],
  summary: 'list the tokens, without their secrets',
  description: 'Each token with its role, task queues and creation time.',
  options: {},
  async run(context) {
    const { tokens } = await context.client.listTokens();
    if (context.json) {
      printJson(context, { tokens });
      return ExitCode.ok;
    }
    if (tokens.length === 0) {
      context.out('no tokens');
      return ExitCode.ok;
    }
    const rows = tokens.map((token) => [
      token.name,
      token.role,
      queuesLabel(token.taskQueues),
      token.createdAt,
    ]);
    context.out(table(['NAME', 'ROLE', 'TASK QUEUES', 'CREATED'], rows));
    return ExitCode.ok;
  },
};

export const tokensDeleteCommand: CommandSpec = {
  name: 'tokens delete',
  arguments: ['<name>'],
  summary: 'delete a token; requests with it fail from then on',
  description: 'Requests that present the deleted token fail with UNAUTHORIZED.',
  options: {},
  async run(context) {
    const [name = ''] = context.args;
    await context.client.deleteToken(name);
    if (context.json) printJson(context, { name, deleted: true });
    else context.out(`deleted token ${name}`);
    return ExitCode.ok;
  },
};
