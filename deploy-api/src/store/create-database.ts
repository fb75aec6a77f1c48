import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Creates a new, empty database named `<prefix>_<random>` on the server of `adminUrl`
 * and returns its connection string. The tests give each deploy API its own database,
 * as they give it its own SQLite file.
 */
export async function createPostgresDatabase(adminUrl: string, prefix = 'deploy'): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(prefix)) {
    throw new Error(`invalid database prefix ${JSON.stringify(prefix)}: use a-z, 0-9 and _`);
  }
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.href;
}
