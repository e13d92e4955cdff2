/**
 * The records store's schema, as numbered migrations recorded in `schema_migrations` and applied
 * when a store opens. All of them run in one transaction under a PostgreSQL advisory lock, so
 * processes opening the same database at once apply each migration exactly once (the others wait,
 * then find it applied). A database migrated by a newer Custodia is refused, not guessed at.
 */
import { appendAudit, lockChainHead, GENESIS_HASH } from './audit.ts';
import { RecordsError } from './errors.ts';
import { migrateV2 } from './schema-v2.ts';
import { migrateV4 } from './schema-v4.ts';
import { migrateV3 } from './schema-v3.ts';
import { migrateV5 } from './schema-v5.ts';
import { migrateV6 } from './schema-v6.ts';
import { migrateV7 } from './schema-v7.ts';
import type { SqlClient, SqlQueryable } from './sql.ts';
import type { Json } from '../../workflows/core/ir.ts';

interface Migration {
  version: number;
  name: string;
  up(tx: SqlQueryable): Promise<void>;
}

/** Advisory lock key (two int4s): "cust" and 1 = migrations. */
export const LOCK_KEY = [0x63757374, 1] as const;

const V1_TABLES = `
CREATE FUNCTION custodia_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'custodia: % is append-only; % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TABLE audit_log (
  position bigint PRIMARY KEY CHECK (position > 0),
  kind text NOT NULL CHECK (kind IN ('transition', 'deployment', 'admin')),
  subject text NOT NULL,
  seq integer,
  client text,
  actor text NOT NULL,
  at timestamptz NOT NULL,
  body jsonb NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL UNIQUE
);
CREATE UNIQUE INDEX audit_log_transition ON audit_log (subject, seq) WHERE kind = 'transition';
CREATE INDEX audit_log_subject ON audit_log (subject, position);
CREATE INDEX audit_log_client ON audit_log (client, position) WHERE client IS NOT NULL;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION custodia_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION custodia_refuse_change();

CREATE TABLE audit_chain_head (
  id integer PRIMARY KEY CHECK (id = 1),
  position bigint NOT NULL,
  hash text NOT NULL
);
INSERT INTO audit_chain_head (id, position, hash) VALUES (1, 0, '${GENESIS_HASH}');

CREATE TABLE IF NOT EXISTS procedure_records (
  workflow_id text NOT NULL,
  seq integer NOT NULL,
  idx integer NOT NULL,
  name text NOT NULL,
  fields jsonb NOT NULL,
  at timestamptz NOT NULL,
  PRIMARY KEY (workflow_id, seq, idx)
);
CREATE TABLE IF NOT EXISTS notifications (
  workflow_id text NOT NULL,
  seq integer NOT NULL,
  idx integer NOT NULL,
  recipient text NOT NULL,
  message_zh text NOT NULL,
  message_en text NOT NULL,
  at timestamptz NOT NULL,
  PRIMARY KEY (workflow_id, seq, idx)
);
CREATE TABLE IF NOT EXISTS instance_links (
  parent_workflow_id text NOT NULL,
  seq integer NOT NULL,
  idx integer NOT NULL,
  child_workflow_id text NOT NULL,
  procedure text NOT NULL,
  PRIMARY KEY (parent_workflow_id, seq, idx)
);

CREATE TABLE users (
  id text PRIMARY KEY,
  display_name text NOT NULL,
  roles jsonb NOT NULL,
  password_hash text NOT NULL,
  disabled boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE TABLE user_clients (
  user_id text NOT NULL REFERENCES users (id),
  client text NOT NULL,
  PRIMARY KEY (user_id, client)
);
CREATE INDEX user_clients_client ON user_clients (client);
CREATE TABLE sessions (
  id_hash text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users (id),
  csrf_token text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE definition_versions (
  procedure text NOT NULL,
  version text NOT NULL,
  hash text NOT NULL,
  yaml text NOT NULL,
  ir jsonb NOT NULL,
  deployed_by text NOT NULL,
  deployed_at timestamptz NOT NULL,
  audit_position bigint NOT NULL REFERENCES audit_log (position),
  PRIMARY KEY (procedure, version)
);
CREATE TRIGGER definition_versions_immutable BEFORE UPDATE OR DELETE ON definition_versions
  FOR EACH ROW EXECUTE FUNCTION custodia_refuse_change();
`;

/**
 * The first embedded store (before the chain) kept one row per transition in `audit_records`.
 * Carry those rows into the chain, oldest first, and keep the old table as `audit_records_legacy`.
 */
async function importLegacyAudit(tx: SqlQueryable): Promise<void> {
  const [present] = await tx.query<{ present: boolean }>(
    `SELECT to_regclass('audit_records') IS NOT NULL AS present`,
  );
  if (!present?.present) return;
  const rows = await tx.query<{
    workflow_id: string;
    seq: number;
    procedure: string;
    version: string;
    definition_hash: string;
    client: string | null;
    event: string;
    actor_id: string;
    actor_roles: string[];
    at: Date;
    from_states: string[];
    to_states: string[];
    clauses: string[];
    data: Record<string, Json> | null;
  }>('SELECT * FROM audit_records ORDER BY recorded_at, workflow_id, seq');
  const head = await lockChainHead(tx);
  for (const r of rows) {
    const body: Record<string, Json> = {
      procedure: r.procedure,
      version: r.version,
      definitionHash: r.definition_hash,
      event: r.event,
      actorRoles: r.actor_roles,
      from: r.from_states,
      to: r.to_states,
      clauses: r.clauses,
      importedFrom: 'audit_records',
    };
    if (r.data !== null) body.data = r.data;
    await appendAudit(tx, head, {
      kind: 'transition',
      subject: r.workflow_id,
      seq: r.seq,
      client: r.client ?? undefined,
      actorId: r.actor_id,
      at: r.at.toISOString(),
      body,
    });
  }
  await tx.exec('ALTER TABLE audit_records RENAME TO audit_records_legacy');
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'audit chain, records, users, sessions, definition versions',
    async up(tx) {
      await tx.exec(V1_TABLES);
      await importLegacyAudit(tx);
    },
  },
  {
    version: 2,
    name: 'canonical user ids, traced user changes, append-only records, security audit kinds, checkpoints',
    up: migrateV2,
  },
  {
    version: 3,
    name: 'notification deliveries and read marks, preferences, e-mail outbox, user language and e-mail',
    up: migrateV3,
  },
  { version: 4, name: 'one-time setup and password-reset tokens', up: migrateV4 },
  {
    version: 5,
    name: 'registers: client and procedure of named records, their indexes, corrections',
    up: migrateV5,
  },
  {
    version: 6,
    name: 'attachments: content-addressed files of instances, audited uploads and reads',
    up: migrateV6,
  },
  { version: 7, name: 'calendar versions', up: migrateV7 },
];

/** Bring the schema up to date (idempotent; safe when several processes open at once). */
export async function migrate(sql: SqlClient): Promise<{ applied: number[] }> {
  return sql.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [...LOCK_KEY]);
    // Only when missing: a service role without CREATE on the schema opens an up-to-date store.
    const [present] = await tx.query<{ present: boolean }>(
      `SELECT to_regclass('schema_migrations') IS NOT NULL AS present`,
    );
    if (!present?.present)
      await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const done = new Set(
      (await tx.query<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version),
    );
    const known = Math.max(...MIGRATIONS.map((m) => m.version));
    const newest = Math.max(0, ...done);
    if (newest > known)
      throw new RecordsError(
        'SCHEMA_TOO_NEW',
        `the records store's schema is at version ${newest}, this Custodia knows up to ${known}: upgrade Custodia`,
      );
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await m.up(tx).catch((err: unknown) => {
        throw (err as { code?: string }).code === '42501'
          ? new Error(
              `cannot apply the records store's schema migration ${m.version} (${m.name}): ` +
                `${(err as Error).message}. Open the store once as the role that owns the schema ` +
                `(worker/records/postgres-roles.ts), then re-run the service role's grants`,
              { cause: err },
            )
          : err;
      });
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return { applied };
  });
}
