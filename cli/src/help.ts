import { globalOptions, type CommandSpec, type OptionSpec } from './command.js';

const width = 90;

/** Breaks `text` into lines of at most `width` characters; later lines start with `indent`. */
function wrap(text: string, indent: number, first = 0): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    const limit = width - (lines.length === 0 ? first : indent);
    if (line && line.length + 1 + word.length > limit) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

function optionLines(options: Record<string, OptionSpec>): string[] {
  const entries = Object.entries(options).map(([name, option]) => {
    const short = option.short ? `-${option.short}, ` : '';
    const value = option.valueName ? ` ${option.valueName}` : '';
    return [`${short}--${name}${value}`, option.description];
  });
  const flagWidth = Math.max(...entries.map(([flag = '']) => flag.length));
  const indent = flagWidth + 4;
  return entries.map(
    ([flag = '', description = '']) =>
      `  ${flag.padEnd(flagWidth)}  ${wrap(description, indent, indent)}`,
  );
}

export function commandHelp(spec: CommandSpec): string {
  const args = spec.arguments.length > 0 ? ` ${spec.arguments.join(' ')}` : '';
  const summary = `${spec.summary.charAt(0).toUpperCase()}${spec.summary.slice(1)}.`;
  const lines = [`Usage: deployctl ${spec.name}${args} [options]`, ''];
  lines.push(wrap(`${summary} ${spec.description}`, 0), '');
  if (Object.keys(spec.options).length > 0) {
    lines.push('Options:', ...optionLines(spec.options), '');
  }
  lines.push('Global options:', ...optionLines(globalOptions));
  return lines.join('\n');
}

export function mainHelp(commands: readonly CommandSpec[]): string {
  const nameWidth = Math.max(...commands.map((spec) => spec.name.length));
  return [
    'Usage: deployctl <command> [arguments] [options]',
    '',
    'Pins, rolls back and watches the activity packages of Temporal task queues through the',
    'deploy API. Run deployctl <command> --help for the arguments and options of a command.',
    '',
    'Commands:',
    ...commands.map((spec) => `  ${spec.name.padEnd(nameWidth)}  ${spec.summary}`),
    '',
    'Global options:',
    ...optionLines(globalOptions),
    '',
    'Environment:',
    '  DEPLOY_API_URL    deploy API base URL (default: http://127.0.0.1:4000/)',
    '  DEPLOY_API_TOKEN  bearer token; writes need one',
    '',
    'Exit codes:',
    '  0    success',
    '  1    the API rejected the request (its error code and message go to stderr)',
    '  2    usage error',
    '  3    the API could not be reached',
    '  4    precondition failed: --if-match no longer matches (HTTP 412)',
    '  5    status --until-converged: not converged within --timeout',
    '  130  interrupted by Ctrl-C',
  ].join('\n');
}
