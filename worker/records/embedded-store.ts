/**
 * Opening the embedded records store (`embedded-server.ts`): the server up, the schema migrated
 * and the service role's grants applied as the schema owner, then a connection pool as the
 * service role. A records folder still holding a PGlite database (Custodia before the embedded
 * server) is migrated into the server on its first open — every row of every table, in one
 * transaction, counts compared — and the PGlite files are kept aside in `pglite-before-postgres/`.
 */
import { mkdirSync, readdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { APP_ROLE, embeddedServer, type EmbeddedRole } from './embedded-server.ts';
import { isRecordsError } from './errors.ts';
import { serviceRoleGrants } from './postgres-roles.ts';
import { LOCK_KEY, migrate } from './schema.ts';
import { openPgliteClient, openPostgresClient, type SqlClient, type SqlQueryable } from './sql.ts';

/** Where a migrated PGlite database is kept, inside the records folder. */
export const PGLITE_BACKUP_DIR = 'pglite-before-postgres';

/** The entries of a PostgreSQL data folder, i.e. PGlite's files at the top of a records folder. */
const PGLITE_ENTRY =
  /^(base|global|pg_[a-z_]+(\.conf)?|PG_VERSION|postgresql(\.auto)?\.conf|postmaster\.(pid|opts))$/;

/** Whether `dataDir` holds a PGlite database (the embedded store before the embedded server). */
export function hasPgliteData(dataDir: string): boolean {
  try {
    return readdirSync(dataDir).includes('PG_VERSION');
  } catch {
    return false;
  }
}

/** The embedded server's store in `dataDir`, as a SQL client of the service role (closing it releases the server). */
export async function openEmbeddedServerClient(dataDir: string, role: EmbeddedRole): Promise<SqlClient> {
  const dir = path.resolve(dataDir);
  const server = await embeddedServer(dir, role);
  let app: SqlClient | undefined;
  try {
    const owner = await openPostgresClient(server.ownerUrl, { max: 1 });
    try {
      const { applied } = await migrate(owner);
      if (hasPgliteData(dir)) await migrateFromPglite(dir, owner);
      // The service role's grants: after initdb, and after any migration (it may add tables).
      if (server.started || applied.length)
        await owner.transaction(async (tx) => {
          await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [...LOCK_KEY]);
          await tx.exec(serviceRoleGrants(APP_ROLE));
        });
    } finally {
      await owner.close();
    }
    app = await openPostgresClient(server.appUrl);
  } catch (err) {
    await server.release();
    throw err;
  }
  const client = app;
  return {
    ...client,
    async close() {
      try {
        await client.close();
      } finally {
        await server.release();
      }
    },
  };
}

/**
 * Copy a PGlite database in `dataDir` into the (migrated) server through `owner`, then move the
 * PGlite files aside. Refuses when the server already holds audit records (two histories).
 */
export async function migrateFromPglite(dataDir: string, owner: SqlClient): Promise<void> {
  let source: SqlClient;
  for (let attempt = 0; ; attempt++) {
    try {
      source = await openPgliteClient(dataDir);
      break;
    } catch (err) {
      // Another process of this version is migrating it (or an older Custodia still runs on it).
      if (!isRecordsError(err, 'STORE_IN_USE') || attempt > 600) throw err;
      await sleep(200);
      if (!hasPgliteData(dataDir)) return; // the other process migrated it
    }
  }
  let copied: { tables: number; rows: number };
  try {
    await migrate(source);
    copied = await owner.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [...LOCK_KEY]);
      const [present] = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log');
      if (present!.n > 0)
        throw new Error(
          `${dataDir} holds both a PGlite database (Custodia before the embedded PostgreSQL server) and a ` +
            `server with ${present!.n} audit records: not merging two histories. Keep one: move the PGlite ` +
            `files (base/, global/, pg_*/, PG_VERSION, postgresql*.conf) out of the folder to keep the ` +
            `server's, or move ${path.join(dataDir, 'postgres')} away to migrate the PGlite one`,
        );
      return copyTables(source, tx);
    });
  } finally {
    await source.close();
  }
  const backup = path.join(dataDir, PGLITE_BACKUP_DIR);
  mkdirSync(backup, { recursive: true, mode: 0o700 });
  for (const entry of readdirSync(dataDir))
    if (PGLITE_ENTRY.test(entry)) renameSync(path.join(dataDir, entry), path.join(backup, entry));
  console.log(
    `custodia: migrated the embedded records store from PGlite to the embedded PostgreSQL server ` +
      `(${copied.rows} rows in ${copied.tables} tables); the PGlite files are kept in ${backup} — ` +
      `delete that folder once satisfied`,
  );
}

/** Every row of every table (but the migrations' own), triggers off (a faithful copy), sequences caught up. */
async function copyTables(from: SqlQueryable, to: SqlQueryable): Promise<{ tables: number; rows: number }> {
  const tables = (
    await from.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'
        ORDER BY table_name`,
    )
  ).map((t) => t.name);
  // Replica mode: no triggers (append-only guards, chain checks) and no foreign-key order to follow.
  await to.exec(`SET LOCAL session_replication_role = replica`);
  let rows = 0;
  for (const table of tables) {
    const q = `"${table.replace(/"/g, '""')}"`;
    await to.exec(`DELETE FROM ${q}`); // what migrations seeded (e.g. the chain head), replaced by the source's
    const page = 2000;
    for (let offset = 0; ; offset += page) {
      const batch = await from.query<{ j: string }>(
        `SELECT row_to_json(t)::text AS j FROM ${q} t ORDER BY ctid LIMIT ${page} OFFSET ${offset}`,
      );
      if (!batch.length) break;
      await to.query(
        `INSERT INTO ${q} OVERRIDING SYSTEM VALUE SELECT * FROM jsonb_populate_recordset(NULL::${q}, $1::jsonb)`,
        [`[${batch.map((r) => r.j).join(',')}]`],
      );
      rows += batch.length;
    }
    const [a] = await from.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${q}`);
    const [b] = await to.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${q}`);
    if (a!.n !== b!.n) throw new Error(`migrating ${table}: ${a!.n} rows in PGlite, ${b!.n} copied`);
  }
  // Sequences behind serial columns continue after the copied ids.
  const serials = await to.query<{ t: string; c: string; seq: string }>(
    `SELECT table_name AS t, column_name AS c, pg_get_serial_sequence(quote_ident(table_name), column_name) AS seq
       FROM information_schema.columns
      WHERE table_schema = 'public' AND pg_get_serial_sequence(quote_ident(table_name), column_name) IS NOT NULL`,
  );
  for (const s of serials)
    await to.query(
      `SELECT setval($1, m) FROM (SELECT max("${s.c.replace(/"/g, '""')}") AS m FROM "${s.t.replace(/"/g, '""')}") x
        WHERE m IS NOT NULL`,
      [s.seq],
    );
  return { tables: tables.length, rows };
}

/**
 * The embedded server's database as the schema owner (a superuser: repairs, tests that tamper
 * with the audit log on purpose); closing it releases the server. Not migrated here.
 */
export async function openEmbeddedOwnerClient(dataDir: string): Promise<SqlClient> {
  const server = await embeddedServer(path.resolve(dataDir), 'command');
  let owner: SqlClient;
  try {
    owner = await openPostgresClient(server.ownerUrl, { max: 1 });
  } catch (err) {
    await server.release();
    throw err;
  }
  return {
    ...owner,
    async close() {
      try {
        await owner.close();
      } finally {
        await server.release();
      }
    },
  };
}
