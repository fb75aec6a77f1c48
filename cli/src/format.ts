import type { FollowTarget, PackageDiff, PinnedPackage } from '@activity-deploy/deploy-api/client';

/** Lays out rows as columns separated by two spaces; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, column) =>
    Math.max(...all.map((row) => (row[column] ?? '').length)),
  );
  return all
    .map((row) =>
      row
        .map((cell, column) =>
          column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function packageLabel(entry: { name: string; version: string }): string {
  return `${entry.name}@${entry.version}`;
}

/** Shortens an SRI string to its algorithm and first characters: enough to compare by eye. */
export function shortIntegrity(integrity: string): string {
  return integrity.length > 24 ? `${integrity.slice(0, 23)}…` : integrity;
}

/** Describes a follow target, such as `follows ^1.0.0, min age 3600 s`. */
export function followLabel(follow: FollowTarget | null | undefined): string {
  if (!follow) return 'stays put';
  const age = follow.minAgeSeconds === undefined ? '' : `, min age ${follow.minAgeSeconds} s`;
  return `follows ${follow.spec}${age}`;
}

export function packageLines(packages: readonly PinnedPackage[]): string[] {
  if (packages.length === 0) return ['  (no packages)'];
  return packages.map((entry) => {
    const line = `  ${packageLabel(entry)}  ${shortIntegrity(entry.integrity)}`;
    return entry.follow ? `${line}  ${followLabel(entry.follow)}` : line;
  });
}

/** One line per change: `+` added, `-` removed, `~` version or follow target changed. */
export function diffLines(diff: PackageDiff): string[] {
  return [
    ...diff.added.map((entry) => `  + ${packageLabel(entry)}`),
    ...diff.removed.map((entry) => `  - ${packageLabel(entry)}`),
    ...diff.changed.map((entry) => `  ~ ${entry.name} ${entry.from} -> ${entry.to}`),
    ...(diff.followed ?? []).map(
      (entry) => `  ~ ${entry.name} ${followLabel(entry.from)} -> ${followLabel(entry.to)}`,
    ),
  ];
}

export function orDash(value: string | number | null | undefined): string {
  return value === null || value === undefined || value === '' ? '-' : String(value);
}
