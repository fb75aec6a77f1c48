import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyServerOptions,
} from 'fastify';
import { createBearerAuthenticator, type WriteToken } from './auth.js';
import { ChangeNotifier } from './change-notifier.js';
import { ApiError, errorCatalogue } from './errors.js';
import { RegistryResolver } from './registry-resolver.js';
import { taskQueueRoutes } from './routes/task-queues.js';
import { workerRoutes } from './routes/workers.js';
import { sharedSchemas } from './schemas.js';
import { SqliteStore } from './sqlite-store.js';

export interface AppOptions {
  /** SQLite file of the desired state and history. */
  databaseFile: string;
  /** Registry that pins are resolved against. */
  registryUrl: string;
  /** Token for reading from the registry, when it requires one. */
  registryToken?: string | undefined;
  /** Tokens allowed to write. */
  tokens: readonly WriteToken[];
  /** Maximum request body in bytes. */
  bodyLimit: number;
  /** Age after which a worker's latest report counts as stale, in ms. */
  workerStaleAfterMs: number;
  logger?: FastifyServerOptions['logger'];
}

/** Builds the deploy API. The caller listens, and `close()` also closes the database. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit,
    // A long-poll may be held open for up to 120 s, so only slower clients time out.
    requestTimeout: 180_000,
    ajv: {
      // Fastify strips unknown properties by default; this API rejects them instead.
      // allowUnionTypes: package settings take a value of several JSON types.
      customOptions: {
        removeAdditional: false,
        coerceTypes: 'array',
        allErrors: false,
        allowUnionTypes: true,
      },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const store = new SqliteStore(options.databaseFile);
  app.addHook('onClose', async () => store.close());

  for (const schema of sharedSchemas) app.addSchema(schema);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Activity deploy API',
        version: '1.0.0',
        description:
          'Records which exact version of each activity package every Temporal task queue runs. ' +
          `Errors are { "error": { "code", "message" } }; codes: ${Object.keys(errorCatalogue).join(', ')}.`,
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
      },
    },
    // Name components after each schema's $id (Error, Revision, …) instead of def-0, def-1.
    refResolver: {
      buildLocalReference: (json, _base, _fragment, index) =>
        typeof json.$id === 'string' ? json.$id : `def-${index}`,
    },
  });

  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    const { statusCode, body } = toErrorResponse(error);
    if (statusCode >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.error.code, statusCode }, 'request rejected');
    return reply.code(statusCode).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: {
        code: 'ROUTE_NOT_FOUND',
        message: `no route ${request.method} ${request.url.split('?')[0]}; see GET /openapi.json`,
      },
    }),
  );

  const notifier = new ChangeNotifier();
  // Long-polls would otherwise hold close() open for up to their wait time.
  app.addHook('preClose', async () => notifier.close());
  const authenticate = createBearerAuthenticator(options.tokens);
  app.decorateRequest('actor', '');
  await app.register(taskQueueRoutes, {
    store,
    resolver: new RegistryResolver({
      registry: options.registryUrl,
      token: options.registryToken,
    }),
    notifier,
    authenticate,
  });
  await app.register(workerRoutes, {
    store,
    authenticate,
    staleAfterMs: options.workerStaleAfterMs,
  });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}

function toErrorResponse(error: FastifyError | ApiError): {
  statusCode: number;
  body: { error: { code: string; message: string } };
} {
  if (error instanceof ApiError) {
    return {
      statusCode: error.statusCode,
      body: { error: { code: error.code, message: error.message } },
    };
  }
  if (error.validation) {
    const context = error.validationContext ?? 'request';
    // Ajv's message leaves out which property was not allowed; name it.
    const extra = error.validation[0]?.params.additionalProperty;
    const detail = typeof extra === 'string' ? ` (${JSON.stringify(extra)})` : '';
    return {
      statusCode: 400,
      body: {
        error: {
          code: 'INVALID_REQUEST',
          message: `invalid ${context}: ${error.message}${detail}`,
        },
      },
    };
  }
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const message =
      'request body is larger than the limit set by DEPLOY_API_BODY_LIMIT; send a smaller body';
    return { statusCode: 413, body: { error: { code: 'REQUEST_TOO_LARGE', message } } };
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return {
      statusCode: error.statusCode,
      body: { error: { code: 'INVALID_REQUEST', message: error.message } },
    };
  }
  return {
    statusCode: 500,
    body: { error: { code: 'INTERNAL_ERROR', message: 'internal error; see the deploy API log' } },
  };
}
