/**
 * Schema version 2 (security): changes to records and users leave a trace, user ids are
 * canonical, the audit log takes the security kinds auditors ask for, and signed checkpoints of the
 * chain head have a home in the database (their copy outside it is `checkpoints.ts`'s file).
 *
 * - `procedure_records` and `instance_links` become append-only like `audit_log`.
 * - `users` and `user_clients`: every INSERT, UPDATE and DELETE writes a `change_history` row (old
 *   and new values, the password hash only as a fingerprint, the database role, the transaction)
 *   from a trigger; `change_history` is append-only. `audit_log.txid` records each append's
 *   transaction, so `verifyAudit` reports a change with no audit record in its transaction (raw SQL).
 * - User ids: existing ids that collide once canonical refuse the migration (nothing is changed);
 *   others are renamed to their canonical form (audited); a CHECK keeps them lower case and trimmed.
 */
import { appendAudit, lockChainHead } from './audit.ts';
import { RecordsError } from './errors.ts';
import { canonicalUserId, userIdCollisions } from './identity.ts';
import type { SqlQueryable } from './sql.ts';
import { AUDIT_KINDS } from './types.ts';

const kindList = AUDIT_KINDS.map((k) => `'${k}'`).join(', ');

const TRACE = `
ALTER TABLE audit_log DROP CONSTRAINT audit_log_kind_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_kind_check CHECK (kind IN (${kindList}));
ALTER TABLE audit_log ADD COLUMN txid bigint;
ALTER TABLE audit_log ALTER COLUMN txid SET DEFAULT txid_current();
CREATE INDEX audit_log_txid ON audit_log (txid);

CREATE TRIGGER procedure_records_append_only BEFORE UPDATE OR DELETE ON procedure_records
  FOR EACH ROW EXECUTE FUNCTION custodia_refuse_change();
CREATE TRIGGER procedure_records_no_truncate BEFORE TRUNCATE ON procedure_records
  FOR EACH STATEMENT EXECUTE FUNCTION custodia_refuse_change();
CREATE TRIGGER instance_links_append_only BEFORE UPDATE OR DELETE ON instance_links
  FOR EACH ROW EXECUTE FUNCTION custodia_refuse_change();
CREATE TRIGGER instance_links_no_truncate BEFORE TRUNCATE ON instance_links
  FOR EACH STATEMENT EXECUTE FUNCTION custodia_refuse_change();
CREATE TRIGGER definition_versions_no_truncate BEFORE TRUNCATE ON definition_versions
  FOR EACH STATEMENT EXECUTE FUNCTION custodia_refuse_change();

CREATE TABLE change_history (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  table_name text NOT NULL,
  op text NOT NULL,
  row_key text NOT NULL,
  old jsonb,
  new jsonb,
  db_role text NOT NULL DEFAULT current_user,
  txid bigint NOT NULL DEFAULT txid_current(),
  head_position bigint NOT NULL
);
CREATE INDEX change_history_txid ON change_history (txid);
CREATE TRIGGER change_history_append_only BEFORE UPDATE OR DELETE ON change_history
  FOR EACH ROW EXECUTE FUNCTION custodia_refuse_change();
CREATE TRIGGER change_history_no_truncate BEFORE TRUNCATE ON change_history
  FOR EACH STATEMENT EXECUTE FUNCTION custodia_refuse_change();

-- A row as history keeps it: the password hash only as a fingerprint (it changed or not).
CREATE FUNCTION custodia_history_value(r jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN r ? 'password_hash'
    THEN jsonb_set(r, '{password_hash}', to_jsonb('md5:' || left(md5(r ->> 'password_hash'), 12)))
    ELSE r END
$$;

-- AFTER each row change of a traced table; TG_ARGV[0] names the column that identifies the user.
CREATE FUNCTION custodia_trace_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  o jsonb := CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) END;
  n jsonb := CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(NEW) END;
BEGIN
  INSERT INTO change_history (table_name, op, row_key, old, new, head_position)
  VALUES (TG_TABLE_NAME, TG_OP, COALESCE(n, o) ->> TG_ARGV[0],
          custodia_history_value(o), custodia_history_value(n),
          (SELECT position FROM audit_chain_head WHERE id = 1));
  RETURN NULL;
END $$;

CREATE TRIGGER users_traced AFTER INSERT OR UPDATE OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION custodia_trace_change('id');
CREATE TRIGGER users_no_truncate BEFORE TRUNCATE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION custodia_refuse_change();
CREATE TRIGGER user_clients_traced AFTER INSERT OR UPDATE OR DELETE ON user_clients
  FOR EACH ROW EXECUTE FUNCTION custodia_trace_change('user_id');
CREATE TRIGGER user_clients_no_truncate BEFORE TRUNCATE ON user_clients
  FOR EACH STATEMENT EXECUTE FUNCTION custodia_refuse_change();

CREATE TABLE store_identity (
  id integer PRIMARY KEY CHECK (id = 1),
  store_id text NOT NULL
);
INSERT INTO store_identity (id, store_id) VALUES (1, gen_random_uuid()::text);
CREATE TRIGGER store_identity_immutable BEFORE UPDATE OR DELETE ON store_identity
  FOR EACH ROW EXECUTE FUNCTION custodia_refuse_change();

CREATE TABLE audit_checkpoints (
  position bigint NOT NULL,
  hash text NOT NULL,
  at timestamptz NOT NULL,
  key_id text NOT NULL,
  signature text NOT NULL PRIMARY KEY
);
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION custodia_refuse_change();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION custodia_refuse_change();
`;

/** Refuse colliding ids; rename the others to their canonical form (each rename audited). */
async function canonicalizeUserIds(tx: SqlQueryable): Promise<void> {
  const ids = (await tx.query<{ id: string }>('SELECT id FROM users ORDER BY id')).map((r) => r.id);
  const collisions = userIdCollisions(ids);
  if (collisions.length)
    throw new RecordsError(
      'USER_ID_COLLISION',
      `user ids must be unique once canonical (trimmed, NFC, lower case), and these are not: ` +
        collisions
          .map((c) => `${c.ids.map((id) => JSON.stringify(id)).join(', ')} (all "${c.canonical}")`)
          .join('; ') +
        `. Custodia would treat each group as one person. Nothing was changed: with the previous Custodia, ` +
        `disable all but one account of each group and rename the others in the database ` +
        `(user_clients and sessions refer to users.id), then open the store again`,
    );
  const renames = ids.filter((id) => canonicalUserId(id) !== id);
  if (!renames.length) return;
  const head = await lockChainHead(tx);
  for (const from of renames) {
    const to = canonicalUserId(from);
    await tx.query(
      `INSERT INTO users (id, display_name, roles, password_hash, disabled, created_at, updated_at)
       SELECT $2, display_name, roles, password_hash, disabled, created_at, now() FROM users WHERE id = $1`,
      [from, to],
    );
    await tx.query(
      `INSERT INTO user_clients (user_id, client) SELECT $2, client FROM user_clients WHERE user_id = $1`,
      [from, to],
    );
    await tx.query('DELETE FROM user_clients WHERE user_id = $1', [from]);
    await tx.query('DELETE FROM sessions WHERE user_id = $1', [from]);
    await tx.query('DELETE FROM users WHERE id = $1', [from]);
    await appendAudit(tx, head, {
      kind: 'admin',
      subject: `user:${to}`,
      actorId: 'custodia',
      at: new Date().toISOString(),
      body: { act: 'user.canonicalize', user: to, before: { id: from }, after: { id: to } },
    });
  }
}

export async function migrateV2(tx: SqlQueryable): Promise<void> {
  await tx.exec(TRACE);
  await canonicalizeUserIds(tx);
  await tx.exec(`ALTER TABLE users ADD CONSTRAINT users_id_canonical CHECK (id = lower(btrim(id)))`);
}
