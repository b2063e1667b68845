/**
 * The small SQL surface both drivers share: PGlite (embedded) and pg (PostgreSQL).
 * The only files that import @electric-sql/pglite or pg.
 */
import { mkdirSync } from 'node:fs';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { BosunError } from '../../domain/errors.js';

export type Row = Record<string, unknown>;

export interface SqlRunner {
  query<T extends Row = Row>(sql: string, params?: unknown[]): Promise<T[]>;
}

export interface SqlDb extends SqlRunner {
  readonly kind: 'pglite' | 'postgres';
  tx<T>(fn: (q: SqlRunner) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /**
   * A hot statement whose text never changes: on PostgreSQL a named prepared statement (parsed
   * and planned once per connection); PGlite, in process, runs it as a plain query.
   */
  prepared<T extends Row = Row>(name: string, sql: string, params: unknown[]): Promise<T[]>;
}

/**
 * SQLSTATE classes that trying again cannot mend: 22 (data exception: a value the store refuses,
 * such as a NUL in text) and 42 (syntax or access rule). Retried uncounted, as an outage is, such a
 * message would loop for ever; refused, it is answered and parked once.
 */
const NOT_RETRYABLE_SQLSTATE = /^(22|42)/;

function storeError(e: unknown): BosunError {
  const sqlState = typeof (e as { code?: unknown } | null)?.code === 'string' ? (e as { code: string }).code : undefined;
  const permanent = sqlState !== undefined && NOT_RETRYABLE_SQLSTATE.test(sqlState);
  return new BosunError('store_error', `store${permanent ? ' refused the request' : ''}: ${e instanceof Error ? e.message : String(e)}`, { cause: e, ...(permanent ? { retryable: false } : {}) });
}

export function isPostgresUrl(url: string): boolean {
  return url.startsWith('postgres://') || url.startsWith('postgresql://');
}

/** `postgres://…` → pg pool; `memory:` → in-memory PGlite; anything else → PGlite data directory. */
export async function openDb(location: string): Promise<SqlDb> {
  if (isPostgresUrl(location)) return openPg(location);
  return openPglite(location);
}

async function openPg(url: string): Promise<SqlDb> {
  const pool = new pg.Pool({ connectionString: url, max: 5, connectionTimeoutMillis: 5_000 });
  pool.on('error', () => undefined); // idle-client errors surface on the next query
  const run = async <T extends Row>(c: pg.Pool | pg.PoolClient, sql: string, params?: unknown[], name?: string): Promise<T[]> => {
    try {
      return (await c.query(name ? { name, text: sql, values: params ?? [] } : { text: sql, values: params ?? [] })).rows as T[];
    } catch (e) {
      throw storeError(e);
    }
  };
  return {
    kind: 'postgres',
    query: (sql, params) => run(pool, sql, params),
    prepared: (name, sql, params) => run(pool, sql, params, name),
    async tx(fn) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (e) {
        throw storeError(e);
      }
      try {
        await client.query('BEGIN');
        const out = await fn({ query: (sql, params) => run(client, sql, params) });
        await client.query('COMMIT');
        return out;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

async function openPglite(location: string): Promise<SqlDb> {
  const dir = location === 'memory:' ? undefined : location.replace(/^pglite:(\/\/)?/, '');
  if (dir) mkdirSync(dir, { recursive: true });
  const db = dir ? new PGlite(dir) : new PGlite();
  await db.waitReady;
  const run = async <T extends Row>(q: Pick<PGlite, 'query'>, sql: string, params?: unknown[]): Promise<T[]> => {
    try {
      return (await q.query<T>(sql, params)).rows;
    } catch (e) {
      throw storeError(e);
    }
  };
  return {
    kind: 'pglite',
    query: (sql, params) => run(db, sql, params),
    prepared: (_name, sql, params) => run(db, sql, params),
    async tx(fn) {
      // What fn throws passes as it is; PGlite's own failures (closed, aborted) become store errors.
      let fromFn = false;
      try {
        return await db.transaction(async (t) => {
          try {
            return await fn({ query: (sql, params) => run(t, sql, params) });
          } catch (e) {
            fromFn = true;
            throw e;
          }
        });
      } catch (e) {
        throw fromFn ? e : storeError(e);
      }
    },
    close: () => db.close(),
  };
}
