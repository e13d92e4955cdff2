/**
 * What the manager's dashboard reads from the records store: the audit log's transition records
 * (`audit_log`, kind `transition`), after a known position, in chain order — the only query it
 * needs. Positions are gapless and assigned under the chain head's lock, so a transition committed
 * after a read always has a higher position than any read: reading "after the last position seen"
 * misses nothing and reads nothing twice (`../dashboard-index.ts` keeps what it read).
 */
import type { SqlQueryable } from './sql.ts';

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

/** Up to `limit` transition records after `afterPosition`, in chain order (the primary key's). */
export function transitionsAfter(
  db: SqlQueryable,
  afterPosition: number,
  limit: number,
): Promise<TransitionRow[]> {
  return db.query<TransitionRow>(
    `SELECT position, subject, seq, (extract(epoch FROM at) * 1000)::float8 AS at, client, actor,
            body->>'procedure' AS procedure, body->>'version' AS version, body->'to' AS leaves
     FROM audit_log WHERE position > $1 AND kind = 'transition' ORDER BY position LIMIT $2`,
    [afterPosition, limit],
  );
}
