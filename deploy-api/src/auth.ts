import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { TokenInfo, TokenRole } from './client/types.js';
import { ApiError } from './errors.js';
import type { TokenTable } from './token-table.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Name of the token that authenticated the request; recorded as the actor of a write. */
    actor: string;
    /** The token that authenticated the request, once an auth hook has run. */
    token: TokenInfo | null;
  }
}

/** A bootstrap admin token, configured outside the database (DEPLOY_API_TOKEN or the token file). */
export interface WriteToken {
  name: string;
  token: string;
}

const roleRank: Record<TokenRole, number> = { read: 0, deploy: 1, admin: 2 };

/** Returns the hex sha256 digest under which a token secret is stored. */
export function tokenDigest(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/**
 * Returns the stored token that `Authorization: Bearer <token>` names. Lookup is by the
 * sha256 digest of the presented secret, so the database never compares secrets and
 * its timing depends only on a digest that the caller cannot steer.
 */
export async function authenticate(
  tokens: TokenTable,
  request: FastifyRequest,
): Promise<TokenInfo> {
  const header = request.headers.authorization;
  if (header === undefined) {
    throw new ApiError(
      'UNAUTHORIZED',
      'missing Authorization header: send "Authorization: Bearer <token>" with a deploy API token',
    );
  }
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]) {
    throw new ApiError('UNAUTHORIZED', 'invalid Authorization header: expected "Bearer <token>"');
  }
  const found = await tokens.findByDigest(tokenDigest(match[1]));
  if (!found) {
    throw new ApiError(
      'UNAUTHORIZED',
      'invalid token: it is unknown or was deleted; check DEPLOY_API_TOKEN',
    );
  }
  return found;
}

/** True when `pattern` (an exact name, or a pattern where `*` matches any run of characters) matches. */
export function taskQueueMatches(pattern: string, taskQueue: string): boolean {
  if (!pattern.includes('*')) return pattern === taskQueue;
  const escaped = pattern.split('*').map((part) => part.replace(/\./g, '\\.'));
  return new RegExp(`^${escaped.join('.*')}$`).test(taskQueue);
}

/**
 * Throws FORBIDDEN unless `token` has at least role `needed` and, for a token limited to
 * some task queues, `taskQueue` is one of them. Admin tokens act on every queue.
 */
export function authorize(token: TokenInfo, needed: TokenRole, taskQueue?: string): void {
  if (roleRank[token.role] < roleRank[needed]) {
    const where = taskQueue === undefined ? '' : ` on task queue ${taskQueue}`;
    throw new ApiError(
      'FORBIDDEN',
      `token ${token.name} has role ${token.role}, but this request${where} needs role ` +
        `${needed}; use a token with role ${needed}`,
    );
  }
  if (taskQueue === undefined || token.role === 'admin' || token.taskQueues === null) return;
  if (!token.taskQueues.some((pattern) => taskQueueMatches(pattern, taskQueue))) {
    throw new ApiError(
      'FORBIDDEN',
      `token ${token.name} (role ${token.role}) may not act on task queue ${taskQueue}: it is ` +
        `limited to ${token.taskQueues.join(', ')}; use a token with role ${needed} whose ` +
        `taskQueues include ${taskQueue}`,
    );
  }
}

/**
 * Returns an onRequest hook that authenticates the request and checks its role, and for
 * routes with a `:taskQueue` parameter, the queue. It runs before body validation, so a
 * request without a valid token gets 401 before any 400.
 */
export function requireRole(tokens: TokenTable, needed: TokenRole) {
  return async (request: FastifyRequest) => {
    const token = await authenticate(tokens, request);
    const params = request.params as { taskQueue?: string } | undefined;
    authorize(token, needed, params?.taskQueue);
    request.token = token;
    request.actor = token.name;
  };
}
