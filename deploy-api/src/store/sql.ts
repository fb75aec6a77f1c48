/**
 * The small SQL surface that the store's tables use, implemented once for SQLite and once
 * for PostgreSQL. Statements use `?` placeholders; the PostgreSQL side numbers them.
 * Every statement the tables send is written to run unchanged on both databases.
 */

/** A value bound to a placeholder. */
export type SqlValue = string | number | null;

/** A connection, or the transaction open on one. */
export interface SqlClient {
  /** Returns every row of a query. */
  all<Row>(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** Returns the first row of a query, or undefined. */
  get<Row>(sql: string, params?: readonly SqlValue[]): Promise<Row | undefined>;
  /** Runs a statement and returns how many rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export type SqlDialect = 'sqlite' | 'postgres';

/** The client of an open transaction, with a hook for work that must wait for the commit. */
export interface SqlTransaction extends SqlClient {
  /** Queues `callback` to run after a successful commit, in the order queued. */
  afterCommit(callback: () => void): void;
}

/** A database that the store runs on. */
export interface SqlDatabase {
  readonly dialect: SqlDialect;
  /** Client for reads outside a transaction. */
  readonly client: SqlClient;
  /**
   * Runs `body` in one transaction that is serialised against every other write
   * transaction on the database, across processes too. The transaction commits when
   * `body` resolves and rolls back when it rejects.
   */
  transaction<T>(body: (tx: SqlTransaction) => Promise<T>): Promise<T>;
  /**
   * Sends `payload` to every process listening through `listen`, when the transaction
   * commits. A database with one process (SQLite) has no other listeners to reach.
   */
  notify(tx: SqlTransaction, payload: string): Promise<void>;
  /**
   * Calls `onMessage` with the payload of every `notify` committed by any process,
   * this one included, and `onResync` after a lost connection to the database comes
   * back, because messages sent meanwhile are lost.
   */
  listen(onMessage: (payload: string) => void, onResync: () => void): Promise<void>;
  close(): Promise<void>;
}

/**
 * Runs async tasks one at a time, in the order they were queued. The SQLite database
 * uses it so that a transaction whose body awaits never interleaves with another.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    // The queue goes on after a failed task; the caller sees the failure through `result`.
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
