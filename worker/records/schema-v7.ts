/**
 * Schema version 7 (calendar versions): the business calendar as immutable, numbered versions an
 * administrator posts (`calendar-versions.ts`).
 *
 * - `calendar_versions`: version 1, 2, … (gapless, the newest is current), the calendar's `id`, the
 *   text as posted (JSON/YAML, read by `workflows/core/calendar-load.ts`), its SHA-256, who posted it
 *   and when, and the position of its audit record (kind `deployment`, subject
 *   `calendar:<id>@<version>`, naming the version and hash it replaced).
 * - Append-only (UPDATE, DELETE and TRUNCATE refused, like the audit log): a calendar an instance
 *   pinned stays readable as it was.
 */
import type { SqlQueryable } from './sql.ts';

const CALENDAR_VERSIONS = `
CREATE TABLE calendar_versions (
  version integer PRIMARY KEY CHECK (version > 0),
  id text NOT NULL CHECK (length(id) BETWEEN 1 AND 128),
  text text NOT NULL,
  sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  audit_position bigint NOT NULL REFERENCES audit_log (position)
);
CREATE TRIGGER calendar_versions_append_only BEFORE UPDATE OR DELETE ON calendar_versions
  FOR EACH ROW EXECUTE FUNCTION custodia_refuse_change();
CREATE TRIGGER calendar_versions_no_truncate BEFORE TRUNCATE ON calendar_versions
  FOR EACH STATEMENT EXECUTE FUNCTION custodia_refuse_change();
`;

export async function migrateV7(tx: SqlQueryable): Promise<void> {
  await tx.exec(CALENDAR_VERSIONS);
}
