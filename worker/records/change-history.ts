/**
 * Changes to the traced tables (`users`, `user_clients`) that no audit record explains. Every
 * change through Custodia appends an audit record in the same transaction; the `change_history`
 * trigger records every change with its transaction id whoever makes it, so a change made with raw
 * SQL shows up here — unless the triggers were dropped, which the service role cannot do
 * (`postgres-roles.ts`).
 */
import type { SqlQueryable } from './sql.ts';
import type { AuditProblem } from './types.ts';
import type { Json } from '../../workflows/core/ir.ts';

export interface ChangeHistoryRow {
  id: number;
  at: string;
  table: string;
  op: 'INSERT' | 'UPDATE' | 'DELETE';
  /** The user the row belongs to. */
  userId: string;
  old: Record<string, Json> | null;
  new: Record<string, Json> | null;
  dbRole: string;
  /** Chain position when it happened. */
  headPosition: number;
}

interface Row {
  id: number;
  at: Date;
  table_name: string;
  op: ChangeHistoryRow['op'];
  row_key: string;
  old: Record<string, Json> | null;
  new: Record<string, Json> | null;
  db_role: string;
  head_position: number;
}

function fromRow(r: Row): ChangeHistoryRow {
  return {
    id: r.id,
    at: new Date(r.at).toISOString(),
    table: r.table_name,
    op: r.op,
    userId: r.row_key,
    old: r.old,
    new: r.new,
    dbRole: r.db_role,
    headPosition: r.head_position,
  };
}

const COLUMNS = 'h.id, h.at, h.table_name, h.op, h.row_key, h.old, h.new, h.db_role, h.head_position';

/** The recorded changes of one user (canonical id), oldest first. */
export async function changeHistoryOf(db: SqlQueryable, userId: string): Promise<ChangeHistoryRow[]> {
  const rows = await db.query<Row>(`SELECT ${COLUMNS} FROM change_history h WHERE row_key = $1 ORDER BY id`, [
    userId,
  ]);
  return rows.map(fromRow);
}

/** Changes made in a transaction that appended no audit record, oldest first (at most `limit`). */
export async function untracedChanges(db: SqlQueryable, limit = 100): Promise<ChangeHistoryRow[]> {
  const rows = await db.query<Row>(
    `SELECT ${COLUMNS} FROM change_history h
     WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.txid = h.txid) ORDER BY h.id LIMIT $1`,
    [limit],
  );
  return rows.map(fromRow);
}

/** The columns whose values differ, `old → new`, for a message (the password only as "changed"). */
function describeChange(c: ChangeHistoryRow): string {
  if (!c.old || !c.new) return JSON.stringify(c.new ?? c.old);
  const changed = Object.keys({ ...c.old, ...c.new }).filter(
    (k) => k !== 'updated_at' && JSON.stringify(c.old?.[k]) !== JSON.stringify(c.new?.[k]),
  );
  return changed
    .map((k) =>
      k === 'password_hash'
        ? 'password_hash changed'
        : `${k} ${JSON.stringify(c.old?.[k])} → ${JSON.stringify(c.new?.[k])}`,
    )
    .join(', ');
}

const PAST: Record<ChangeHistoryRow['op'], string> = {
  INSERT: 'inserted',
  UPDATE: 'updated',
  DELETE: 'deleted',
};

/** One `untraced_change` problem per change no audit record explains. */
export async function untracedChangeProblems(db: SqlQueryable, limit = 100): Promise<AuditProblem[]> {
  return (await untracedChanges(db, limit)).map((c) => ({
    position: c.headPosition,
    kind: 'untraced_change',
    message:
      `${c.table} row of "${c.userId}" ${PAST[c.op]} at ${c.at} by database role ${c.dbRole} ` +
      `with no audit record: ${describeChange(c)}`,
  }));
}
