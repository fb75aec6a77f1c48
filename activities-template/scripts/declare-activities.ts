// Writes the names of the functions that the built package exports into package.json as
// `temporalActivities`. The deploy API reads that list from the registry to reject a pin
// whose activity names clash with another package on the same task queue, and the worker
// refuses a package whose list differs from its exports. `npm run build` runs this after
// tsc, so the list always matches the code that is published.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const manifestFile = path.resolve('package.json');
const original = await readFile(manifestFile, 'utf8');
const manifest = JSON.parse(original) as {
  name: string;
  main?: string;
  exports?: unknown;
  temporalActivities?: string[];
};

// Import the package by its own name, as the worker does, so that `exports` or `main`
// picks the same entry point.
const specifier = manifest.exports
  ? manifest.name
  : pathToFileURL(path.resolve(manifest.main ?? 'index.js')).href;
const namespace = (await import(specifier)) as Record<string, unknown>;

const names = new Set<string>();
for (const [name, value] of Object.entries(namespace)) {
  if (name !== 'default' && typeof value === 'function') names.add(name);
}
// A CommonJS module's exports object is its default export.
const commonJsExports = namespace.default;
if (commonJsExports !== null && typeof commonJsExports === 'object') {
  for (const [name, value] of Object.entries(commonJsExports)) {
    if (typeof value === 'function') names.add(name);
  }
}
if (names.size === 0) {
  console.error(`${manifest.name} exports no functions from ${specifier}; export each activity`);
  process.exit(1);
}

const declared = [...names].sort();
manifest.temporalActivities = declared;
const updated = `${JSON.stringify(manifest, null, 2)}\n`;
if (updated !== original) await writeFile(manifestFile, updated);
console.log(`temporalActivities: ${declared.join(', ')}`);
