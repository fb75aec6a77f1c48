import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requireRole } from '../auth.js';
import type {
  PackageConfig,
  PackageDiff,
  PackageSettings,
  PinnedPackage,
  RolloutRequest,
  TaskQueueState,
  WriteResult,
} from '../client/types.js';
import type { ChangeNotifier } from '../change-notifier.js';
import { ApiError } from '../errors.js';
import { rollbackSkips } from '../follow-selection.js';
import {
  assertConfigSize,
  sameFollow,
  samePin,
  sameSettings,
  settingsOf,
  withSettings,
} from '../package-settings.js';
import {
  assertCompatible,
  assertNoActivityClash,
  assertNotSkipped,
  assertNotVetoed,
  assertNoVetoedPackages,
  parseDeclaredActivities,
} from '../pin-checks.js';
import type { RegistryResolver } from '../registry-resolver.js';
import type { RolloutController } from '../rollout-control.js';
import {
  ConfigureBody,
  HistoryQuery,
  PackageParams,
  PinBody,
  RollbackBody,
  StateQuery,
  TaskQueueParams,
  UnpinBody,
  WriteQuery,
} from '../schemas.js';
import type { AppendResult, RevisionPlan, Store } from '../store/store.js';
import { etagMatches, stateEtag } from '../state-etag.js';
import {
  assertPackageName,
  assertTaskQueue,
  parseFollow,
  parseVersionSpec,
} from '../validation.js';

export interface TaskQueueRoutesOptions {
  store: Store;
  resolver: RegistryResolver;
  notifier: ChangeNotifier;
  rollouts: RolloutController;
  /** A worker whose latest report is older than this is left out of compatibility checks. */
  staleAfterMs: number;
}

const errorResponses = {
  400: Type.Ref('Error'),
  404: Type.Ref('Error'),
  409: Type.Ref('Error'),
  412: Type.Ref('Error'),
  503: Type.Ref('Error'),
};

/** JSON of states that the notifier hands to many long-polls at once, by state object. */
const sharedJson = new WeakMap<object, string>();

function serializeShared(state: unknown): string {
  let json = sharedJson.get(state as object);
  if (json === undefined) {
    json = JSON.stringify(state);
    sharedJson.set(state as object, json);
  }
  return json;
}

/** Errors of a write, which also needs a token: 401 without one, 403 with too little. */
const writeErrorResponses = {
  ...errorResponses,
  401: Type.Ref('Error'),
  403: Type.Ref('Error'),
  413: Type.Ref('Error'),
};

export { stateEtag } from '../state-etag.js';

export const taskQueueRoutes: FastifyPluginAsyncTypebox<TaskQueueRoutesOptions> = async (
  app,
  { store, resolver, notifier, rollouts, staleAfterMs },
) => {
  const requireDeploy = requireRole(store.tokens, 'deploy');

  /**
   * Runs a write: rejects it while a rollout runs, checks If-Match against the state
   * inside the transaction, stores the revision unless `?dryRun=true`, starts the
   * rollout that the body asks for in the same transaction, and wakes the long-polls of
   * the queue.
   */
  const write = async (
    request: {
      headers: FastifyRequest['headers'];
      query: { dryRun?: boolean | undefined };
      body?: { rollout?: RolloutRequest | undefined } | null | undefined;
      actor: string;
    },
    reply: FastifyReply,
    taskQueue: string,
    plan: RevisionPlan,
  ): Promise<WriteResult> => {
    const rolloutRequest = request.body?.rollout;
    const ifMatch = request.headers['if-match'];
    const dryRun = request.query.dryRun === true;
    if (rolloutRequest) rollouts.validateRequest(rolloutRequest);
    const { result, rollout } = await store.transaction(async (tx) => {
      const appended = await tx.append(
        taskQueue,
        async (current) => {
          await rollouts.assertNoRollout(taskQueue, tx);
          if (ifMatch !== undefined && !etagMatches(ifMatch, stateEtag(current))) {
            throw new ApiError(
              'PRECONDITION_FAILED',
              `task queue ${taskQueue} is at revision ${current.revision} (ETag ` +
                `${stateEtag(current)}), which does not match If-Match ${ifMatch}; ` +
                'read the state again and retry',
            );
          }
          return plan(current, tx);
        },
        { dryRun },
      );
      const started =
        rolloutRequest && appended.record
          ? await rollouts.begin(
              tx,
              taskQueue,
              rolloutRequest,
              { stable: appended.previous.revision, candidate: appended.state.revision },
              request.actor,
              dryRun,
            )
          : undefined;
      return { result: appended, rollout: started };
    });
    const state: TaskQueueState = rollout
      ? { ...result.state, rollout: { ...rollout, stablePackages: result.previous.packages } }
      : result.state;
    if (result.record && !result.dryRun) {
      if (rollout) rollouts.started(rollout);
      notifier.notify(state);
    }
    if (!result.dryRun) reply.header('etag', stateEtag(state));
    return {
      ...state,
      changed: result.record !== null,
      dryRun: result.dryRun,
      diff: diffPackages(result),
    };
  };

  app.get(
    '/v1/task-queues/:taskQueue',
    {
      schema: {
        summary: 'Desired state of a task queue',
        description:
          'Returns the packages the queue must run. With If-None-Match set to the current ETag ' +
          'the response is 304; adding ?wait=SECONDS holds the request open until the state ' +
          'changes or the time is up (long-poll). A queue that was never changed is revision 0. ' +
          'While a rollout runs, the state also has a rollout object, and every step, pause ' +
          'or resume changes the ETag.',
        tags: ['task queues'],
        params: TaskQueueParams,
        querystring: StateQuery,
        response: {
          200: Type.Ref('TaskQueueState'),
          // No body, so no Content-Length: a 304 must not state the length of "null".
          304: Type.Unsafe<void>({ description: 'The state still matches If-None-Match' }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { taskQueue } = request.params;
      assertTaskQueue(taskQueue);
      let state = await rollouts.readState(taskQueue);
      let woken = false;
      const ifNoneMatch = request.headers['if-none-match'];
      const waitSeconds = request.query.wait ?? 0;
      if (waitSeconds > 0 && etagMatches(ifNoneMatch, stateEtag(state))) {
        // The listener goes as soon as the wait ends: a close after the response is normal.
        const wait = notifier.waitForChange(taskQueue, stateEtag(state), waitSeconds * 1000);
        request.raw.once('close', wait.cancel);
        const changed = await wait.changed;
        request.raw.off('close', wait.cancel);
        woken = changed !== null;
        state = changed ?? (await rollouts.readState(taskQueue));
      }
      const etag = stateEtag(state);
      reply.header('etag', etag).header('cache-control', 'no-cache');
      if (etagMatches(ifNoneMatch, etag)) return reply.code(304).send();
      // Every long-poll that one write wakes gets the same state object: serialize it once.
      if (woken) reply.serializer(serializeShared);
      return state;
    },
  );

  app.get(
    '/v1/task-queues/:taskQueue/revisions',
    {
      schema: {
        summary: 'Revision history of a task queue, newest first',
        tags: ['task queues'],
        params: TaskQueueParams,
        querystring: HistoryQuery,
        response: { 200: Type.Ref('RevisionList'), ...errorResponses },
      },
    },
    async (request) => {
      const { taskQueue } = request.params;
      assertTaskQueue(taskQueue);
      const revisions = await store.revisions(taskQueue, request.query.limit ?? 100);
      return { taskQueue, revisions };
    },
  );

  app.put(
    '/v1/task-queues/:taskQueue/packages/*',
    {
      schema: {
        summary: 'Pin a package to a version',
        description:
          'Resolves the version, range or dist-tag against the registry and records the exact ' +
          'version and its integrity in a new revision. `config` replaces the settings of the ' +
          'pin; without it, the settings of the current pin are kept. Pinning the version ' +
          'already pinned, with the same settings, changes nothing and returns changed: false. ' +
          'A range skips vetoed versions. The pin is rejected when the version is vetoed, when ' +
          'it declares an activity name that another package of the queue declares, or when ' +
          "its @temporalio/activity peer range or engines.node excludes what the queue's " +
          'workers report. With rollout, the new revision reaches the workers in steps; this ' +
          'and every other write is rejected with ROLLOUT_IN_PROGRESS while a rollout runs. ' +
          'With follow: true the API keeps resolving the range or dist-tag and records a new ' +
          'revision (actor auto-follow) when it selects another version, except while a ' +
          'rollout runs; a pin without follow stops following.',
        tags: ['packages'],
        security: [{ bearerAuth: [] }],
        params: PackageParams,
        querystring: WriteQuery,
        body: PinBody,
        response: { 200: Type.Ref('WriteResult'), ...writeErrorResponses },
      },
      onRequest: requireDeploy,
    },
    async (request, reply) => {
      const actor = request.actor;
      const { taskQueue, '*': name } = request.params;
      assertTaskQueue(taskQueue);
      assertPackageName(name);
      const { version: spec, reason, follow: followRequested, minAgeSeconds } = request.body;
      const config = bodyConfig(request.body);
      const kind = parseVersionSpec(name, spec);
      const follow = parseFollow(name, spec, kind, followRequested, minAgeSeconds);
      if (config !== undefined) assertConfigSize(name, config);
      const avoid = (await store.vetoes.list(name)).map((veto) => veto.version);
      // A following range skips what the queue rolled back from, as the follower will.
      if (follow) {
        const skips = await store.follows.skippedVersions(taskQueue, name);
        avoid.push(...skips.map((skip) => skip.version));
      }
      const resolved = await resolver.resolve(name, spec, kind, avoid);
      let pinned: PinnedPackage = {
        name,
        version: resolved.version,
        integrity: resolved.integrity,
        ...(follow ? { follow } : {}),
      };
      const declared = parseDeclaredActivities(name, pinned.version, resolved.declaredActivities);

      const result = await write(request, reply, taskQueue, async (current, tx) => {
        const existing = current.packages.find((entry) => entry.name === name);
        const settings = existing ? settingsOf(existing) : {};
        if (config !== undefined) settings.config = config;
        pinned = withSettings(pinned, settings);
        if (existing && samePin(existing, pinned)) return null;
        // Checked again here, because a veto may have arrived while the registry was resolving.
        await assertNotVetoed(tx, pinned, spec);
        if (follow) await assertNotSkipped(tx, taskQueue, pinned, spec);
        await assertNoActivityClash(tx, current, pinned, declared);
        await assertCompatible(tx, taskQueue, pinned, resolved, staleAfterMs);
        return {
          action: 'pin',
          actor,
          reason: reason ?? null,
          packages: [...current.packages.filter((entry) => entry.name !== name), pinned],
          package: { name, spec },
          rollbackTo: null,
          declaredActivities: declared && { name, version: pinned.version, activities: declared },
          // Pinning a version by its number is how a user lets auto-follow use it again.
          unskipVersions: kind === 'version' ? [{ name, version: pinned.version }] : undefined,
        };
      });
      request.log.info(
        {
          taskQueue,
          package: name,
          spec,
          version: pinned.version,
          follow: follow?.spec,
          revision: result.revision,
        },
        result.changed ? 'package pinned' : 'package already pinned',
      );
      return result;
    },
  );

  app.patch(
    '/v1/task-queues/:taskQueue/packages/*',
    {
      schema: {
        summary: 'Change the settings of a pinned package',
        description:
          'Sets the config, disables the package, or disables some of its activities, in a new ' +
          'revision with action configure. The pinned version stays as it is. Each field given ' +
          'replaces the current value; fields left out keep theirs.',
        tags: ['packages'],
        security: [{ bearerAuth: [] }],
        params: PackageParams,
        querystring: WriteQuery,
        body: ConfigureBody,
        response: { 200: Type.Ref('WriteResult'), ...writeErrorResponses },
      },
      onRequest: requireDeploy,
    },
    async (request, reply) => {
      const actor = request.actor;
      const { taskQueue, '*': name } = request.params;
      assertTaskQueue(taskQueue);
      assertPackageName(name);
      const { disabled, disabledActivities, reason } = request.body;
      const config = bodyConfig(request.body);
      if (config === undefined && disabled === undefined && disabledActivities === undefined) {
        throw new ApiError(
          'INVALID_REQUEST',
          'invalid body: it sets no setting; give at least one of config, disabled or ' +
            'disabledActivities',
        );
      }
      if (config !== undefined) assertConfigSize(name, config);
      const result = await write(request, reply, taskQueue, (current) => {
        const existing = current.packages.find((entry) => entry.name === name);
        if (!existing) {
          throw new ApiError(
            'PACKAGE_NOT_PINNED',
            `package ${name} is not pinned on task queue ${taskQueue} (revision ` +
              `${current.revision}); pin a version first`,
          );
        }
        const settings: PackageSettings = settingsOf(existing);
        if (config !== undefined) settings.config = config;
        if (disabled !== undefined) settings.disabled = disabled;
        if (disabledActivities !== undefined) settings.disabledActivities = disabledActivities;
        const configured = withSettings(existing, settings);
        if (samePin(existing, configured)) return null;
        return {
          action: 'configure',
          actor,
          reason: reason ?? null,
          packages: [...current.packages.filter((entry) => entry.name !== name), configured],
          package: { name, spec: null },
          rollbackTo: null,
        };
      });
      request.log.info(
        { taskQueue, package: name, revision: result.revision, dryRun: result.dryRun },
        result.changed ? 'package configured' : 'package settings unchanged',
      );
      return result;
    },
  );

  app.delete(
    '/v1/task-queues/:taskQueue/packages/*',
    {
      schema: {
        summary: 'Unpin a package',
        description: 'Removes the package from the task queue in a new revision.',
        tags: ['packages'],
        security: [{ bearerAuth: [] }],
        params: PackageParams,
        querystring: WriteQuery,
        body: UnpinBody,
        response: { 200: Type.Ref('WriteResult'), ...writeErrorResponses },
      },
      onRequest: requireDeploy,
    },
    async (request, reply) => {
      const actor = request.actor;
      const { taskQueue, '*': name } = request.params;
      assertTaskQueue(taskQueue);
      assertPackageName(name);
      const result = await write(request, reply, taskQueue, (current) => {
        if (!current.packages.some((entry) => entry.name === name)) {
          throw new ApiError(
            'PACKAGE_NOT_PINNED',
            `package ${name} is not pinned on task queue ${taskQueue} (revision ${current.revision})`,
          );
        }
        return {
          action: 'unpin',
          actor,
          reason: request.body?.reason ?? null,
          packages: current.packages.filter((entry) => entry.name !== name),
          package: { name, spec: null },
          rollbackTo: null,
        };
      });
      request.log.info({ taskQueue, package: name, revision: result.revision }, 'package unpinned');
      return result;
    },
  );

  app.post(
    '/v1/task-queues/:taskQueue/rollback',
    {
      schema: {
        summary: 'Roll back to the package set of an earlier revision',
        description:
          'Creates a new revision whose packages, with their settings, equal those of the given ' +
          'revision, by default the one before the current. History is never rewritten. A ' +
          'revision that contains a vetoed version is rejected with VERSION_VETOED.',
        tags: ['task queues'],
        security: [{ bearerAuth: [] }],
        params: TaskQueueParams,
        querystring: WriteQuery,
        body: RollbackBody,
        response: { 200: Type.Ref('WriteResult'), ...writeErrorResponses },
      },
      onRequest: requireDeploy,
    },
    async (request, reply) => {
      const actor = request.actor;
      const { taskQueue } = request.params;
      assertTaskQueue(taskQueue);
      const requested = request.body?.revision;
      const result = await write(request, reply, taskQueue, async (current, tx) => {
        const target = requested ?? current.revision - 1;
        if (requested === undefined && target < 1) {
          throw new ApiError(
            'NOTHING_TO_ROLL_BACK',
            `task queue ${taskQueue} has ${current.revision} revision(s), so there is no earlier ` +
              'one to roll back to; pin a version instead',
          );
        }
        const record = await tx.revision(taskQueue, target);
        if (!record) {
          throw new ApiError(
            'REVISION_NOT_FOUND',
            `revision ${target} of task queue ${taskQueue} does not exist; ` +
              `the current revision is ${current.revision}`,
          );
        }
        if (samePackages(record.packages, current.packages)) return null;
        await assertNoVetoedPackages(tx, taskQueue, target, record.packages);
        return {
          action: 'rollback',
          actor,
          reason: request.body?.reason ?? null,
          packages: record.packages,
          package: null,
          rollbackTo: target,
          ...rollbackSkips(current.packages, record.packages),
        };
      });
      request.log.info(
        { taskQueue, revision: result.revision, dryRun: result.dryRun },
        'task queue rolled back',
      );
      return result;
    },
  );
};

/** Returns the body's config with the type that PackageConfigSchema checked. */
// NOTE: the type provider infers `unknown` for the values of the Type.Unsafe schema,
// although Static<typeof PackageConfigSchema> is right, hence this one cast.
function bodyConfig(body: { config?: unknown }): PackageConfig | undefined {
  return body.config as PackageConfig | undefined;
}

function samePackages(a: readonly PinnedPackage[], b: readonly PinnedPackage[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((entry) => b.some((other) => samePin(other, entry)));
}

function diffPackages({ previous, state }: AppendResult): PackageDiff {
  const before = new Map(previous.packages.map((entry) => [entry.name, entry]));
  const after = new Map(state.packages.map((entry) => [entry.name, entry]));
  const diff: PackageDiff = {
    added: state.packages.filter((entry) => !before.has(entry.name)),
    removed: previous.packages.filter((entry) => !after.has(entry.name)),
    changed: state.packages.flatMap((entry) => {
      const old = before.get(entry.name);
      return old && old.version !== entry.version
        ? [{ name: entry.name, from: old.version, to: entry.version }]
        : [];
    }),
  };
  // Left out when no settings changed, so that diffs look as they did before settings.
  const configured = state.packages.flatMap((entry) => {
    const old = before.get(entry.name);
    return old && !sameSettings(old, entry)
      ? [{ name: entry.name, from: settingsOf(old), to: settingsOf(entry) }]
      : [];
  });
  if (configured.length > 0) diff.configured = configured;
  // Like settings, a follow target counts as changed only on a package that stays.
  const followed = state.packages.flatMap((entry) => {
    const old = before.get(entry.name);
    return old && !sameFollow(old, entry)
      ? [{ name: entry.name, from: old.follow ?? null, to: entry.follow ?? null }]
      : [];
  });
  if (followed.length > 0) diff.followed = followed;
  return diff;
}
