#!/usr/bin/env node
// Runs the benchmarks one after another, each in its own process, so that one cannot
// leave memory or handles behind for the next.
//   npm run bench                      every benchmark
//   npm run bench -- throughput        one of them by name
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const benchmarks = [
  'pin-to-serve',
  'swap-under-load',
  'memory-after-swaps',
  'throughput',
  'cold-start',
  'long-poll-watchers',
] as const;

function runBenchmark(name: string): Promise<number> {
  const script = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  const child = spawn(process.execPath, [script], { stdio: 'inherit' });
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))),
  );
}

async function main(): Promise<void> {
  const requested = process.argv.slice(2);
  const unknown = requested.filter((name) => !(benchmarks as readonly string[]).includes(name));
  if (unknown.length > 0) {
    console.error(`unknown benchmark ${unknown.join(', ')}; choose from ${benchmarks.join(', ')}`);
    process.exit(2);
  }
  const selected = requested.length > 0 ? requested : benchmarks;
  const failed: string[] = [];
  for (const name of selected) {
    console.error(`\n== ${name}`);
    if ((await runBenchmark(name)) !== 0) failed.push(name);
  }
  if (failed.length > 0) {
    console.error(`failed: ${failed.join(', ')}`);
    process.exit(1);
  }
}

await main();
