import pg from 'pg';
import type { SqlClient, SqlDatabase, SqlTransaction, SqlValue } from './sql.js';

/** Channel of the change messages that replicas send each other. */
const channel = 'activity_deploy_changes';

/**
 * Key of the advisory lock that every write transaction takes, so that writes from all
 * replicas run one at a time, as they do on SQLite. A control plane writes a few times a
 * minute, so one lock costs nothing and keeps every read-then-write check simple.
 */
const writeLockKey = 0x61637464; // "actd"

export interface PostgresOptions {
  /** Connection string, `postgres://user:password@host:port/database`. */
  connectionString: string;
  /** Maximum connections in the pool, besides the one that listens. */
  poolMax: number;
  /** Called with errors of idle connections and of the listening connection. */
  onError: (error: Error, context: string) => void;
}

/** PostgreSQL through node-postgres, with a pool for statements and one listening connection. */
export class PostgresDatabase implements SqlDatabase {
  readonly dialect = 'postgres';
  readonly client: SqlClient;
  readonly #pool: pg.Pool;
  readonly #options: PostgresOptions;
  #listener: pg.Client | undefined;
  #closed = false;
  #reconnectTimer: NodeJS.Timeout | undefined;

  constructor(options: PostgresOptions) {
    this.#options = options;
    this.#pool = new pg.Pool({ connectionString: options.connectionString, max: options.poolMax });
    this.#pool.on('error', (error) => options.onError(error, 'idle connection'));
    this.client = clientOf(this.#pool);
  }

  async transaction<T>(body: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    const connection = await this.#pool.connect();
    const callbacks: Array<() => void> = [];
    let broken = false;
    try {
      await connection.query('BEGIN');
      await connection.query('SELECT pg_advisory_xact_lock($1)', [writeLockKey]);
      const tx: SqlTransaction = {
        ...clientOf(connection),
        afterCommit: (callback) => callbacks.push(callback),
      };
      const result = await body(tx);
      await connection.query('COMMIT');
      for (const callback of callbacks) callback();
      return result;
    } catch (error) {
      try {
        await connection.query('ROLLBACK');
      } catch {
        // The connection failed mid-transaction: drop it rather than return it to the pool.
        broken = true;
      }
      throw error;
    } finally {
      connection.release(broken);
    }
  }

  async notify(tx: SqlTransaction, payload: string): Promise<void> {
    // Delivered at commit only, and not at all after a rollback.
    await tx.run('SELECT pg_notify(?, ?)', [channel, payload]);
  }

  async listen(onMessage: (payload: string) => void, onResync: () => void): Promise<void> {
    await this.#connectListener(onMessage, onResync, false);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    await this.#listener?.end().catch(() => undefined);
    await this.#pool.end();
  }

  async #connectListener(
    onMessage: (payload: string) => void,
    onResync: () => void,
    resync: boolean,
  ): Promise<void> {
    const listener = new pg.Client({ connectionString: this.#options.connectionString });
    listener.on('notification', (message) => {
      if (message.channel === channel && message.payload !== undefined) onMessage(message.payload);
    });
    let lost = false;
    const onLost = (error?: Error) => {
      if (lost || this.#closed) return;
      lost = true;
      this.#options.onError(error ?? new Error('connection ended'), 'listening connection');
      listener.end().catch(() => undefined);
      this.#scheduleReconnect(onMessage, onResync, 1000);
    };
    listener.on('error', onLost);
    listener.on('end', () => onLost());
    await listener.connect();
    await listener.query(`LISTEN ${channel}`);
    this.#listener = listener;
    if (resync) onResync();
  }

  #scheduleReconnect(
    onMessage: (payload: string) => void,
    onResync: () => void,
    delayMs: number,
  ): void {
    this.#reconnectTimer = setTimeout(() => {
      this.#connectListener(onMessage, onResync, true).catch((error: Error) => {
        if (this.#closed) return;
        this.#options.onError(error, 'listening connection');
        this.#scheduleReconnect(onMessage, onResync, Math.min(delayMs * 2, 30_000));
      });
    }, delayMs);
    this.#reconnectTimer.unref();
  }
}

/** Wraps a pool or a checked-out connection as a client with `?` placeholders. */
function clientOf(queryable: pg.Pool | pg.PoolClient): SqlClient {
  const query = async <Row>(sql: string, params: readonly SqlValue[]) =>
    queryable.query<Row & pg.QueryResultRow>(numberPlaceholders(sql), [...params]);
  return {
    all: async <Row>(sql: string, params: readonly SqlValue[] = []) =>
      (await query<Row>(sql, params)).rows,
    get: async <Row>(sql: string, params: readonly SqlValue[] = []) =>
      (await query<Row>(sql, params)).rows[0],
    run: async (sql: string, params: readonly SqlValue[] = []) =>
      (await query(sql, params)).rowCount ?? 0,
  };
}

const placeholderCache = new Map<string, string>();

/**
 * Turns `?` placeholders into `$1`, `$2`, …. The store's statements contain no `?`
 * inside string literals, so a plain scan is enough.
 */
export function numberPlaceholders(sql: string): string {
  let numbered = placeholderCache.get(sql);
  if (numbered === undefined) {
    let index = 0;
    numbered = sql.replace(/\?/g, () => `$${++index}`);
    placeholderCache.set(sql, numbered);
  }
  return numbered;
}
