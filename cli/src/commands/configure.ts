// configure: changes the settings of a pinned package without changing its version.
import type { PackageConfig, PackageSettings } from '@activity-deploy/deploy-api/client';
import { stringOption, type CommandSpec } from '../command.js';
import { UsageError } from '../exit-codes.js';
import { guard, report, writeOptions } from './writes.js';

/** Parses `--config`: a JSON object whose values are strings, numbers, booleans or null. */
function configOption(raw: string | undefined): PackageConfig | undefined {
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new UsageError(
      `invalid --config ${JSON.stringify(raw)}: ${(error as Error).message}; pass a JSON ` +
        `object such as '{"endpoint":"https://example.test","retries":3}'`,
      'configure',
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(
      `invalid --config ${JSON.stringify(raw)}: expected a JSON object of settings`,
      'configure',
    );
  }
  return parsed as PackageConfig;
}

export const configureCommand: CommandSpec = {
  name: 'configure',
  arguments: ['<taskQueue>', '<package>'],
  summary: 'change the settings of a pinned package',
  description:
    'Appends a revision with action configure; the pinned version stays. Each setting given ' +
    'replaces its current value and the others keep theirs. The deploy API checks the values: ' +
    'at most 64 config keys and 16 KiB of JSON.',
  options: {
    config: {
      type: 'string',
      valueName: 'JSON',
      description: 'settings that activity code reads with packageConfig(), as a JSON object',
    },
    'clear-config': { type: 'boolean', description: 'remove every setting of the package' },
    disable: { type: 'boolean', description: "register none of the package's activities" },
    enable: { type: 'boolean', description: "register the package's activities again" },
    'disable-activity': {
      type: 'string',
      multiple: true,
      valueName: 'NAME',
      description: 'do not register this activity (repeat for several); replaces the current list',
    },
    'enable-all-activities': {
      type: 'boolean',
      description: 'clear the list of disabled activities',
    },
    ...writeOptions,
  },
  async run(context) {
    const [taskQueue = '', name = ''] = context.args;
    const { values } = context;
    const conflicts: Array<[string, string]> = [
      ['config', 'clear-config'],
      ['disable', 'enable'],
      ['disable-activity', 'enable-all-activities'],
    ];
    for (const [first, second] of conflicts) {
      if (values[first] !== undefined && values[second] !== undefined) {
        throw new UsageError(`--${first} and --${second} cannot be combined`, 'configure');
      }
    }
    const settings: PackageSettings = {};
    const config = configOption(stringOption(values, 'config'));
    if (config !== undefined) settings.config = config;
    if (values['clear-config'] === true) settings.config = {};
    if (values.disable === true) settings.disabled = true;
    if (values.enable === true) settings.disabled = false;
    const disabledActivities = values['disable-activity'];
    if (Array.isArray(disabledActivities)) settings.disabledActivities = disabledActivities;
    if (values['enable-all-activities'] === true) settings.disabledActivities = [];
    if (Object.keys(settings).length === 0) {
      throw new UsageError(
        'configure changes nothing without a setting: give --config, --clear-config, ' +
          '--disable, --enable, --disable-activity or --enable-all-activities',
        'configure',
      );
    }
    const reason = stringOption(values, 'reason');
    const result = await context.client.configure(
      taskQueue,
      name,
      { ...settings, ...(reason === undefined ? {} : { reason }) },
      guard(context, 'configure'),
    );
    return report(context, result, {
      done: `configured ${name}`,
      plan: `configure ${name}`,
      unchanged: `the settings of ${name} are already these`,
    });
  },
};
