import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const benchmarksFile = fileURLToPath(new URL('../../../docs/benchmarks.md', import.meta.url));

/** Replaces the section with this title in docs/benchmarks.md, keeping the others. */
export async function writeSection(title: string, body: string): Promise<void> {
  await mkdir(path.dirname(benchmarksFile), { recursive: true });
  let text = await readFile(benchmarksFile, 'utf8').catch(() => '# Benchmarks\n');
  const heading = `## ${title}`;
  const start = text.indexOf(heading);
  const section = `${heading}\n\n${body}\n`;
  if (start === -1) {
    text = `${text.trimEnd()}\n\n${section}`;
  } else {
    const next = text.indexOf('\n## ', start + heading.length);
    text = text.slice(0, start) + section + (next === -1 ? '' : text.slice(next + 1));
  }
  await writeFile(benchmarksFile, text);
  console.error(`wrote ${benchmarksFile}`);
}
