import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requireRole } from '../auth.js';
import type { ChangeNotifier } from '../change-notifier.js';
import type {
  PinnedPackage,
  RevisionRecord,
  TaskQueueState,
  Veto,
  VetoResult,
} from '../client/types.js';
import { ApiError } from '../errors.js';
import type { RolloutController } from '../rollout-control.js';
import { rollbackSkips } from '../follow-selection.js';
import { LiftVetoBody, VetoBody } from '../schemas.js';
import type { RevisionDraft, Store } from '../store/store.js';
import { assertExactVersion, assertPackageName } from '../validation.js';

export interface VetoRoutesOptions {
  store: Store;
  notifier: ChangeNotifier;
  rollouts: RolloutController;
}

// A scoped name written plain (`@acme/payments`) spans two path segments, so every route
// exists twice: once with `:name` alone and once with `:scope/:name`. The OpenAPI
// document lists the first form, whose `name` may be URL-encoded (`@acme%2Fpayments`).
const VersionParams = Type.Object({
  name: Type.String({ description: 'Package name; a scoped name may be plain or URL-encoded' }),
  version: Type.String({ description: 'Exact version' }),
});
const ScopedVersionParams = Type.Object({
  scope: Type.String(),
  name: Type.String(),
  version: Type.String(),
});
const NameParams = Type.Object({
  name: Type.String({ description: 'Package name; a scoped name may be plain or URL-encoded' }),
});
const ScopedNameParams = Type.Object({ scope: Type.String(), name: Type.String() });

function packageName(params: { scope?: string; name: string }): string {
  const name = params.scope === undefined ? params.name : `${params.scope}/${params.name}`;
  assertPackageName(name);
  return name;
}

/**
 * Plans the revision that takes a vetoed version off a task queue: a rollback to the
 * newest earlier revision that contains no vetoed version, or when there is none, an unpin
 * of the package.
 */
async function planVetoRemoval(
  store: Store,
  current: TaskQueueState,
  veto: Veto,
): Promise<RevisionDraft> {
  const reason = `veto of ${veto.name}@${veto.version}: ${veto.reason}`;
  let earlier: RevisionRecord | undefined;
  for (const record of await store.revisions(current.taskQueue, current.revision)) {
    if (record.revision >= current.revision) continue;
    if (!(await containsVetoed(store, record.packages))) {
      earlier = record;
      break;
    }
  }
  if (earlier) {
    return {
      action: 'rollback',
      actor: veto.actor,
      reason,
      packages: earlier.packages,
      package: null,
      rollbackTo: earlier.revision,
      ...rollbackSkips(current.packages, earlier.packages),
    };
  }
  return {
    action: 'unpin',
    actor: veto.actor,
    reason,
    packages: current.packages.filter((entry) => entry.name !== veto.name),
    package: { name: veto.name, spec: null },
    rollbackTo: null,
  };
}

async function containsVetoed(store: Store, packages: readonly PinnedPackage[]): Promise<boolean> {
  for (const entry of packages) {
    if (await store.vetoes.get(entry.name, entry.version)) return true;
  }
  return false;
}

/** Vetoes of package versions: mark a version bad, take it off every queue, lift the mark. */
export const vetoRoutes: FastifyPluginAsyncTypebox<VetoRoutesOptions> = async (
  app,
  { store, notifier, rollouts },
) => {
  const requireAdmin = requireRole(store.tokens, 'admin');
  const writeErrors = {
    400: Type.Ref('Error'),
    401: Type.Ref('Error'),
    403: Type.Ref('Error'),
    413: Type.Ref('Error'),
  };

  const veto = async (request: {
    params: { scope?: string; name: string; version: string };
    body: { reason: string };
    actor: string;
    log: { info: (fields: object, message: string) => void };
  }): Promise<VetoResult> => {
    const name = packageName(request.params);
    const { version } = request.params;
    assertExactVersion(name, version);
    const changedStates: TaskQueueState[] = [];
    const result = await store.transaction(async (tx): Promise<VetoResult> => {
      const existing = await tx.vetoes.get(name, version);
      if (existing) {
        throw new ApiError(
          'VERSION_VETOED',
          `${name}@${version} is already vetoed by ${existing.actor} at ${existing.createdAt}: ` +
            `${existing.reason}; lift the veto first to change its reason`,
        );
      }
      const record: Veto = {
        name,
        version,
        reason: request.body.reason,
        actor: request.actor,
        createdAt: new Date().toISOString(),
      };
      await tx.vetoes.insert(record);
      await tx.audit.record(
        {
          actor: record.actor,
          action: 'veto',
          taskQueue: null,
          target: `${name}@${version}`,
          reason: record.reason,
          before: null,
          after: record,
        },
        record.createdAt,
      );
      const rolledBack: VetoResult['rolledBack'] = [];
      for (const taskQueue of await tx.queuesRunning(name, version)) {
        // A rollout whose candidate contains the version ends, as the revision replaces it.
        // NOTE: a queue whose stable revision, but not its candidate, contains the version
        // is not found here, so its stable workers keep running it until the rollout ends.
        await rollouts.endForVeto(
          tx,
          taskQueue,
          record.actor,
          `veto of ${name}@${version}: ${record.reason}`,
        );
        const appended = await tx.append(taskQueue, (current) =>
          planVetoRemoval(tx, current, record),
        );
        changedStates.push(appended.state);
        rolledBack.push({ taskQueue, revision: appended.state.revision });
      }
      return { ...record, rolledBack };
    });
    for (const state of changedStates) notifier.notify(state);
    request.log.info(
      { package: name, version, rolledBack: result.rolledBack },
      'package version vetoed',
    );
    return result;
  };

  const liftVeto = async (request: {
    params: { scope?: string; name: string; version: string };
    body: { reason?: string | undefined } | null | undefined;
    actor: string;
    log: { info: (fields: object, message: string) => void };
  }): Promise<Veto> => {
    const name = packageName(request.params);
    const { version } = request.params;
    assertExactVersion(name, version);
    const lifted = await store.transaction(async (tx) => {
      const existing = await tx.vetoes.get(name, version);
      if (!existing) {
        throw new ApiError(
          'VETO_NOT_FOUND',
          `${name}@${version} is not vetoed; list vetoes with GET /v1/packages/${name}/vetoes`,
        );
      }
      await tx.vetoes.delete(name, version);
      await tx.audit.record({
        actor: request.actor,
        action: 'veto-lift',
        taskQueue: null,
        target: `${name}@${version}`,
        reason: request.body?.reason ?? null,
        before: existing,
        after: null,
      });
      return existing;
    });
    request.log.info({ package: name, version }, 'package version veto lifted');
    return lifted;
  };

  const vetoSchema = {
    summary: 'Veto a package version',
    description:
      'Marks the version bad: no later pin or rollback may use it, and every task queue ' +
      'that runs it moves, in the same transaction, to its newest earlier revision without ' +
      'a vetoed version (or unpins the package when there is none). Needs an admin token.',
    tags: ['vetoes'],
    security: [{ bearerAuth: [] }],
    body: VetoBody,
    response: { 200: Type.Ref('VetoResult'), ...writeErrors, 409: Type.Ref('Error') },
  };
  app.post(
    '/v1/packages/:name/versions/:version/veto',
    { schema: { ...vetoSchema, params: VersionParams }, onRequest: requireAdmin },
    veto,
  );
  app.post(
    '/v1/packages/:scope/:name/versions/:version/veto',
    { schema: { ...vetoSchema, params: ScopedVersionParams, hide: true }, onRequest: requireAdmin },
    veto,
  );

  const liftSchema = {
    summary: 'Lift the veto of a package version',
    description:
      'The version may be pinned again; nothing is rolled forward. Needs an admin token.',
    tags: ['vetoes'],
    security: [{ bearerAuth: [] }],
    body: LiftVetoBody,
    response: { 200: Type.Ref('Veto'), ...writeErrors, 404: Type.Ref('Error') },
  };
  app.delete(
    '/v1/packages/:name/versions/:version/veto',
    { schema: { ...liftSchema, params: VersionParams }, onRequest: requireAdmin },
    liftVeto,
  );
  app.delete(
    '/v1/packages/:scope/:name/versions/:version/veto',
    { schema: { ...liftSchema, params: ScopedVersionParams, hide: true }, onRequest: requireAdmin },
    liftVeto,
  );

  const listSchema = {
    summary: 'Vetoed versions of a package',
    tags: ['vetoes'],
    response: { 200: Type.Ref('VetoList'), 400: Type.Ref('Error') },
  };
  const listVetoes = async (request: { params: { scope?: string; name: string } }) => {
    const name = packageName(request.params);
    return { name, vetoes: await store.vetoes.list(name) };
  };
  app.get(
    '/v1/packages/:name/vetoes',
    { schema: { ...listSchema, params: NameParams } },
    listVetoes,
  );
  app.get(
    '/v1/packages/:scope/:name/vetoes',
    { schema: { ...listSchema, params: ScopedNameParams, hide: true } },
    listVetoes,
  );
};
