import { parseArgs } from 'node:util';
import type { DeployApiClient } from '@activity-deploy/deploy-api/client';
import { UsageError } from './exit-codes.js';

/** An option of a command, as `util.parseArgs` takes it plus its help text. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** Placeholder of the value in the help, such as `R` in `--reason R`. */
  valueName?: string;
  description: string;
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** Inputs of a command: the parsed arguments, the client and the output streams. */
export interface CommandContext {
  client: DeployApiClient;
  /** Positionals in the order of `CommandSpec.arguments`. */
  args: string[];
  values: OptionValues;
  json: boolean;
  out(text: string): void;
  err(text: string): void;
  /** True when stdout is a terminal, so `status --watch` may redraw in place. */
  interactive: boolean;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
}

export interface CommandSpec {
  /** Name as typed, such as `pin` or `tokens create`. */
  name: string;
  /** Positional arguments, all required, such as `<taskQueue>`. */
  arguments: string[];
  summary: string;
  /** Paragraph printed under the usage line of the command's help. */
  description: string;
  options: Record<string, OptionSpec>;
  run(context: CommandContext): Promise<number>;
}

/** Options every command takes. */
export const globalOptions: Record<string, OptionSpec> = {
  url: {
    type: 'string',
    valueName: 'URL',
    description: 'deploy API base URL (default: DEPLOY_API_URL, else http://127.0.0.1:4000/)',
  },
  token: {
    type: 'string',
    valueName: 'TOKEN',
    description: 'bearer token (default: DEPLOY_API_TOKEN)',
  },
  json: { type: 'boolean', description: 'print JSON instead of text' },
  help: { type: 'boolean', short: 'h', description: 'print this help' },
};

/** Parses the arguments after the command name; rejects unknown options and extra arguments. */
export function parseCommandArgs(
  spec: CommandSpec,
  argv: string[],
): { args: string[]; values: OptionValues } {
  const options = { ...globalOptions, ...spec.options };
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: Object.fromEntries(
        Object.entries(options).map(([name, option]) => [
          name,
          {
            type: option.type,
            ...(option.multiple ? { multiple: true } : {}),
            ...(option.short ? { short: option.short } : {}),
          },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message, spec.name);
  }
  const values = parsed.values as OptionValues;
  if (values.help) return { args: parsed.positionals, values };
  const expected = spec.arguments.length;
  if (parsed.positionals.length < expected) {
    const missing = spec.arguments.slice(parsed.positionals.length).join(' ');
    throw new UsageError(`missing argument ${missing}`, spec.name);
  }
  if (parsed.positionals.length > expected) {
    const extra = parsed.positionals.slice(expected).join(' ');
    throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`, spec.name);
  }
  return { args: parsed.positionals, values };
}

export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** Reads an integer option within `[min, max]`; an invalid value is a usage error. */
export function integerOption(
  values: OptionValues,
  name: string,
  command: string,
  range: { min: number; max: number },
): number | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < range.min || value > range.max) {
    const allowed = Number.isSafeInteger(range.max + 1)
      ? `from ${range.min} to ${range.max}`
      : `of at least ${range.min}`;
    throw new UsageError(
      `invalid --${name} ${JSON.stringify(raw)}: use a whole number ${allowed}`,
      command,
    );
  }
  return value;
}

/**
 * Returns the ETag for `--if-match`. Besides an ETag as `status` prints it (`"r3"`), a
 * revision number (`3` or `r3`) is accepted, because shells make the quotes awkward.
 */
export function etagOption(values: OptionValues, command: string): string | undefined {
  const raw = stringOption(values, 'if-match');
  if (raw === undefined) return undefined;
  const revision = /^r?(\d+)$/.exec(raw);
  if (revision) return `"r${revision[1]}"`;
  if (/^(W\/)?"[^"]*"$/.test(raw) || raw === '*') return raw;
  throw new UsageError(
    `invalid --if-match ${JSON.stringify(raw)}: use the ETag that status prints, such as '"r3"', or a revision number`,
    command,
  );
}

/** Prints `value` as indented JSON. */
export function printJson(context: CommandContext, value: unknown): void {
  context.out(JSON.stringify(value, null, 2));
}
