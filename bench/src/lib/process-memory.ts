import { readdir, readFile } from 'node:fs/promises';

/** Resident set size of a process in bytes, from /proc/<pid>/status (Linux only); 0 once it has exited. */
export async function residentBytes(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Anonymous resident memory of a process in bytes (RssAnon of /proc/<pid>/status); 0 once it has exited. */
export async function residentAnonymousBytes(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^RssAnon:\s+(\d+) kB$/m.exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Process ids of every descendant of `pid`, read from /proc/<pid>/stat. */
export async function descendants(pid: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // The command name in brackets may contain spaces; the parent id follows the state.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const parent = Number(fields[1]);
      parents.set(parent, [...(parents.get(parent) ?? []), Number(entry)]);
    } catch {
      // The process exited while the table was read.
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const children = parents.get(queue.shift() as number) ?? [];
    found.push(...children);
    queue.push(...children);
  }
  return found;
}

/** Resident memory of a process alone and of the process with all its descendants. */
export async function treeResidentBytes(
  pid: number,
): Promise<{ own: number; total: number; processes: number }> {
  const own = await residentBytes(pid);
  const children = await descendants(pid);
  let total = own;
  for (const child of children) total += await residentBytes(child);
  return { own, total, processes: children.length + 1 };
}

export function mebibytes(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

/** Clock ticks per second of /proc/<pid>/stat times; 100 on Linux for x86 and arm64. */
const clockTicksPerSecond = 100;

/** CPU time (user and system) that a process has used, in ms; 0 once it has exited. */
export async function cpuMilliseconds(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the state.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerSecond;
  } catch {
    return 0;
  }
}

/** CPU time of a process and its live descendants, in ms. */
export async function treeCpuMilliseconds(pid: number): Promise<number> {
  let total = await cpuMilliseconds(pid);
  for (const child of await descendants(pid)) total += await cpuMilliseconds(child);
  return total;
}
