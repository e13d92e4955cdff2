/**
 * Schema version 5 (registers): named records become browsable registers.
 *
 * - `procedure_records` gains the writing instance's `client` and `procedure` (filled from the audit
 *   chain for rows written before; new rows carry them from the transition), so a register is
 *   filtered and isolated by client without a join. The rows' content is unchanged; the
 *   append-only trigger is set aside for this one backfill, inside the migration's transaction.
 * - Indexes for a register's pages newest first: by name, by name and client, by name and
 *   procedure (keyset paging on `(at, workflow_id, seq, idx)`), and a GIN index on the fields for
 *   field filters (`fields @> {...}`).
 * - `record_corrections`: a correction is a new row referencing the row it corrects (its key, checked
 *   in the correcting transaction — no foreign key, so the records' own TRUNCATE refusal stays the
 *   trigger's), with the corrected values, the reason, who and when, and the audit record that
 *   carries it. Never updated or deleted (triggers, as for the records themselves).
 */
import type { SqlQueryable } from './sql.ts';

const REGISTERS = `
ALTER TABLE procedure_records ADD COLUMN client text;
ALTER TABLE procedure_records ADD COLUMN procedure text;
ALTER TABLE procedure_records DISABLE TRIGGER procedure_records_append_only;
UPDATE procedure_records r SET client = a.client, procedure = a.body ->> 'procedure'
  FROM audit_log a WHERE a.kind = 'transition' AND a.subject = r.workflow_id AND a.seq = r.seq;
ALTER TABLE procedure_records ENABLE TRIGGER procedure_records_append_only;

CREATE INDEX procedure_records_register ON procedure_records (name, at, workflow_id, seq, idx);
CREATE INDEX procedure_records_register_client ON procedure_records (name, client, at, workflow_id, seq, idx);
CREATE INDEX procedure_records_register_procedure ON procedure_records (name, procedure, at, workflow_id, seq, idx);
CREATE INDEX procedure_records_fields ON procedure_records USING gin (fields jsonb_path_ops);

CREATE TABLE record_corrections (
  id bigserial PRIMARY KEY,
  workflow_id text NOT NULL,
  seq integer NOT NULL,
  idx integer NOT NULL,
  name text NOT NULL,
  fields jsonb NOT NULL,
  reason text NOT NULL CHECK (length(btrim(reason)) > 0),
  corrected_by text NOT NULL,
  at timestamptz NOT NULL,
  audit_position bigint NOT NULL REFERENCES audit_log (position)
);
CREATE INDEX record_corrections_row ON record_corrections (workflow_id, seq, idx, id);
CREATE TRIGGER record_corrections_append_only BEFORE UPDATE OR DELETE ON record_corrections
  FOR EACH ROW EXECUTE FUNCTION custodia_refuse_change();
CREATE TRIGGER record_corrections_no_truncate BEFORE TRUNCATE ON record_corrections
  FOR EACH STATEMENT EXECUTE FUNCTION custodia_refuse_change();
`;

export async function migrateV5(tx: SqlQueryable): Promise<void> {
  await tx.exec(REGISTERS);
}
