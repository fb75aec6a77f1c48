import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import bcrypt from 'bcryptjs';

/** Credentials of the local publisher account, kept in `<data dir>/registry/publisher.json`. */
export interface PublisherCredentials {
  name: string;
  password: string;
}

/**
 * Creates the publisher account on first start and returns its credentials.
 *
 * Self-registration is off (`max_users: -1`), so the account is written to the
 * htpasswd file directly, with a bcrypt hash as Verdaccio's htpasswd plugin expects.
 * Later starts read the same account back, so tokens issued before stay valid.
 */
export async function ensurePublisher(
  registryDir: string,
  name: string,
): Promise<PublisherCredentials> {
  const credentialsFile = path.join(registryDir, 'publisher.json');
  const existing = await readCredentials(credentialsFile);
  if (existing && existing.name === name) return existing;

  const credentials: PublisherCredentials = {
    name,
    password: randomBytes(24).toString('base64url'),
  };
  await mkdir(registryDir, { recursive: true });
  const hash = await bcrypt.hash(credentials.password, 10);
  await writeAtomically(path.join(registryDir, 'htpasswd'), `${name}:${hash}\n`);
  await writeAtomically(credentialsFile, `${JSON.stringify(credentials, null, 2)}\n`);
  return credentials;
}

/**
 * Logs the publisher in through the npm login protocol and returns the token that
 * `npm publish` sends as `_authToken`.
 */
export async function loginPublisher(
  registryUrl: string,
  credentials: PublisherCredentials,
): Promise<string> {
  const basic = Buffer.from(`${credentials.name}:${credentials.password}`).toString('base64');
  const url = new URL(
    `-/user/org.couchdb.user:${encodeURIComponent(credentials.name)}`,
    registryUrl,
  );
  const response = await fetch(url, {
    method: 'PUT',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: credentials.name, password: credentials.password }),
  });
  const body = (await response.json().catch(() => ({}))) as { token?: unknown; error?: unknown };
  if (!response.ok || typeof body.token !== 'string') {
    throw new Error(
      `registry login for ${credentials.name} failed with HTTP ${response.status}` +
        (body.error === undefined ? '' : `: ${JSON.stringify(body.error)}`) +
        '; delete the registry folder of the data directory to create the account again',
    );
  }
  return body.token;
}

async function readCredentials(file: string): Promise<PublisherCredentials | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<PublisherCredentials>;
  if (typeof parsed.name !== 'string' || typeof parsed.password !== 'string') {
    throw new Error(
      `${file} is not a publisher credentials file: delete it to create a new account`,
    );
  }
  return { name: parsed.name, password: parsed.password };
}

async function writeAtomically(file: string, content: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, content, { mode: 0o600 });
  await rename(temporary, file);
}
