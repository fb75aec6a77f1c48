import { publishGenerated } from '@activity-deploy/e2e/dist/src/helpers/packages.js';
import type { RunningStack } from '@activity-deploy/stack';

/** Source of an activity package's CommonJS main module. */
export type ModuleSource = (version: string) => string;

/**
 * Publishes `versions` of one generated package whose main module is `source(version)`,
 * through libnpmpublish, which is much faster than one `npm publish` process per version.
 */
export async function publishVersions(
  stack: RunningStack,
  name: string,
  versions: readonly string[],
  source: ModuleSource,
  moduleType: 'commonjs' | 'module' = 'commonjs',
): Promise<void> {
  for (const version of versions) {
    await publishGenerated(
      stack.registry.url,
      stack.registry.publisherToken,
      { name, version, type: moduleType, main: 'index.js' },
      { 'index.js': source(version) },
    );
  }
}

/** `count` versions 1.0.0, 1.0.1, … */
export function patchVersions(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `1.0.${index}`);
}

/**
 * An activity `short` that waits `ms` milliseconds and returns its package version and
 * the attempt number, so a caller can tell a first-attempt result from a retried one.
 */
export const shortActivitySource: ModuleSource = (version) =>
  [
    "const { activityInfo } = require('@temporalio/activity');",
    `const version = ${JSON.stringify(version)};`,
    'exports.short = async (ms) => {',
    '  await new Promise((resolve) => setTimeout(resolve, ms));',
    '  return { version, attempt: activityInfo().attempt };',
    '};',
  ].join('\n');

/** An activity `echo` that returns its argument at once: the least work an activity can do. */
export const echoActivitySource: ModuleSource = (version) =>
  `// ${version}\nexports.echo = async (value) => value;\n`;

/**
 * An ES module of about `kilobytes` KiB, like a bundled activity package: a table of
 * strings that differs per version, and an activity `lookup` that reads it.
 */
export function bundledActivitySource(kilobytes: number): ModuleSource {
  return (version) => {
    const rows: string[] = [];
    let size = 0;
    for (let index = 0; size < kilobytes * 1024; index += 1) {
      const row = `  ${JSON.stringify(`${version}:${index}:${'x'.repeat(48)}`)},`;
      rows.push(row);
      size += row.length + 1;
    }
    return [
      `const version = ${JSON.stringify(version)};`,
      'const table = [',
      ...rows,
      '];',
      'export async function lookup(index) {',
      '  return { version, row: table[index % table.length] };',
      '}',
      '',
    ].join('\n');
  };
}
