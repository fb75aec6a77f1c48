import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** Cores, CPU model, memory and Node.js version of this machine, for a benchmark record. */
export function describeMachine(): string {
  const cpus = os.cpus();
  const memory = (os.totalmem() / 2 ** 30).toFixed(0);
  return `${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${memory} GiB, Node.js ${process.versions.node}`;
}

/** Returns the 1-minute load average, which shows whether other work shared the machine. */
export function loadAverage(): string {
  return (os.loadavg()[0] ?? Number.NaN).toFixed(2);
}

/**
 * Returns the header lines of a benchmark record: the command that reproduces it, the
 * machine, the date, and the load average at the start and at the end of the run.
 */
export function recordHeader(command: string, loadAtStart: string): string {
  const date = new Date().toISOString().slice(0, 10);
  return (
    `Command: \`${command}\`. Machine: ${describeMachine()}. Date: ${date}. ` +
    `Load average (1 min) at start and end: ${loadAtStart} and ${loadAverage()} ` +
    `on ${os.cpus().length} cores.`
  );
}

/**
 * Replaces the section with this title in docs/benchmarks.md, keeping the others, and
 * formats the page with the repository's Prettier settings so that `npm run lint` passes.
 */
export async function writeSection(title: string, body: string): Promise<void> {
  const file = path.join(repoRoot, 'docs', 'benchmarks.md');
  await mkdir(path.dirname(file), { recursive: true });
  let text = await readFile(file, 'utf8').catch(() => '# Benchmarks\n');
  const heading = `## ${title}`;
  const start = text.indexOf(heading);
  const section = `${heading}\n\n${body}\n`;
  if (start === -1) {
    text = `${text.trimEnd()}\n\n${section}`;
  } else {
    const next = text.indexOf('\n## ', start + heading.length);
    text = text.slice(0, start) + section + (next === -1 ? '' : text.slice(next + 1));
  }
  const options = (await resolveConfig(file)) ?? {};
  await writeFile(file, await format(text, { ...options, parser: 'markdown' }));
  console.error(`wrote ${file}`);
}

/** Reads an integer of at least `minimum` from the environment, or `fallback` when it is unset. */
export function envInteger(name: string, fallback: number, minimum = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < minimum) {
    throw new Error(`${name}=${raw} is invalid: expected an integer of at least ${minimum}`);
  }
  return value;
}

/** Formats a markdown table from a header row and data rows. */
export function markdownTable(header: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
