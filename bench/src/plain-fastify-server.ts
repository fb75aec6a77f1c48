// Baseline server for the conditional-GET benchmark: one Fastify route that returns a
// state of the same size as the deploy API's, with no schema, database or ETag check.
// Listens on 127.0.0.1:$PORT.
import Fastify from 'fastify';

const port = Number(process.env.PORT);
const body = {
  taskQueue: 'bench',
  revision: 1,
  packages: [{ name: '@bench/echo', version: '1.0.0', integrity: `sha512-${'A'.repeat(86)}==` }],
};

const app = Fastify({ logger: false });
app.get('/plain', async () => body);
await app.listen({ host: '127.0.0.1', port });
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
