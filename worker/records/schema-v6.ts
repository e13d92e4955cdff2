/**
 * Schema version 6 (attachments): files attached to instances and events, content-addressed.
 *
 * - `attachment_blobs`: one row per distinct content, keyed by its SHA-256 (lower-case hex), with
 *   its size and, by default, the bytes (`content`); NULL when the deployment keeps files in a
 *   configured directory instead (`CUSTODIA_ATTACHMENTS_DIR`, named by the same hash).
 * - `attachments`: which instance holds which content — the file name given, the real type
 *   (sniffed from the bytes), the size, the instance's client and procedure (so access is decided
 *   without Temporal, after its retention too), who uploaded it and when, and the audit record of
 *   the upload (kind `attachment`, act `upload`). One row per (instance, content).
 * - Both append-only (UPDATE, DELETE and TRUNCATE refused, like the audit log): a file attached is
 *   evidence and is never replaced.
 * - The audit log takes the kind `attachment`: uploads and every download (who read which file of
 *   which client, when).
 */
import type { SqlQueryable } from './sql.ts';
import { AUDIT_KINDS } from './types.ts';

const kindList = AUDIT_KINDS.map((k) => `'${k}'`).join(', ');

const ATTACHMENTS = `
ALTER TABLE audit_log DROP CONSTRAINT audit_log_kind_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_kind_check CHECK (kind IN (${kindList}));

CREATE TABLE attachment_blobs (
  sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  size bigint NOT NULL CHECK (size > 0),
  content bytea CHECK (content IS NULL OR length(content) = size),
  created_at timestamptz NOT NULL
);
CREATE TRIGGER attachment_blobs_append_only BEFORE UPDATE OR DELETE ON attachment_blobs
  FOR EACH ROW EXECUTE FUNCTION custodia_refuse_change();
CREATE TRIGGER attachment_blobs_no_truncate BEFORE TRUNCATE ON attachment_blobs
  FOR EACH STATEMENT EXECUTE FUNCTION custodia_refuse_change();

CREATE TABLE attachments (
  workflow_id text NOT NULL,
  sha256 text NOT NULL REFERENCES attachment_blobs (sha256),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  type text NOT NULL,
  size bigint NOT NULL CHECK (size > 0),
  client text,
  procedure text NOT NULL,
  uploaded_by text NOT NULL,
  uploaded_at timestamptz NOT NULL,
  audit_position bigint NOT NULL REFERENCES audit_log (position),
  PRIMARY KEY (workflow_id, sha256)
);
CREATE INDEX attachments_client ON attachments (client, uploaded_at);
CREATE TRIGGER attachments_append_only BEFORE UPDATE OR DELETE ON attachments
  FOR EACH ROW EXECUTE FUNCTION custodia_refuse_change();
CREATE TRIGGER attachments_no_truncate BEFORE TRUNCATE ON attachments
  FOR EACH STATEMENT EXECUTE FUNCTION custodia_refuse_change();
`;

export async function migrateV6(tx: SqlQueryable): Promise<void> {
  await tx.exec(ATTACHMENTS);
}
