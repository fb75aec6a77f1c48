import Fastify, { type FastifyInstance } from 'fastify';
import type { Supervisor } from './supervisor/supervisor.js';

/** Liveness, readiness and status of a worker over HTTP. */
export function buildHttpServer(supervisor: Supervisor): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const ready = supervisor.ready;
    return reply.code(ready ? 200 : 503).send({ ready, state: supervisor.status().state });
  });
  app.get('/status', async () => supervisor.status());
  // The worker's own metrics, then the serving generation's Temporal SDK metrics, whose
  // names all start with `temporal_`, so the two sets never share a name.
  app.get('/metrics', async (_request, reply) => {
    const { registry } = supervisor.metrics;
    const [own, sdk] = await Promise.all([registry.metrics(), supervisor.sdkMetrics()]);
    return reply.type(registry.contentType).send(sdk ? `${own}\n${sdk}` : own);
  });
  return app;
}
