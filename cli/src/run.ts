import { DeployApiClient } from '@activity-deploy/deploy-api/client';
import {
  parseCommandArgs,
  stringOption,
  type CommandContext,
  type CommandSpec,
} from './command.js';
import { auditCommand } from './commands/audit.js';
import { configureCommand } from './commands/configure.js';
import { historyCommand } from './commands/history.js';
import {
  rolloutAbortCommand,
  rolloutPauseCommand,
  rolloutPromoteCommand,
  rolloutResumeCommand,
  rolloutStartCommand,
  rolloutStatusCommand,
} from './commands/rollout.js';
import { statusCommand } from './commands/status.js';
import { tokensCreateCommand, tokensDeleteCommand, tokensListCommand } from './commands/tokens.js';
import { unvetoCommand, vetoCommand, vetoesCommand } from './commands/vetoes.js';
import { pinCommand, rollbackCommand, unpinCommand } from './commands/writes.js';
import { describeFailure, ExitCode, UsageError } from './exit-codes.js';
import { commandHelp, mainHelp } from './help.js';

export const commands: readonly CommandSpec[] = [
  pinCommand,
  unpinCommand,
  rollbackCommand,
  configureCommand,
  historyCommand,
  statusCommand,
  rolloutStartCommand,
  rolloutStatusCommand,
  rolloutPauseCommand,
  rolloutResumeCommand,
  rolloutPromoteCommand,
  rolloutAbortCommand,
  vetoCommand,
  unvetoCommand,
  vetoesCommand,
  tokensCreateCommand,
  tokensListCommand,
  tokensDeleteCommand,
  auditCommand,
];

export const defaultApiUrl = 'http://127.0.0.1:4000/';

/** The output streams and environment of one deployctl run, besides its arguments. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  interactive: boolean;
  signal: AbortSignal;
}

/** Finds the command named by the first one or two arguments (`tokens create`). */
function findCommand(argv: string[]): { spec: CommandSpec; rest: string[] } {
  const [first = '', second = ''] = argv;
  const two = commands.find((spec) => spec.name === `${first} ${second}`);
  if (two) return { spec: two, rest: argv.slice(2) };
  const one = commands.find((spec) => spec.name === first);
  if (one) return { spec: one, rest: argv.slice(1) };
  if (first === 'tokens') {
    const detail = second ? `unknown command "tokens ${second}"` : 'missing tokens subcommand';
    throw new UsageError(`${detail}: use tokens create, tokens list or tokens delete`);
  }
  if (first === 'rollout') {
    const detail = second ? `unknown command "rollout ${second}"` : 'missing rollout subcommand';
    throw new UsageError(`${detail}: use rollout start, status, pause, resume, promote or abort`);
  }
  throw new UsageError(`unknown command ${JSON.stringify(first)}`);
}

/** Resolves the API URL; the URL is shown in errors, so it must not carry credentials. */
function apiUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`invalid deploy API URL ${JSON.stringify(raw)}: use http(s)://host:port/`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`invalid deploy API URL ${JSON.stringify(raw)}: use http or https`);
  }
  if (url.username || url.password) {
    throw new UsageError('the deploy API URL must not contain credentials: use --token');
  }
  return url.href;
}

/** Runs deployctl with `argv` (the arguments after the program name) and returns the exit code. */
export async function runDeployctl(argv: string[], io: CliIo): Promise<number> {
  let url = io.env.DEPLOY_API_URL || defaultApiUrl;
  let token = io.env.DEPLOY_API_TOKEN || undefined;
  // The token never reaches stderr, even inside a message of the API or the network.
  const redact = (text: string) => (token ? text.split(token).join('<token>') : text);
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      const topic = argv[0] === 'help' ? argv.slice(1) : [];
      if (argv.length === 0) {
        io.stderr(mainHelp(commands));
        return ExitCode.usage;
      }
      io.stdout(topic.length > 0 ? commandHelp(findCommand(topic).spec) : mainHelp(commands));
      return ExitCode.ok;
    }
    const { spec, rest } = findCommand(argv);
    const { args, values } = parseCommandArgs(spec, rest);
    token = stringOption(values, 'token') ?? token;
    if (values.help) {
      io.stdout(commandHelp(spec));
      return ExitCode.ok;
    }
    url = apiUrl(stringOption(values, 'url') ?? url);
    const context: CommandContext = {
      client: new DeployApiClient({ url, token }),
      args,
      values,
      json: values.json === true,
      out: io.stdout,
      err: (text) => io.stderr(redact(text)),
      interactive: io.interactive,
      signal: io.signal,
    };
    return await spec.run(context);
  } catch (error) {
    if (io.signal.aborted) return ExitCode.interrupted;
    const failure = describeFailure(error, url);
    io.stderr(redact(`deployctl: ${failure.message}`));
    return failure.code;
  }
}
