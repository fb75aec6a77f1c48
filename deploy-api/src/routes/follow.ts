import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { requireRole, tokenDigest } from '../auth.js';
import type { AutoFollower } from '../auto-follow.js';
import type { FollowStatus, HookResult } from '../client/types.js';
import { ApiError } from '../errors.js';
import { RegistryHookBody, TaskQueueParams } from '../schemas.js';
import type { Store } from '../store/store.js';
import { assertPackageName, assertTaskQueue } from '../validation.js';

export interface FollowRoutesOptions {
  store: Store;
  follower: AutoFollower;
  /** Secret that the registry's notify hook sends as its bearer token. */
  hookToken: string;
}

/** Actor name of requests that authenticate with the hook token. */
const hookActor = 'registry-hook';

/** The registry notify hook, and the follow status of a task queue. */
export const followRoutes: FastifyPluginAsyncTypebox<FollowRoutesOptions> = async (
  app,
  { store, follower, hookToken },
) => {
  const requireDeploy = requireRole(store.tokens, 'deploy');
  const hookDigest = Buffer.from(tokenDigest(hookToken), 'hex');

  /** Accepts the hook token, or a deploy API token with role deploy or higher. */
  const requireHookToken = async (request: FastifyRequest) => {
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    const presented = match?.[1];
    // Both sha256 digests are 32 bytes, so timingSafeEqual cannot throw on a length mismatch.
    if (presented && timingSafeEqual(Buffer.from(tokenDigest(presented), 'hex'), hookDigest)) {
      request.actor = hookActor;
      return;
    }
    await requireDeploy(request);
  };

  app.post(
    '/v1/hooks/registry',
    {
      schema: {
        summary: 'Registry notify hook: a package was published',
        description:
          "Verdaccio's notify hook calls this after every publish with the body that the " +
          'content template of registry-config/config.yaml renders. The API then checks, in ' +
          'the background, every pin that follows the package, and returns 202 at once. ' +
          'Needs the hook token (DEPLOY_API_HOOK_TOKEN) or a token with role deploy.',
        tags: ['auto-follow'],
        security: [{ bearerAuth: [] }],
        body: RegistryHookBody,
        response: {
          202: Type.Ref('HookResult'),
          400: Type.Ref('Error'),
          401: Type.Ref('Error'),
          403: Type.Ref('Error'),
          413: Type.Ref('Error'),
        },
      },
      onRequest: requireHookToken,
    },
    async (request, reply): Promise<HookResult> => {
      const { name, publishedPackage, publishType } = request.body;
      assertPackageName(name);
      if (publishedPackage !== undefined && !publishedPackage.startsWith(`${name}@`)) {
        throw new ApiError(
          'INVALID_REQUEST',
          `invalid body.publishedPackage ${JSON.stringify(publishedPackage)}: it does not name ` +
            `package ${name}; send "${name}@<version>" or leave it out`,
        );
      }
      const following = await follower.followerCount(name);
      if (following > 0) follower.requestCheck(name, 'registry notification');
      request.log.info(
        { package: name, publishedPackage, publishType, following, actor: request.actor },
        'registry notification received',
      );
      reply.code(202);
      return { name, following };
    },
  );

  app.get(
    '/v1/task-queues/:taskQueue/follow',
    {
      schema: {
        summary: 'Following pins of a task queue and their latest check',
        description:
          'Each pin of the current revision that follows a range or dist-tag, with the ' +
          'outcome of its latest check (current, followed, held, skipped, rejected or ' +
          'failed) and the versions that a rollback on the queue moved away from.',
        tags: ['auto-follow'],
        params: TaskQueueParams,
        response: { 200: Type.Ref('FollowStatus'), 400: Type.Ref('Error') },
      },
    },
    async (request): Promise<FollowStatus> => {
      const { taskQueue } = request.params;
      assertTaskQueue(taskQueue);
      const state = await store.current(taskQueue);
      const packages: FollowStatus['packages'] = [];
      for (const pinned of state.packages) {
        if (pinned.follow === undefined) continue;
        packages.push({
          name: pinned.name,
          version: pinned.version,
          follow: pinned.follow,
          // NOTE: until the next check, this may describe the previous follow target
          // of the package, because a pin request does not start a check.
          lastCheck: (await store.follows.lastCheck(taskQueue, pinned.name)) ?? null,
          skippedVersions: await store.follows.skippedVersions(taskQueue, pinned.name),
        });
      }
      return { taskQueue, revision: state.revision, packages };
    },
  );
};
