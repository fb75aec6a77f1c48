import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GenerationProcess } from '../src/supervisor/generation-process.js';
import { WorkerMetrics, maxVersionsWithSeries } from '../src/supervisor/worker-metrics.js';

/** Stands in for a generation process: observeActivity reads only its activity list. */
function generationServing(version: string): GenerationProcess {
  return {
    activities: [{ name: 'greet', package: '@acme/greetings', version }],
  } as unknown as GenerationProcess;
}

test('execution series stay bounded across versions', async () => {
  const metrics = new WorkerMetrics(() => undefined);
  const versionCount = maxVersionsWithSeries + 5;
  for (let minor = 0; minor < versionCount; minor += 1) {
    const generation = generationServing(`1.${minor}.0`);
    metrics.observeActivity(generation, {
      activity: 'greet',
      outcome: 'completed',
      durationMs: 5,
    });
  }
  const text = await metrics.registry.metrics();
  const counted = text.split('\n').filter((line) => line.startsWith('activity_executions_total{'));
  assert.equal(counted.length, maxVersionsWithSeries);
  assert.doesNotMatch(text, /version="1\.0\.0"/);
  assert.doesNotMatch(text, /version="1\.4\.0"/);
  assert.match(text, /activity_executions_total\{[^}]*version="1\.5\.0"[^}]*\} 1/);
  assert.match(text, /activity_execution_duration_seconds_count\{[^}]*version="1\.24\.0"/);
});

test('an active version keeps its series', async () => {
  const metrics = new WorkerMetrics(() => undefined);
  const sample = { activity: 'greet', outcome: 'completed' as const, durationMs: 5 };
  metrics.observeActivity(generationServing('1.0.0'), sample);
  for (let minor = 1; minor <= maxVersionsWithSeries; minor += 1) {
    metrics.observeActivity(generationServing(`1.${minor}.0`), sample);
    // 1.0.0 keeps serving calls between the others, so it stays among the recent versions.
    metrics.observeActivity(generationServing('1.0.0'), sample);
  }
  const text = await metrics.registry.metrics();
  const line = `activity_executions_total{activity="greet",package="@acme/greetings",version="1.0.0",outcome="completed"}`;
  assert.ok(text.includes(`${line} ${maxVersionsWithSeries + 1}`), 'all 1.0.0 calls counted');
  assert.doesNotMatch(text, /version="1\.1\.0"/);
});
