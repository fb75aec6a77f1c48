import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { runServer } from 'verdaccio';
import type { RegistryOptions } from './options.js';
import { ensurePublisher, loginPublisher } from './publisher.js';
import { buildVerdaccioConfig } from './verdaccio-config.js';

/** A running registry. */
export interface RunningRegistry {
  /** Base URL with a trailing slash, as npm expects in `registry=`. */
  url: string;
  /** Token of the local publisher account, for `//host:port/:_authToken`. */
  publisherToken: string;
  close(): Promise<void>;
}

/** Starts Verdaccio in this process, creates the publisher account if needed and logs it in. */
export async function startRegistry(options: Readonly<RegistryOptions>): Promise<RunningRegistry> {
  const credentials = await ensurePublisher(
    path.join(options.dataDir, 'registry'),
    options.publisherName,
  );
  const config = await buildVerdaccioConfig(options);
  // runServer returns a plain, not yet listening, http.Server.
  const server = (await runServer(config)) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${host}:${port}/`;

  try {
    const publisherToken = await loginPublisher(url, credentials);
    return { url, publisherToken, close: () => closeServer(server) };
  } catch (error) {
    await closeServer(server);
    throw error;
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // Idle keep-alive sockets from npm would otherwise hold close() open.
    server.closeIdleConnections();
  });
}
