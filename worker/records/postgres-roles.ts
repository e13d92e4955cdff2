/**
 * PostgreSQL: the service runs as a role that does not own the schema, so it cannot drop or
 * disable the triggers that keep the audit log, named records and definition versions append-only
 * and trace user changes (ALTER TABLE … DISABLE TRIGGER and DROP TRIGGER need ownership), nor
 * TRUNCATE, nor UPDATE or DELETE what is append-only (not granted).
 *
 * Setup (as a superuser or a role with CREATEROLE and CREATEDB):
 *
 * ```sql
 * CREATE ROLE custodia_owner LOGIN PASSWORD '…';            -- owns the schema, runs migrations
 * CREATE ROLE custodia_app LOGIN PASSWORD '…';              -- what DATABASE_URL uses
 * CREATE DATABASE custodia OWNER custodia_owner;
 * REVOKE ALL ON DATABASE custodia FROM PUBLIC;
 * GRANT CONNECT ON DATABASE custodia TO custodia_app;
 * ```
 *
 * then open the store once as the owner (it migrates: e.g. `DATABASE_URL=<owner URL> custodia
 * audit verify`), run `custodia audit service-role custodia_app | psql <owner URL>` (the SQL of
 * `serviceRoleGrants`), and give the service the `custodia_app` URL. After an upgrade that adds a
 * migration: migrate as the owner again and re-run the grants.
 */

/** Tables and what the service may do to them (the rest — UPDATE, DELETE, TRUNCATE, DDL — it may not). */
export const SERVICE_PRIVILEGES: Readonly<Record<string, readonly string[]>> = {
  schema_migrations: ['SELECT'],
  audit_log: ['SELECT', 'INSERT'],
  audit_chain_head: ['SELECT', 'UPDATE'],
  audit_checkpoints: ['SELECT', 'INSERT'],
  store_identity: ['SELECT'],
  procedure_records: ['SELECT', 'INSERT'],
  notifications: ['SELECT', 'INSERT'],
  instance_links: ['SELECT', 'INSERT'],
  definition_versions: ['SELECT', 'INSERT'],
  users: ['SELECT', 'INSERT', 'UPDATE'],
  user_clients: ['SELECT', 'INSERT', 'DELETE'],
  sessions: ['SELECT', 'INSERT', 'DELETE'],
  change_history: ['SELECT', 'INSERT'],
  user_tokens: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  notification_deliveries: ['SELECT', 'INSERT', 'UPDATE'],
  notification_preferences: ['SELECT', 'INSERT', 'UPDATE'],
  notification_outbox: ['SELECT', 'INSERT', 'UPDATE'],
  record_corrections: ['SELECT', 'INSERT'],
  attachment_blobs: ['SELECT', 'INSERT'],
  attachments: ['SELECT', 'INSERT'],
  calendar_versions: ['SELECT', 'INSERT'],
};

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The SQL (run as the schema owner, after migrating) that lets `role` run Custodia and nothing
 * more. Idempotent: revokes everything first.
 */
export function serviceRoleGrants(role: string): string {
  if (!ROLE_NAME.test(role))
    throw new Error(
      `invalid role name "${role}": lower-case letters, digits and _, not starting with a digit`,
    );
  const tables = Object.keys(SERVICE_PRIVILEGES);
  return [
    `REVOKE CREATE ON SCHEMA public FROM PUBLIC`,
    `REVOKE ALL ON ${tables.join(', ')} FROM ${role}`,
    `GRANT USAGE ON SCHEMA public TO ${role}`,
    ...tables.map((t) => `GRANT ${SERVICE_PRIVILEGES[t]!.join(', ')} ON ${t} TO ${role}`),
    `GRANT USAGE ON SEQUENCE change_history_id_seq TO ${role}`,
    `GRANT USAGE ON SEQUENCE notifications_id_seq TO ${role}`,
    `GRANT USAGE ON SEQUENCE record_corrections_id_seq TO ${role}`,
  ]
    .map((s) => `${s};`)
    .join('\n');
}
