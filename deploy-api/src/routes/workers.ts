import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requireRole } from '../auth.js';
import { workerTarget } from '../client/rollout-bucket.js';
import type { WorkerList } from '../client/types.js';
import { ApiError } from '../errors.js';
import type { RolloutController } from '../rollout-control.js';
import type { Store } from '../store/store.js';
import { assertTaskQueue } from '../validation.js';

export interface WorkerRoutesOptions {
  store: Store;
  rollouts: RolloutController;
  /** A worker whose latest report is older than this is listed as stale. */
  staleAfterMs: number;
}

const workerIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$/;

const LastError = Type.Union([
  Type.Object(
    {
      code: Type.String({ maxLength: 100 }),
      message: Type.String({ maxLength: 4000 }),
      revision: Type.Integer({ minimum: 0 }),
      package: Type.Optional(Type.String({ maxLength: 214 })),
      version: Type.Optional(Type.String({ maxLength: 256 })),
    },
    { additionalProperties: false },
  ),
  Type.Null(),
]);

const reportProperties = {
  state: Type.String({ maxLength: 50 }),
  appliedRevision: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  desiredRevision: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  versions: Type.Object(
    { node: Type.String({ maxLength: 50 }), temporalSdk: Type.String({ maxLength: 50 }) },
    { additionalProperties: false },
  ),
  lastError: LastError,
  activityCalls: Type.Optional(
    Type.Array(
      Type.Object(
        {
          revision: Type.Integer({ minimum: 0 }),
          completed: Type.Integer({ minimum: 0 }),
          failed: Type.Integer({ minimum: 0 }),
        },
        { additionalProperties: false },
      ),
      {
        maxItems: 50,
        description:
          'Finished activity calls since the worker started, by revision; the deploy API ' +
          'compares the candidate of a rollout with the stable revision',
      },
    ),
  ),
};

const WorkerReportBody = Type.Object(reportProperties, { additionalProperties: false });

const WorkerRecordSchema = Type.Object({
  workerId: Type.String(),
  reportedAt: Type.String({ format: 'date-time' }),
  stale: Type.Boolean(),
  targetRevision: Type.Integer({
    minimum: 0,
    description:
      "Revision the worker should run: the queue's, or during a rollout the candidate or the " +
      'stable one, as its hash bucket selects',
  }),
  ...reportProperties,
});

const WorkerParams = Type.Object({
  taskQueue: Type.String(),
  workerId: Type.String({ description: 'The worker id (WORKER_ID of the worker)' }),
});

/** Routes through which workers report what they run, and people see the fleet converge. */
export const workerRoutes: FastifyPluginAsyncTypebox<WorkerRoutesOptions> = async (
  app,
  { store, rollouts, staleAfterMs },
) => {
  app.put(
    '/v1/task-queues/:taskQueue/workers/:workerId',
    {
      schema: {
        summary: 'Report what a worker runs',
        description:
          'Workers send this after every change and periodically; the latest report replaces ' +
          'the previous one. Needs a token of any role that may act on the task queue. During ' +
          'a rollout, a report of a failure of the candidate revision aborts it, and so do ' +
          'activity calls whose failure rate exceeds its limit.',
        tags: ['workers'],
        security: [{ bearerAuth: [] }],
        params: WorkerParams,
        body: WorkerReportBody,
        response: {
          204: Type.Null(),
          400: Type.Ref('Error'),
          401: Type.Ref('Error'),
          403: Type.Ref('Error'),
          413: Type.Ref('Error'),
        },
      },
      onRequest: requireRole(store.tokens, 'read'),
    },
    async (request, reply) => {
      const { taskQueue, workerId } = request.params;
      assertTaskQueue(taskQueue);
      if (!workerIdPattern.test(workerId)) {
        throw new ApiError(
          'INVALID_REQUEST',
          `invalid worker id ${JSON.stringify(workerId)}: use 1 to 200 letters, digits, ".", "_", ` +
            '":", "@" or "-", starting with a letter or digit',
        );
      }
      await store.saveWorkerReport(taskQueue, workerId, request.body, new Date());
      await rollouts.onWorkerReport(taskQueue, workerId, request.body);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/task-queues/:taskQueue/workers',
    {
      schema: {
        summary: 'Workers of a task queue and what they run',
        description:
          'Each worker with its latest report: applied and desired revision, SDK and Node ' +
          'versions, last error and report time, and the revision it should run. A worker ' +
          'without a report for DEPLOY_API_WORKER_STALE_SECONDS is marked stale.',
        tags: ['workers'],
        params: Type.Object({ taskQueue: Type.String() }),
        response: {
          200: Type.Object({ taskQueue: Type.String(), workers: Type.Array(WorkerRecordSchema) }),
          400: Type.Ref('Error'),
        },
      },
    },
    async (request): Promise<WorkerList> => {
      const { taskQueue } = request.params;
      assertTaskQueue(taskQueue);
      const now = Date.now();
      const state = await rollouts.readState(taskQueue);
      const workers = (await store.workerReports(taskQueue)).map((entry) => ({
        ...entry.report,
        workerId: entry.workerId,
        reportedAt: entry.reportedAt,
        stale: now - Date.parse(entry.reportedAt) > staleAfterMs,
        targetRevision: workerTarget(state, entry.workerId).revision,
      }));
      return { taskQueue, workers };
    },
  );
};
