/**
 * Register lookups (`lookup` action, `workflows/core/actions/lookup.ts`): the rows of one register
 * for one client, each with its corrections applied, and the choice of the row a lookup reports.
 *
 * A row is never changed; a correction is a row of `record_corrections` with the corrected values.
 * What a lookup sees is the row as corrected: the fields of its corrections, oldest first, laid
 * over the original (so a correction can end an agreement early by correcting its `valid_until`).
 */
import type { LookupEffect, LookupMissingReason } from '../../workflows/core/actions/lookup.ts';
import type { Json } from '../../workflows/core/ir.ts';
import type { SqlQueryable } from './sql.ts';

/** Rows a lookup may see at most (a client's agreements number in the tens). */
const LOOKUP_ROW_LIMIT = 1000;

/** One row as a lookup sees it: corrected fields, and when it was written. */
export interface LookupRow {
  at: string;
  fields: Record<string, Json>;
}

/** The rows of register `name` written for `client` (only those), corrections applied, newest first. */
export async function lookupRows(db: SqlQueryable, name: string, client: string): Promise<LookupRow[]> {
  const rows = await db.query<{
    fields: Record<string, Json>;
    at: Date;
    corrections: Record<string, Json>[] | null;
  }>(
    `SELECT r.fields, r.at,
       (SELECT jsonb_agg(c.fields ORDER BY c.id) FROM record_corrections c
         WHERE c.workflow_id = r.workflow_id AND c.seq = r.seq AND c.idx = r.idx) AS corrections
     FROM procedure_records r WHERE r.name = $1 AND r.client = $2
     ORDER BY r.at DESC, r.workflow_id DESC, r.seq DESC, r.idx DESC LIMIT ${LOOKUP_ROW_LIMIT}`,
    [name, client],
  );
  return rows.map((r) => ({
    at: new Date(r.at).toISOString(),
    fields: Object.assign({}, r.fields, ...(r.corrections ?? [])) as Record<string, Json>,
  }));
}

/** What a lookup reports: the row found, or why none was. */
export type LookupOutcome =
  { found: true; fields: Record<string, Json> } | { found: false; reason: LookupMissingReason };

const equal = (a: Json | undefined, b: Json): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * The row a lookup reports on `date` (YYYY-MM-DD): among the rows whose fields equal `match`,
 * those valid on the date (`valid.from` ≤ date ≤ `valid.until`, a missing bound is open); of
 * several, the one valid longest, then the newest. None valid: `expired` when a matching row
 * ended before the date, `not_yet_valid` when one starts after it, else `none`.
 */
export function chooseLookupRow(rows: LookupRow[], effect: LookupEffect, date: string): LookupOutcome {
  const matching = rows.filter((r) => Object.entries(effect.match).every(([k, v]) => equal(r.fields[k], v)));
  const bound = (r: LookupRow, end: 'from' | 'until'): string | undefined => {
    const field = effect.valid?.[end];
    const v = field ? r.fields[field] : undefined;
    return typeof v === 'string' ? v : undefined;
  };
  const valid = matching.filter((r) => {
    const from = bound(r, 'from');
    const until = bound(r, 'until');
    return (from === undefined || from <= date) && (until === undefined || until >= date);
  });
  if (valid.length) {
    // Stable sort: rows come newest first, so ties keep the newest.
    const best = [...valid].sort((a, b) =>
      (bound(b, 'until') ?? '9999').localeCompare(bound(a, 'until') ?? '9999'),
    )[0]!;
    return {
      found: true,
      fields: Object.fromEntries(
        effect.fields.filter((f) => best.fields[f] !== undefined).map((f) => [f, best.fields[f]!]),
      ),
    };
  }
  if (matching.some((r) => (bound(r, 'until') ?? '9999') < date)) return { found: false, reason: 'expired' };
  if (matching.some((r) => (bound(r, 'from') ?? '') > date)) return { found: false, reason: 'not_yet_valid' };
  return { found: false, reason: 'none' };
}
