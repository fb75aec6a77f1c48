import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { authorize, requireRole } from '../auth.js';
import type { AuditList } from '../client/types.js';
import { ApiError } from '../errors.js';
import { AuditQuery } from '../schemas.js';
import type { Store } from '../store/store.js';
import { assertTaskQueue } from '../validation.js';

export interface AuditRoutesOptions {
  store: Store;
}

/** The audit log: every pin, unpin, rollback, veto and token change, newest first. */
export const auditRoutes: FastifyPluginAsyncTypebox<AuditRoutesOptions> = async (
  app,
  { store },
) => {
  app.get(
    '/v1/audit',
    {
      schema: {
        summary: 'Audit log of every write, newest first',
        description:
          'Lists pins, unpins, rollbacks, vetoes and token changes with actor, reason and ' +
          'the state before and after; dry runs are not recorded. Needs a token of any role; ' +
          'a token limited to some task queues must name one of them in ?taskQueue=.',
        tags: ['audit'],
        security: [{ bearerAuth: [] }],
        querystring: AuditQuery,
        response: {
          200: Type.Ref('AuditList'),
          400: Type.Ref('Error'),
          401: Type.Ref('Error'),
          403: Type.Ref('Error'),
        },
      },
      onRequest: requireRole(store.tokens, 'read'),
    },
    async (request): Promise<AuditList> => {
      const { taskQueue, limit } = request.query;
      if (taskQueue !== undefined) assertTaskQueue(taskQueue);
      const token = request.token;
      if (token && token.role !== 'admin' && token.taskQueues !== null) {
        // Entries of other queues, vetoes and token changes are for unrestricted tokens.
        if (taskQueue === undefined) {
          throw new ApiError(
            'FORBIDDEN',
            `token ${token.name} (role ${token.role}) is limited to task queues ` +
              `${token.taskQueues.join(', ')}; add ?taskQueue= with one of them, or use a ` +
              'token without a task queue limit',
          );
        }
        authorize(token, 'read', taskQueue);
      }
      return { entries: await store.audit.list({ taskQueue, limit: limit ?? 100 }) };
    },
  );
};
