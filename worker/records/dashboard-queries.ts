/**
 * What the manager's dashboard reads from the records store: the audit log's transition records
 * (`audit_log`, kind `transition`), after a known position, in chain order — the only query it
 * needs. Positions are gapless and assigned under the chain head's lock, so a transition committed
 * after a read always has a higher position than any read: reading "after the last position seen"
 * misses nothing and reads nothing twice (`../dashboard-index.ts` keeps what it read).
 */
import { ASSIGN_EVENT } from '../../workflows/core/assignment.ts';
import { REMIND_EVENT } from '../../workflows/core/reminder.ts';
import { SLA_EVENT } from '../../workflows/core/sla.ts';
import type { SqlQueryable } from './sql.ts';

/**
 * Records of the transition kind that are not steps of the procedure: an assignment or a reminder
 * changes no state, so it neither moves an instance on nor counts as someone's step.
 */
const NOT_STEPS = [ASSIGN_EVENT, REMIND_EVENT, SLA_EVENT];

/** One transition record, as much of it as the dashboard uses. */
export interface TransitionRow {
  position: number;
  /** Workflow id. */
  subject: string;
  seq: number;
  /** Milliseconds since the epoch. */
  at: number;
  client: string | null;
  actor: string;
  procedure: string;
  version: string;
  /** Active leaf states after the transition. */
  leaves: string[];
}

type Packed = [number, string, number, number, string | null, string, string, string, string[]];

/**
 * Up to `limit` transition records after `afterPosition`, in chain order (the primary key's).
 * Asked for as one JSON text rather than rows: the embedded store (PGlite) decodes each column
 * of each row on its own, about ten times slower for 20,000 rows (measured: ~20 s against ~2 s for
 * 100,000 records on the shared test machine).
 */
export async function transitionsAfter(
  db: SqlQueryable,
  afterPosition: number,
  limit: number,
): Promise<TransitionRow[]> {
  const [row] = await db.query<{ rows: string | null }>(
    `SELECT json_agg(json_build_array(position, subject, seq, (extract(epoch FROM at) * 1000)::bigint, client,
              actor, body->'procedure', body->'version', body->'to') ORDER BY position)::text AS rows
     FROM (SELECT * FROM audit_log WHERE position > $1 AND kind = 'transition'
                     AND coalesce(body->>'event', '') <> ALL($3) ORDER BY position LIMIT $2) t`,
    [afterPosition, limit, NOT_STEPS],
  );
  const packed = row?.rows ? (JSON.parse(row.rows) as Packed[]) : [];
  return packed.map(([position, subject, seq, at, client, actor, procedure, version, leaves]) => ({
    position,
    subject,
    seq,
    at,
    client,
    actor,
    procedure,
    version,
    leaves,
  }));
}
