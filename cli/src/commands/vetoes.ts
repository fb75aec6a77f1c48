// veto, unveto and vetoes: versions that must not run anywhere.
import { printJson, stringOption, type CommandSpec } from '../command.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { table } from '../format.js';

export const vetoCommand: CommandSpec = {
  name: 'veto',
  arguments: ['<package>', '<version>'],
  summary: 'forbid a version and roll back the task queues that run it',
  description:
    'After a veto, pinning the version fails with VERSION_VETOED, and every task queue that ' +
    'runs it is rolled back. The output lists those rollbacks.',
  options: {
    reason: { type: 'string', valueName: 'R', description: 'why the version is vetoed (required)' },
  },
  async run(context) {
    const [name = '', version = ''] = context.args;
    const reason = stringOption(context.values, 'reason');
    if (!reason) throw new UsageError('missing --reason: say why the version is vetoed', 'veto');
    const result = await context.client.vetoVersion(name, version, reason);
    if (context.json) {
      printJson(context, result);
      return ExitCode.ok;
    }
    context.out(`vetoed ${result.name}@${result.version}: ${result.reason}`);
    if (result.rolledBack.length === 0) context.out('no task queue was running it');
    for (const entry of result.rolledBack) {
      context.out(`  rolled back task queue ${entry.taskQueue} as revision ${entry.revision}`);
    }
    return ExitCode.ok;
  },
};

export const unvetoCommand: CommandSpec = {
  name: 'unveto',
  arguments: ['<package>', '<version>'],
  summary: 'lift the veto of a version',
  description: 'The version may be pinned again. Nothing is pinned automatically.',
  options: {
    reason: { type: 'string', valueName: 'R', description: 'why the veto is lifted' },
  },
  async run(context) {
    const [name = '', version = ''] = context.args;
    const veto = await context.client.liftVeto(
      name,
      version,
      stringOption(context.values, 'reason'),
    );
    if (context.json) printJson(context, veto);
    else context.out(`lifted the veto of ${veto.name}@${veto.version}`);
    return ExitCode.ok;
  },
};

export const vetoesCommand: CommandSpec = {
  name: 'vetoes',
  arguments: ['<package>'],
  summary: 'list the vetoed versions of a package',
  description: 'Each vetoed version with the actor, time and reason of its veto.',
  options: {},
  async run(context) {
    const [name = ''] = context.args;
    const list = await context.client.listVetoes(name);
    if (context.json) {
      printJson(context, list);
      return ExitCode.ok;
    }
    if (list.vetoes.length === 0) {
      context.out(`no version of ${list.name} is vetoed`);
      return ExitCode.ok;
    }
    const rows = list.vetoes.map((veto) => [veto.version, veto.actor, veto.createdAt, veto.reason]);
    context.out(table(['VERSION', 'ACTOR', 'TIME', 'REASON'], rows));
    return ExitCode.ok;
  },
};
