import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requireRole, tokenDigest } from '../auth.js';
import type { CreatedToken, TokenInfo, TokenRole } from '../client/types.js';
import { ApiError } from '../errors.js';
import { CreateTokenBody, TokenParams, UnpinBody } from '../schemas.js';
import type { Store } from '../store/store.js';

export interface TokenRoutesOptions {
  store: Store;
}

const adminErrors = {
  400: Type.Ref('Error'),
  401: Type.Ref('Error'),
  403: Type.Ref('Error'),
};

/** Token management; every route needs an admin token. */
export const tokenRoutes: FastifyPluginAsyncTypebox<TokenRoutesOptions> = async (
  app,
  { store },
) => {
  const requireAdmin = requireRole(store.tokens, 'admin');

  app.post(
    '/v1/tokens',
    {
      schema: {
        summary: 'Create a token',
        description:
          'Creates a token with a role and, for read and deploy tokens, the task queues it ' +
          'may act on. The response is the only time the secret is returned; the API keeps ' +
          'its sha256 digest.',
        tags: ['tokens'],
        security: [{ bearerAuth: [] }],
        body: CreateTokenBody,
        response: {
          201: Type.Ref('CreatedToken'),
          ...adminErrors,
          409: Type.Ref('Error'),
          413: Type.Ref('Error'),
        },
      },
      onRequest: requireAdmin,
    },
    async (request, reply) => {
      const { name, role, taskQueues } = request.body;
      if (role === 'admin' && taskQueues !== undefined) {
        throw new ApiError(
          'INVALID_REQUEST',
          'invalid body.taskQueues: an admin token acts on every task queue; remove ' +
            'taskQueues or choose role read or deploy',
        );
      }
      const secret = randomBytes(32).toString('base64url');
      const info: TokenInfo = {
        name,
        // The schema's enum allows only the three roles, but the type provider types it as unknown.
        role: role as TokenRole,
        taskQueues: taskQueues ?? null,
        createdAt: new Date().toISOString(),
        createdBy: request.actor,
        bootstrap: false,
      };
      await store.transaction(async (tx) => {
        if (await tx.tokens.get(name)) {
          throw new ApiError(
            'TOKEN_EXISTS',
            `a token named ${name} already exists; choose another name or delete it first`,
          );
        }
        await tx.tokens.insert(info, tokenDigest(secret));
        await tx.audit.record(
          {
            actor: request.actor,
            action: 'token-create',
            taskQueue: null,
            target: name,
            reason: null,
            before: null,
            after: info,
          },
          info.createdAt,
        );
      });
      request.log.info({ token: name, role }, 'token created');
      const created: CreatedToken = { ...info, token: secret };
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/v1/tokens',
    {
      schema: {
        summary: 'List tokens, without their secrets',
        tags: ['tokens'],
        security: [{ bearerAuth: [] }],
        response: { 200: Type.Ref('TokenList'), 401: Type.Ref('Error'), 403: Type.Ref('Error') },
      },
      onRequest: requireAdmin,
    },
    async () => ({ tokens: await store.tokens.list() }),
  );

  app.delete(
    '/v1/tokens/:name',
    {
      schema: {
        summary: 'Delete a token',
        description:
          'The token stops working at once. The bootstrap token (DEPLOY_API_TOKEN or the ' +
          'token file) cannot be deleted here; change that setting and restart instead.',
        tags: ['tokens'],
        security: [{ bearerAuth: [] }],
        params: TokenParams,
        body: UnpinBody,
        response: {
          200: Type.Ref('TokenInfo'),
          ...adminErrors,
          404: Type.Ref('Error'),
          409: Type.Ref('Error'),
          413: Type.Ref('Error'),
        },
      },
      onRequest: requireAdmin,
    },
    async (request) => {
      const { name } = request.params;
      const deleted = await store.transaction(async (tx) => {
        const existing = await tx.tokens.get(name);
        if (!existing) {
          throw new ApiError(
            'TOKEN_NOT_FOUND',
            `no token named ${JSON.stringify(name)}; list tokens with GET /v1/tokens`,
          );
        }
        if (existing.bootstrap) {
          throw new ApiError(
            'BOOTSTRAP_TOKEN_PROTECTED',
            `token ${name} is the bootstrap token from DEPLOY_API_TOKEN or the token file; ` +
              'change that setting and restart the deploy API to replace it',
          );
        }
        await tx.tokens.delete(name);
        await tx.audit.record({
          actor: request.actor,
          action: 'token-delete',
          taskQueue: null,
          target: name,
          reason: request.body?.reason ?? null,
          before: existing,
          after: null,
        });
        return existing;
      });
      request.log.info({ token: name }, 'token deleted');
      return deleted;
    },
  );
};
