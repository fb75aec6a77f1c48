import type Database from 'better-sqlite3';
import type { Veto } from './client/types.js';

export const vetoSchema = `
CREATE TABLE IF NOT EXISTS vetoes (
  name       TEXT NOT NULL,
  version    TEXT NOT NULL,
  reason     TEXT NOT NULL,
  actor      TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (name, version)
) STRICT;
`;

interface VetoRow {
  name: string;
  version: string;
  reason: string;
  actor: string;
  created_at: string;
}

/** Package versions marked bad. A lifted veto is deleted; the audit log keeps its history. */
export class VetoTable {
  readonly #db: Database.Database;
  readonly #get: Database.Statement<[string, string], VetoRow>;
  readonly #list: Database.Statement<[string], VetoRow>;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#get = db.prepare('SELECT * FROM vetoes WHERE name = ? AND version = ?');
    this.#list = db.prepare('SELECT * FROM vetoes WHERE name = ? ORDER BY created_at, version');
  }

  get(name: string, version: string): Veto | undefined {
    const row = this.#get.get(name, version);
    return row && toVeto(row);
  }

  /** Returns the vetoes of one package, oldest first. */
  list(name: string): Veto[] {
    return this.#list.all(name).map(toVeto);
  }

  insert(veto: Veto): void {
    this.#db
      .prepare(
        'INSERT INTO vetoes (name, version, reason, actor, created_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run(veto.name, veto.version, veto.reason, veto.actor, veto.createdAt);
  }

  delete(name: string, version: string): void {
    this.#db.prepare('DELETE FROM vetoes WHERE name = ? AND version = ?').run(name, version);
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
