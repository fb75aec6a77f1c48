import type Database from 'better-sqlite3';
import type { TokenInfo, TokenRole } from './client/types.js';

interface TokenRow {
  name: string;
  role: TokenRole;
  task_queues: string | null;
  created_at: string;
  created_by: string | null;
  bootstrap: number;
}

export const tokenSchema = `
CREATE TABLE IF NOT EXISTS tokens (
  name        TEXT    PRIMARY KEY,
  role        TEXT    NOT NULL CHECK (role IN ('read', 'deploy', 'admin')),
  task_queues TEXT,
  digest      TEXT    NOT NULL UNIQUE,
  created_at  TEXT    NOT NULL,
  created_by  TEXT,
  bootstrap   INTEGER NOT NULL DEFAULT 0
) STRICT;
`;

const columns = 'name, role, task_queues, created_at, created_by, bootstrap';

/**
 * API tokens, stored as the hex sha256 digest of the secret. Tokens created through the
 * API are 256-bit random values, so a plain digest is enough because there is no
 * dictionary to try against it.
 * NOTE: a DEPLOY_API_TOKEN chosen by hand is only as hard to guess from its digest as
 * the value itself. The token file that the API creates contains a random value.
 */
export class TokenTable {
  readonly #db: Database.Database;
  readonly #byDigest: Database.Statement<[string], TokenRow>;
  readonly #byName: Database.Statement<[string], TokenRow>;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#byDigest = db.prepare(`SELECT ${columns} FROM tokens WHERE digest = ?`);
    this.#byName = db.prepare(`SELECT ${columns} FROM tokens WHERE name = ?`);
  }

  findByDigest(digest: string): TokenInfo | undefined {
    const row = this.#byDigest.get(digest);
    return row && toInfo(row);
  }

  get(name: string): TokenInfo | undefined {
    const row = this.#byName.get(name);
    return row && toInfo(row);
  }

  list(): TokenInfo[] {
    return this.#db
      .prepare<[], TokenRow>(`SELECT ${columns} FROM tokens ORDER BY name`)
      .all()
      .map(toInfo);
  }

  insert(info: TokenInfo, digest: string): void {
    this.#db
      .prepare(
        `INSERT INTO tokens (name, role, task_queues, digest, created_at, created_by, bootstrap)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        info.name,
        info.role,
        info.taskQueues === null ? null : JSON.stringify(info.taskQueues),
        digest,
        info.createdAt,
        info.createdBy,
        info.bootstrap ? 1 : 0,
      );
  }

  /**
   * Makes `name` the admin bootstrap token with this digest. A changed DEPLOY_API_TOKEN
   * replaces the previous secret, and any other token with the same digest is removed.
   */
  upsertBootstrap(name: string, digest: string): void {
    const run = this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM tokens WHERE digest = ? AND name <> ?').run(digest, name);
      this.#db
        .prepare(
          `INSERT INTO tokens (name, role, task_queues, digest, created_at, created_by, bootstrap)
           VALUES (?, 'admin', NULL, ?, ?, NULL, 1)
           ON CONFLICT (name) DO UPDATE SET role = 'admin', task_queues = NULL,
             digest = excluded.digest, created_by = NULL, bootstrap = 1`,
        )
        .run(name, digest, new Date().toISOString());
    });
    run.immediate();
  }

  delete(name: string): void {
    this.#db.prepare('DELETE FROM tokens WHERE name = ?').run(name);
  }
}

function toInfo(row: TokenRow): TokenInfo {
  return {
    name: row.name,
    role: row.role,
    taskQueues: row.task_queues === null ? null : (JSON.parse(row.task_queues) as string[]),
    createdAt: row.created_at,
    createdBy: row.created_by,
    bootstrap: row.bootstrap === 1,
  };
}
