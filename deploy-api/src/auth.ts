import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** Name of the token that authenticated a write; recorded as the revision's actor. */
    actor: string;
  }
}
import { ApiError } from './errors.js';

/** A bearer token that may write, and the actor name recorded with its changes. */
export interface WriteToken {
  name: string;
  token: string;
}

/**
 * Checks `Authorization: Bearer <token>` against the configured tokens and returns
 * the matching token's name. Digests are compared in constant time, so the time a
 * comparison takes reveals nothing about the right token.
 */
export function createBearerAuthenticator(tokens: readonly WriteToken[]) {
  const digests = tokens.map((entry) => ({ name: entry.name, digest: sha256(entry.token) }));
  return function authenticate(request: FastifyRequest): string {
    const header = request.headers.authorization;
    if (header === undefined) {
      throw new ApiError(
        'UNAUTHORIZED',
        'missing Authorization header: send "Authorization: Bearer <DEPLOY_API_TOKEN>"',
      );
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      throw new ApiError('UNAUTHORIZED', 'invalid Authorization header: expected "Bearer <token>"');
    }
    const presented = sha256(match[1]);
    const found = digests.find((entry) => timingSafeEqual(entry.digest, presented));
    if (!found) throw new ApiError('UNAUTHORIZED', 'invalid token: check DEPLOY_API_TOKEN');
    return found.name;
  };
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
