/**
 * One SQL dialect (PostgreSQL) over two engines: PGlite (PostgreSQL compiled to WASM, in-process,
 * the embedded default) and a PostgreSQL server through `pg` (multi-process deployments).
 *
 * Both return rows as plain objects with the same value types: `bigint`/`integer` as numbers,
 * `jsonb` parsed, `timestamptz` as `Date`. Pass JSON as a string and cast it (`$1::jsonb`): `pg`
 * would otherwise send a JS array as a PostgreSQL array.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { acquireEmbeddedLock } from './embedded-lock.ts';

/** What a query can run on: the client itself, or a transaction. */
export interface SqlQueryable {
  /** One statement with `$n` parameters; the result rows. */
  query<T extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** A script of statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface SqlClient extends SqlQueryable {
  readonly engine: 'pglite' | 'postgres';
  /** Run `fn` in a transaction: committed when it resolves, rolled back when it throws. */
  transaction<R>(fn: (tx: SqlQueryable) => Promise<R>): Promise<R>;
  close(): Promise<void>;
}

/**
 * The embedded engine in `dataDir` (created if missing; locked against a second process), or in
 * memory when `dataDir` is null. PGlite runs one statement at a time; its transactions are exclusive.
 */
export async function openPgliteClient(dataDir: string | null): Promise<SqlClient> {
  let release = (): void => {};
  if (dataDir) {
    // Owner-only: the store holds password hashes and session keys, and PGlite writes its files
    // world-readable (0666), so the folder is what keeps others out — tightened if it already existed.
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (statSync(dataDir).mode & 0o077) chmodSync(dataDir, 0o700);
    release = acquireEmbeddedLock(dataDir);
  }
  let db: PGlite;
  try {
    db = dataDir ? new PGlite(dataDir) : new PGlite();
    await db.waitReady;
  } catch (err) {
    release();
    throw err;
  }
  const on = (q: Pick<PGlite, 'query' | 'exec'>): SqlQueryable => ({
    async query<T extends object>(sql: string, params: readonly unknown[] = []) {
      return (await q.query<T>(sql, [...params])).rows;
    },
    async exec(sql: string) {
      await q.exec(sql);
    },
  });
  return {
    engine: 'pglite',
    ...on(db),
    transaction: (fn) => db.transaction((tx) => fn(on(tx))),
    async close() {
      try {
        if (!db.closed) await db.close();
      } finally {
        release();
      }
    },
  };
}

/** `int8` as a JS number (positions stay far below 2^53), like PGlite. */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 && format !== 'binary'
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** A pool of connections to the PostgreSQL server at `url` (`postgres://user:pass@host:port/db`). */
export async function openPostgresClient(url: string, opts: { max?: number } = {}): Promise<SqlClient> {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10, types });
  // An idle connection that dies (server restart) must not crash the process; the next query reconnects.
  let closing = false;
  pool.on('error', (err) => {
    if (!closing) console.error(`records store: idle PostgreSQL connection failed: ${err.message}`);
  });
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end();
    throw new Error(`cannot reach PostgreSQL at ${redactUrl(url)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const on = (q: pg.Pool | pg.PoolClient): SqlQueryable => ({
    async query<T extends object>(sql: string, params: readonly unknown[] = []) {
      return (await q.query<T & pg.QueryResultRow>(sql, [...params])).rows;
    },
    async exec(sql: string) {
      await q.query(sql);
    },
  });
  return {
    engine: 'postgres',
    ...on(pool),
    async transaction(fn) {
      const conn = await pool.connect();
      let broken = false;
      try {
        await conn.query('BEGIN');
        const result = await fn(on(conn));
        await conn.query('COMMIT');
        return result;
      } catch (err) {
        // A connection that cannot even roll back is broken: destroy it rather than pool it.
        broken = await conn.query('ROLLBACK').then(
          () => false,
          () => true,
        );
        throw err;
      } finally {
        conn.release(broken);
      }
    },
    async close() {
      // pool.end() resolves before the server has seen every connection go; errors from those are moot.
      closing = true;
      await pool.end();
    },
  };
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}
