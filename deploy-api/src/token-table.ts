import type { TokenInfo, TokenRole } from './client/types.js';
import type { SqlClient } from './store/sql.js';

interface TokenRow {
  name: string;
  role: TokenRole;
  task_queues: string | null;
  created_at: string;
  created_by: string | null;
  bootstrap: number;
}

const columns = 'name, role, task_queues, created_at, created_by, bootstrap';

/**
 * API tokens, stored as the hex sha256 digest of the secret. Tokens created through the
 * API are 256-bit random values, so a plain digest is enough because there is no
 * dictionary to try against it.
 * NOTE: a DEPLOY_API_TOKEN chosen by hand is only as hard to guess from its digest as
 * the value itself. The token file that the API creates contains a random value.
 */
export class TokenTable {
  readonly #sql: SqlClient;

  constructor(sql: SqlClient) {
    this.#sql = sql;
  }

  async findByDigest(digest: string): Promise<TokenInfo | undefined> {
    const row = await this.#sql.get<TokenRow>(`SELECT ${columns} FROM tokens WHERE digest = ?`, [
      digest,
    ]);
    return row && toInfo(row);
  }

  async get(name: string): Promise<TokenInfo | undefined> {
    const row = await this.#sql.get<TokenRow>(`SELECT ${columns} FROM tokens WHERE name = ?`, [
      name,
    ]);
    return row && toInfo(row);
  }

  async list(): Promise<TokenInfo[]> {
    const rows = await this.#sql.all<TokenRow>(`SELECT ${columns} FROM tokens ORDER BY name`);
    return rows.map(toInfo);
  }

  async insert(info: TokenInfo, digest: string): Promise<void> {
    await this.#sql.run(
      `INSERT INTO tokens (name, role, task_queues, digest, created_at, created_by, bootstrap)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [
        info.name,
        info.role,
        info.taskQueues === null ? null : JSON.stringify(info.taskQueues),
        digest,
        info.createdAt,
        info.createdBy,
        info.bootstrap ? 1 : 0,
      ],
    );
  }

  /**
   * Makes `name` the admin bootstrap token with this digest. A changed DEPLOY_API_TOKEN
   * replaces the previous secret, and any other token with the same digest is removed.
   * Call it inside a transaction, so that both statements apply together.
   */
  async upsertBootstrap(name: string, digest: string): Promise<void> {
    await this.#sql.run('DELETE FROM tokens WHERE digest = ? AND name <> ?', [digest, name]);
    await this.#sql.run(
      `INSERT INTO tokens (name, role, task_queues, digest, created_at, created_by, bootstrap)
       VALUES (?, 'admin', NULL, ?, ?, NULL, 1)
       ON CONFLICT (name) DO UPDATE SET role = 'admin', task_queues = NULL,
         digest = excluded.digest, created_by = NULL, bootstrap = 1`,
      [name, digest, new Date().toISOString()],
    );
  }

  async delete(name: string): Promise<void> {
    await this.#sql.run('DELETE FROM tokens WHERE name = ?', [name]);
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
