import Database from 'better-sqlite3';
import {
  SerialQueue,
  type SqlClient,
  type SqlDatabase,
  type SqlTransaction,
  type SqlValue,
} from './sql.js';

/**
 * SQLite through better-sqlite3, on one connection. Statements run synchronously, so the
 * promises of this client are already settled when returned. A transaction body that
 * awaits only this database therefore runs to its commit before any other request is
 * handled, and reads outside it never see its uncommitted rows.
 * NOTE: a transaction body must not await anything but the database (no registry
 * fetch): reads from other requests would then see its uncommitted rows.
 */
export class SqliteDatabase implements SqlDatabase {
  readonly dialect = 'sqlite';
  readonly client: SqlClient;
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement<SqlValue[]>>();
  readonly #writes = new SerialQueue();

  constructor(file: string) {
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('busy_timeout = 5000');
    this.client = {
      all: async <Row>(sql: string, params: readonly SqlValue[] = []) =>
        this.#statement(sql).all(...params) as Row[],
      get: async <Row>(sql: string, params: readonly SqlValue[] = []) =>
        this.#statement(sql).get(...params) as Row | undefined,
      run: async (sql: string, params: readonly SqlValue[] = []) =>
        this.#statement(sql).run(...params).changes,
    };
  }

  /** Runs `sql` with several statements, for schema changes. */
  exec(sql: string): void {
    this.#db.exec(sql);
  }

  /** Reads or sets a pragma such as `user_version`. */
  pragma(source: string): unknown {
    return this.#db.pragma(source, { simple: true });
  }

  transaction<T>(body: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    return this.#writes.run(async () => {
      const callbacks: Array<() => void> = [];
      const tx: SqlTransaction = { ...this.client, afterCommit: (fn) => callbacks.push(fn) };
      // IMMEDIATE takes the write lock at once, so another process on the same file
      // waits here (busy_timeout) instead of failing at its first write.
      this.#db.exec('BEGIN IMMEDIATE');
      let result: T;
      try {
        result = await body(tx);
        this.#db.exec('COMMIT');
      } catch (error) {
        if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
        throw error;
      }
      for (const callback of callbacks) callback();
      return result;
    });
  }

  async notify(tx: SqlTransaction, payload: string): Promise<void> {
    const listener = this.#listener;
    if (listener) tx.afterCommit(() => listener(payload));
  }

  #listener: ((payload: string) => void) | undefined;

  async listen(onMessage: (payload: string) => void): Promise<void> {
    this.#listener = onMessage;
  }

  async close(): Promise<void> {
    await this.#writes.run(async () => this.#db.close());
  }

  #statement(sql: string): Database.Statement<SqlValue[]> {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare<SqlValue[]>(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }
}
