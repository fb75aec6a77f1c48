import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requireRole } from '../auth.js';
import type { Rollout, RolloutList, RolloutReport } from '../client/types.js';
import { ApiError } from '../errors.js';
import type { RolloutController } from '../rollout-control.js';
import { HistoryQuery, RolloutActionBody, RolloutParams, TaskQueueParams } from '../schemas.js';
import type { Store } from '../store/store.js';
import { stateEtag } from '../state-etag.js';
import { assertTaskQueue } from '../validation.js';

export interface RolloutRoutesOptions {
  store: Store;
  rollouts: RolloutController;
}

const readErrors = { 400: Type.Ref('Error'), 404: Type.Ref('Error') };
const actionErrors = {
  400: Type.Ref('Error'),
  401: Type.Ref('Error'),
  403: Type.Ref('Error'),
  409: Type.Ref('Error'),
  412: Type.Ref('Error'),
  413: Type.Ref('Error'),
};

type Action = 'pause' | 'resume' | 'promote' | 'abort';

const actionDocs: Record<Action, { summary: string; description: string }> = {
  pause: {
    summary: 'Pause the running rollout',
    description:
      'Stops the step timer; the workers keep what they run. Resume keeps the time the step ' +
      'had left. Fails with ROLLOUT_PAUSED when the rollout is already paused.',
  },
  resume: {
    summary: 'Resume a paused rollout',
    description:
      'A step paused by hand continues with the time it had left; a step without ' +
      'pauseSeconds moves on to the next step, or promotes after the last one. Fails with ' +
      'ROLLOUT_NOT_PAUSED when the rollout is progressing.',
  },
  promote: {
    summary: 'Promote the candidate now',
    description:
      'Every worker moves to the candidate revision, which becomes the stable one, and the ' +
      'rollout ends. Writes to the queue are accepted again.',
  },
  abort: {
    summary: 'Abort the running rollout',
    description:
      'Every worker returns to the stable packages: a new rollback revision restores them, ' +
      'with the token as its actor and the reason in the history.',
  },
};

/** Gradual rollouts of a task queue: read them and pause, resume, promote or abort one. */
export const rolloutRoutes: FastifyPluginAsyncTypebox<RolloutRoutesOptions> = async (
  app,
  { store, rollouts },
) => {
  const requireDeploy = requireRole(store.tokens, 'deploy');

  app.get(
    '/v1/task-queues/:taskQueue/rollout',
    {
      schema: {
        summary: 'The newest rollout of a task queue, running or ended',
        description:
          'With the activity calls of the candidate and the stable revision that the workers ' +
          'reported since it started, and which workers run which revision.',
        tags: ['rollouts'],
        params: TaskQueueParams,
        response: { 200: Type.Ref('RolloutReport'), ...readErrors },
      },
    },
    async (request): Promise<RolloutReport> => {
      const { taskQueue } = request.params;
      assertTaskQueue(taskQueue);
      const rollout = (await store.rollouts.list(taskQueue, 1))[0];
      if (!rollout) {
        throw new ApiError(
          'ROLLOUT_NOT_FOUND',
          `task queue ${taskQueue} has never had a rollout; start one with a write that has ` +
            'a rollout object',
        );
      }
      return rollouts.report(rollout);
    },
  );

  app.get(
    '/v1/task-queues/:taskQueue/rollouts',
    {
      schema: {
        summary: 'Rollouts of a task queue, newest first',
        tags: ['rollouts'],
        params: TaskQueueParams,
        querystring: HistoryQuery,
        response: { 200: Type.Ref('RolloutList'), 400: Type.Ref('Error') },
      },
    },
    async (request): Promise<RolloutList> => {
      const { taskQueue } = request.params;
      assertTaskQueue(taskQueue);
      const list = await store.rollouts.list(taskQueue, request.query.limit ?? 100);
      return { taskQueue, rollouts: list };
    },
  );

  app.get(
    '/v1/task-queues/:taskQueue/rollouts/:revision',
    {
      schema: {
        summary: 'One rollout, named by its candidate revision',
        tags: ['rollouts'],
        params: RolloutParams,
        response: { 200: Type.Ref('RolloutReport'), ...readErrors },
      },
    },
    async (request): Promise<RolloutReport> => {
      const { taskQueue, revision } = request.params;
      assertTaskQueue(taskQueue);
      const rollout = await store.rollouts.get(taskQueue, revision);
      if (!rollout) {
        throw new ApiError(
          'ROLLOUT_NOT_FOUND',
          `task queue ${taskQueue} has no rollout of revision ${revision}; list them with ` +
            `GET /v1/task-queues/${taskQueue}/rollouts`,
        );
      }
      return rollouts.report(rollout);
    },
  );

  for (const action of ['pause', 'resume', 'promote', 'abort'] as const) {
    app.post(
      `/v1/task-queues/:taskQueue/rollout/${action}`,
      {
        schema: {
          ...actionDocs[action],
          description:
            `${actionDocs[action].description} If-Match with the ETag of the state makes the ` +
            'call fail with 412 when the rollout or the queue has moved on. Fails with ' +
            'NO_ROLLOUT_RUNNING when no rollout runs.',
          tags: ['rollouts'],
          security: [{ bearerAuth: [] }],
          params: TaskQueueParams,
          body: RolloutActionBody,
          response: { 200: Type.Ref('Rollout'), ...actionErrors },
        },
        onRequest: requireDeploy,
      },
      async (request, reply): Promise<Rollout> => {
        const { taskQueue } = request.params;
        assertTaskQueue(taskQueue);
        const reason = request.body?.reason ?? null;
        const ifMatch = request.headers['if-match'];
        const rollout = await rollouts[action](taskQueue, request.actor, reason, ifMatch);
        reply.header('etag', stateEtag(await rollouts.readState(taskQueue)));
        return rollout;
      },
    );
  }
};
