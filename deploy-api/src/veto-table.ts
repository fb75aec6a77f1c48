import type { Veto } from './client/types.js';
import type { SqlClient } from './store/sql.js';

interface VetoRow {
  name: string;
  version: string;
  reason: string;
  actor: string;
  created_at: string;
}

/** Package versions marked bad. A lifted veto is deleted; the audit log keeps its history. */
export class VetoTable {
  readonly #sql: SqlClient;

  constructor(sql: SqlClient) {
    this.#sql = sql;
  }

  async get(name: string, version: string): Promise<Veto | undefined> {
    const row = await this.#sql.get<VetoRow>(
      'SELECT * FROM vetoes WHERE name = ? AND version = ?',
      [name, version],
    );
    return row && toVeto(row);
  }

  /** Returns the vetoes of one package, oldest first. */
  async list(name: string): Promise<Veto[]> {
    const rows = await this.#sql.all<VetoRow>(
      'SELECT * FROM vetoes WHERE name = ? ORDER BY created_at, version',
      [name],
    );
    return rows.map(toVeto);
  }

  async insert(veto: Veto): Promise<void> {
    await this.#sql.run(
      'INSERT INTO vetoes (name, version, reason, actor, created_at) VALUES (?, ?, ?, ?, ?)',
      [veto.name, veto.version, veto.reason, veto.actor, veto.createdAt],
    );
  }

  async delete(name: string, version: string): Promise<void> {
    await this.#sql.run('DELETE FROM vetoes WHERE name = ? AND version = ?', [name, version]);
  }
}

function toVeto(row: VetoRow): Veto {
  return {
    name: row.name,
    version: row.version,
    reason: row.reason,
    actor: row.actor,
    createdAt: row.created_at,
  };
}
