import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyServerOptions,
} from 'fastify';
import { tokenDigest, type WriteToken } from './auth.js';
import type { RolloutAnalysis } from './client/types.js';
import { AutoFollower } from './auto-follow.js';
import { ChangeNotifier } from './change-notifier.js';
import { relayChanges } from './change-relay.js';
import { ApiError, errorCatalogue } from './errors.js';
import { RegistryResolver } from './registry-resolver.js';
import { defaultRolloutAnalysis, RolloutController } from './rollout-control.js';
import { requestValidatorCompiler } from './request-validation.js';
import { auditRoutes } from './routes/audit.js';
import { rolloutRoutes } from './routes/rollouts.js';
import { followRoutes } from './routes/follow.js';
import { taskQueueRoutes } from './routes/task-queues.js';
import { tokenRoutes } from './routes/tokens.js';
import { vetoRoutes } from './routes/vetoes.js';
import { workerRoutes } from './routes/workers.js';
import { sharedSchemas } from './schemas.js';
import { Store } from './store/store.js';

export interface AppOptions {
  /** SQLite file of the desired state and history, used when `databaseUrl` is unset. */
  databaseFile: string;
  /** PostgreSQL connection string; when set, the state lives there. */
  databaseUrl?: string | undefined;
  /** Maximum PostgreSQL connections. @default 10 */
  databasePoolMax?: number | undefined;
  /** Registry that pins are resolved against. */
  registryUrl: string;
  /** Token for reading from the registry, when it requires one. */
  registryToken?: string | undefined;
  /**
   * Bootstrap admin tokens, configured outside the database. Each is stored (as its
   * digest) under its name at start; more tokens are created through POST /v1/tokens.
   */
  tokens: readonly WriteToken[];
  /** Maximum request body in bytes. */
  bodyLimit: number;
  /** Age after which a worker's latest report counts as stale, in ms. */
  workerStaleAfterMs: number;
  /** Analysis settings of a rollout whose request sets none. */
  rolloutDefaults?: RolloutAnalysis | undefined;
  /** Time between re-checks of every pin that follows a range or dist-tag, in ms. */
  followIntervalMs: number;
  /** Secret that the registry's notify hook sends (POST /v1/hooks/registry). */
  hookToken: string;
  logger?: FastifyServerOptions['logger'];
}

/** Builds the deploy API. The caller listens, and `close()` also closes the database. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit,
    // A long-poll may be held open for up to 120 s, so only slower clients time out.
    requestTimeout: 180_000,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(requestValidatorCompiler());

  const store = await Store.open(
    options.databaseUrl === undefined
      ? { kind: 'sqlite', file: options.databaseFile }
      : {
          kind: 'postgres',
          connectionString: options.databaseUrl,
          poolMax: options.databasePoolMax ?? 10,
          // node-postgres attaches the client to some errors; log only what names the cause.
          onError: (error, context) =>
            app.log.error(
              { err: { message: error.message, code: (error as { code?: string }).code }, context },
              'database connection failed',
            ),
        },
  );
  app.addHook('onClose', async () => store.close());
  await store.transaction(async (tx) => {
    for (const entry of options.tokens) {
      await tx.tokens.upsertBootstrap(entry.name, tokenDigest(entry.token));
    }
  });

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
  app.decorateRequest('actor', '');
  app.decorateRequest('token', null);
  const rollouts = new RolloutController({
    store,
    notifier,
    defaults: options.rolloutDefaults ?? defaultRolloutAnalysis,
    log: app.log,
  });
  await rollouts.start();
  app.addHook('preClose', async () => rollouts.close());
  await relayChanges(store, notifier, (taskQueue) => rollouts.readState(taskQueue), app.log);
  const resolver = new RegistryResolver({
    registry: options.registryUrl,
    token: options.registryToken,
  });
  const follower = new AutoFollower({
    store,
    resolver,
    notifier,
    rollouts,
    log: app.log.child({ component: 'auto-follow' }),
    intervalMs: options.followIntervalMs,
    staleAfterMs: options.workerStaleAfterMs,
  });
  app.addHook('onReady', async () => follower.start());
  // Before onClose closes the database, so that no check writes to a closed store.
  app.addHook('preClose', async () => follower.stop());
  await app.register(taskQueueRoutes, {
    store,
    resolver,
    notifier,
    rollouts,
    staleAfterMs: options.workerStaleAfterMs,
  });
  await app.register(workerRoutes, {
    store,
    rollouts,
    staleAfterMs: options.workerStaleAfterMs,
  });
  await app.register(rolloutRoutes, { store, rollouts });
  await app.register(vetoRoutes, { store, notifier, rollouts });
  await app.register(tokenRoutes, { store });
  await app.register(auditRoutes, { store });
  await app.register(followRoutes, { store, follower, hookToken: options.hookToken });

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
    return {
      statusCode: 400,
      body: { error: { code: 'INVALID_REQUEST', message: validationMessage(error) } },
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

/**
 * Builds a message that names the field that failed, such as
 * `invalid body.role: must be equal to one of the allowed values (read, deploy, admin)`.
 */
function validationMessage(error: FastifyError): string {
  const context = error.validationContext ?? 'request';
  const first = error.validation?.[0];
  if (!first) return `invalid ${context}: ${error.message}`;
  const field = [context, ...first.instancePath.split('/').filter(Boolean)].join('.');
  const params = first.params as {
    additionalProperty?: string;
    allowedValues?: unknown[];
  };
  let detail = first.message ?? 'is invalid';
  if (params.additionalProperty !== undefined) {
    detail += ` (unknown property ${JSON.stringify(params.additionalProperty)}; remove it)`;
  }
  if (params.allowedValues !== undefined) detail += ` (${params.allowedValues.join(', ')})`;
  return `invalid ${field}: ${detail}`;
}
