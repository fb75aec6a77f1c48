import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LoadError } from '../errors.js';
import type { ActivityEntry, LocalPackage } from '../ipc.js';

type ActivityFunction = (...args: unknown[]) => unknown;

export interface LoadedActivities {
  functions: Record<string, ActivityFunction>;
  entries: ActivityEntry[];
}

/**
 * Imports each package's main module and collects the functions it exports as activities,
 * except those its pin disables. A CommonJS module's `module.exports` object counts as its
 * exports too. Two packages that export the same name make the whole set fail, because
 * Temporal routes an activity by name alone. A package that declares its names in
 * `temporalActivities` must export exactly those functions.
 */
export async function loadActivities(packages: readonly LocalPackage[]): Promise<LoadedActivities> {
  const functions: Record<string, ActivityFunction> = {};
  const entries: ActivityEntry[] = [];
  for (const local of packages) {
    const exported = await importPackage(local);
    const names = Object.keys(exported);
    if (names.length === 0) {
      throw new LoadError(
        'NO_ACTIVITIES',
        `${local.name}@${local.version} exports no functions from its main module; ` +
          'export each activity as a named function',
        local.name,
        local.version,
      );
    }
    await checkDeclaredActivities(local, names);
    const disabled = checkDisabledActivities(local, names);
    for (const name of names) {
      if (disabled.has(name)) continue;
      const owner = entries.find((entry) => entry.name === name);
      if (owner) {
        throw new LoadError(
          'ACTIVITY_NAME_CLASH',
          `activity ${name} is exported by both ${owner.package}@${owner.version} and ` +
            `${local.name}@${local.version}; rename it in one package or unpin one of them`,
          local.name,
          local.version,
        );
      }
      functions[name] = exported[name] as ActivityFunction;
      entries.push({ name, package: local.name, version: local.version });
    }
  }
  if (entries.length === 0) {
    throw new LoadError(
      'NO_ACTIVITIES',
      'every activity of the set is disabled; set disabled: true on the packages instead, ' +
        'or enable at least one activity',
    );
  }
  return { functions, entries };
}

/** Returns the disabled activities of `local`, and fails for a name it does not export. */
function checkDisabledActivities(local: LocalPackage, exported: string[]): Set<string> {
  const disabled = new Set(local.disabledActivities ?? []);
  const unknown = [...disabled].filter((name) => !exported.includes(name));
  if (unknown.length > 0) {
    throw new LoadError(
      'DISABLED_ACTIVITY_NOT_FOUND',
      `${local.name}@${local.version} does not export ${unknown.join(', ')}, which its pin ` +
        `lists in disabledActivities; it exports ${exported.join(', ')}. Fix the list with ` +
        'PATCH on the package',
      local.name,
      local.version,
    );
  }
  return disabled;
}

/**
 * Throws DECLARED_ACTIVITIES_MISMATCH when the package.json field `temporalActivities`,
 * which the deploy API checks for name clashes at pin time, differs from the functions the
 * module exports. A package without the field passes.
 */
async function checkDeclaredActivities(local: LocalPackage, exported: string[]): Promise<void> {
  const manifestFile = path.join(local.root, 'node_modules', local.name, 'package.json');
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as {
    temporalActivities?: unknown;
  };
  const declared = manifest.temporalActivities;
  if (declared === undefined) return;
  const problems: string[] = [];
  if (!Array.isArray(declared) || !declared.every((entry) => typeof entry === 'string')) {
    problems.push(`temporalActivities is ${JSON.stringify(declared)}, not an array of names`);
  } else {
    const missing = declared.filter((name) => !exported.includes(name));
    const undeclared = exported.filter((name) => !declared.includes(name));
    if (missing.length > 0) problems.push(`declared but not exported: ${missing.join(', ')}`);
    if (undeclared.length > 0) problems.push(`exported but not declared: ${undeclared.join(', ')}`);
  }
  if (problems.length === 0) return;
  throw new LoadError(
    'DECLARED_ACTIVITIES_MISMATCH',
    `${local.name}@${local.version} declares activities in package.json that differ from ` +
      `its exports (${problems.join('; ')}); rebuild it with npm run build, which writes ` +
      'temporalActivities, and publish a new version',
    local.name,
    local.version,
  );
}

/**
 * Errors that failed an import. On Node 20, a CommonJS module that throws while an ES
 * module imports it rejects the import() and also raises unhandledRejection with the
 * same error object, so the generation needs to tell that second report apart.
 */
const importErrors = new WeakSet<object>();

/** True for an error that an import of a package already failed with. */
export function isImportError(reason: unknown): boolean {
  return typeof reason === 'object' && reason !== null && importErrors.has(reason);
}

async function importPackage(local: LocalPackage): Promise<Record<string, ActivityFunction>> {
  let namespace: Record<string, unknown>;
  try {
    const entry = (await import(pathToFileURL(local.entryFile).href)) as {
      default: Record<string, unknown>;
    };
    namespace = entry.default;
  } catch (error) {
    if (typeof error === 'object' && error !== null) importErrors.add(error);
    throw new LoadError(
      'IMPORT_FAILED',
      `importing ${local.name}@${local.version} failed: ${(error as Error)?.message ?? String(error)}`,
      local.name,
      local.version,
      { cause: error },
    );
  }
  const exported: Record<string, ActivityFunction> = {};
  for (const [name, value] of Object.entries(namespace)) {
    if (name !== 'default' && typeof value === 'function')
      exported[name] = value as ActivityFunction;
  }
  // For CommonJS, `default` is module.exports; static analysis may have missed some names.
  const fallback = namespace.default;
  if (fallback !== null && typeof fallback === 'object') {
    for (const [name, value] of Object.entries(fallback)) {
      if (!(name in exported) && typeof value === 'function')
        exported[name] = value as ActivityFunction;
    }
  }
  return exported;
}
