/**
 * Registers: the named records procedures write (lending log, disclosure log, …), read as tables —
 * counts per register, rows newest first with filters and keyset paging, and corrections.
 *
 * Paging is by keyset, not offset: a cursor is the last row's `(at, workflow_id, seq, idx)`, so a
 * page costs the same however deep it is (the `(name[, client | procedure], at, workflow_id, seq,
 * idx)` indexes of schema 5 are scanned backwards from the cursor), and rows written while someone
 * pages never shift or repeat a page.
 *
 * Who sees which row is decided by the caller (`access.ts` `recordScope`) and applied here as SQL:
 * a row belongs to the instance that wrote it, and is visible exactly when that instance is.
 *
 * A row is never changed. A correction is a row of `record_corrections` that references it, with
 * the corrected values, the reason and who — written together with its audit record.
 */
import type { Json } from '../../workflows/core/ir.ts';
import { appendAudit, lockChainHead, transitionsByKey } from './audit.ts';
import { RecordsError } from './errors.ts';
import type { SqlClient, SqlQueryable } from './sql.ts';

/** Which rows a user may see: every row, or those of these clients (and, without a client, of these procedures). */
export type RecordScope =
  { all: true } | { all?: false; clients: readonly string[]; clientless: readonly string[] };

/** Where a page starts: after this row (newest first). */
export interface RecordCursor {
  at: string;
  workflowId: string;
  seq: number;
  idx: number;
}

export interface RecordFilter {
  scope: RecordScope;
  client?: string;
  procedure?: string;
  workflowId?: string;
  /** Rows written at or after. */
  from?: Date;
  /** Rows written before. */
  before?: Date;
  /** Field values the rows' fields must contain (`fields @> …`: equal scalars, lists containing). */
  fields?: Record<string, Json>;
}

export interface RecordCorrection {
  id: number;
  at: string;
  by: string;
  reason: string;
  /** The corrected values (only the fields corrected). */
  fields: Record<string, Json>;
}

/** One register row, with the transition that wrote it and its corrections (oldest first). */
export interface RegisterRow {
  workflowId: string;
  seq: number;
  idx: number;
  at: string;
  client?: string;
  procedure?: string;
  version?: string;
  /** The event of the transition that wrote it. */
  event?: string;
  actor?: string;
  fields: Record<string, Json>;
  corrections: RecordCorrection[];
}

interface Where {
  sql: string;
  params: unknown[];
}

/** The WHERE clause of a register's rows under a filter (alias `r`). */
function whereOf(name: string, f: RecordFilter): Where {
  const params: unknown[] = [name];
  const parts = ['r.name = $1'];
  const add = (clause: (p: string) => string, value: unknown): void => {
    params.push(value);
    parts.push(clause(`$${params.length}`));
  };
  if (!f.scope.all) {
    params.push([...f.scope.clients], [...f.scope.clientless]);
    const c = `$${params.length - 1}`;
    const p = `$${params.length}`;
    parts.push(`(r.client = ANY(${c}::text[]) OR (r.client IS NULL AND r.procedure = ANY(${p}::text[])))`);
  }
  if (f.client !== undefined) add((p) => `r.client = ${p}`, f.client);
  if (f.procedure !== undefined) add((p) => `r.procedure = ${p}`, f.procedure);
  if (f.workflowId !== undefined) add((p) => `r.workflow_id = ${p}`, f.workflowId);
  if (f.from) add((p) => `r.at >= ${p}`, f.from.toISOString());
  if (f.before) add((p) => `r.at < ${p}`, f.before.toISOString());
  if (f.fields && Object.keys(f.fields).length)
    add((p) => `r.fields @> ${p}::jsonb`, JSON.stringify(f.fields));
  return { sql: parts.join(' AND '), params };
}

/** How many rows each register has under a scope (registers without rows are absent). */
export async function registerCounts(db: SqlQueryable, scope: RecordScope): Promise<Record<string, number>> {
  const w = scope.all
    ? { sql: 'TRUE', params: [] as unknown[] }
    : {
        sql: '(r.client = ANY($1::text[]) OR (r.client IS NULL AND r.procedure = ANY($2::text[])))',
        params: [[...scope.clients], [...scope.clientless]],
      };
  const rows = await db.query<{ name: string; n: number }>(
    `SELECT r.name, count(*)::int AS n FROM procedure_records r WHERE ${w.sql} GROUP BY r.name`,
    w.params,
  );
  return Object.fromEntries(rows.map((r) => [r.name, Number(r.n)]));
}

/** How many rows of `name` match the filter. */
export async function registerTotal(db: SqlQueryable, name: string, f: RecordFilter): Promise<number> {
  const w = whereOf(name, f);
  const [row] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM procedure_records r WHERE ${w.sql}`,
    w.params,
  );
  return Number(row?.n ?? 0);
}

/**
 * A page of `name`'s rows matching the filter, newest first, after `cursor`; `next` is the cursor
 * of the following page (absent on the last).
 */
export async function registerRows(
  db: SqlQueryable,
  name: string,
  f: RecordFilter,
  page: { limit: number; after?: RecordCursor },
): Promise<{ rows: RegisterRow[]; next?: RecordCursor }> {
  const w = whereOf(name, f);
  if (page.after) {
    const a = page.after;
    w.params.push(a.at, a.workflowId, a.seq, a.idx);
    const n = w.params.length;
    w.sql += ` AND (r.at, r.workflow_id, r.seq, r.idx) < ($${n - 3}::timestamptz, $${n - 2}, $${n - 1}::int, $${n}::int)`;
  }
  w.params.push(page.limit + 1);
  const rows = await db.query<{
    workflow_id: string;
    seq: number;
    idx: number;
    at: Date;
    client: string | null;
    procedure: string | null;
    fields: Record<string, Json>;
  }>(
    `SELECT r.workflow_id, r.seq, r.idx, r.at, r.client, r.procedure, r.fields FROM procedure_records r
     WHERE ${w.sql} ORDER BY r.at DESC, r.workflow_id DESC, r.seq DESC, r.idx DESC LIMIT $${w.params.length}`,
    w.params,
  );
  const more = rows.length > page.limit;
  const shown = rows.slice(0, page.limit).map((r): RegisterRow => ({
    workflowId: r.workflow_id,
    seq: Number(r.seq),
    idx: Number(r.idx),
    at: new Date(r.at).toISOString(),
    ...(r.client !== null ? { client: r.client } : {}),
    ...(r.procedure !== null ? { procedure: r.procedure } : {}),
    fields: r.fields,
    corrections: [],
  }));
  await addTransitionsAndCorrections(db, shown);
  const last = shown[shown.length - 1];
  return {
    rows: shown,
    ...(more && last
      ? { next: { at: last.at, workflowId: last.workflowId, seq: last.seq, idx: last.idx } }
      : {}),
  };
}

/** The transitions that wrote the rows (event, version, actor) and the rows' corrections. */
async function addTransitionsAndCorrections(db: SqlQueryable, rows: RegisterRow[]): Promise<void> {
  if (!rows.length) return;
  const ids = rows.map((r) => r.workflowId);
  const seqs = rows.map((r) => r.seq);
  const idxs = rows.map((r) => r.idx);
  const transitions = await transitionsByKey(db, rows);
  const byTransition = new Map(transitions.map((t) => [`${t.subject}#${t.seq}`, t]));
  const corrections = await db.query<{
    id: number;
    workflow_id: string;
    seq: number;
    idx: number;
    fields: Record<string, Json>;
    reason: string;
    corrected_by: string;
    at: Date;
  }>(
    `SELECT c.id, c.workflow_id, c.seq, c.idx, c.fields, c.reason, c.corrected_by, c.at
     FROM unnest($1::text[], $2::int[], $3::int[]) AS k(id, seq, idx)
     JOIN record_corrections c ON c.workflow_id = k.id AND c.seq = k.seq AND c.idx = k.idx ORDER BY c.id`,
    [ids, seqs, idxs],
  );
  const byRow = new Map(rows.map((r) => [`${r.workflowId}#${r.seq}#${r.idx}`, r]));
  for (const r of rows) {
    const t = byTransition.get(`${r.workflowId}#${r.seq}`);
    if (t) Object.assign(r, { event: t.event, version: t.version, actor: t.actor });
  }
  for (const c of corrections)
    byRow.get(`${c.workflow_id}#${c.seq}#${c.idx}`)?.corrections.push({
      id: Number(c.id),
      at: new Date(c.at).toISOString(),
      by: c.corrected_by,
      reason: c.reason,
      fields: c.fields,
    });
}

/** One row by its key (any register), with its client and procedure; undefined when none. */
export async function registerRow(
  db: SqlQueryable,
  key: { workflowId: string; seq: number; idx: number },
): Promise<{ name: string; client?: string; procedure?: string } | undefined> {
  const [row] = await db.query<{ name: string; client: string | null; procedure: string | null }>(
    `SELECT name, client, procedure FROM procedure_records WHERE workflow_id = $1 AND seq = $2 AND idx = $3`,
    [key.workflowId, key.seq, key.idx],
  );
  if (!row) return undefined;
  return {
    name: row.name,
    ...(row.client !== null ? { client: row.client } : {}),
    ...(row.procedure !== null ? { procedure: row.procedure } : {}),
  };
}

/** What a correction carries: the row it corrects, the corrected values, why, and who. */
export interface CorrectionInput {
  name: string;
  workflowId: string;
  seq: number;
  idx: number;
  fields: Record<string, Json>;
  reason: string;
  by: string;
}

/**
 * Add a correction to a row, with its audit record (`admin`, act `record.correct`), in one
 * transaction. The caller checks who may correct and the values against the declaration.
 */
export async function correctRecord(sql: SqlClient, c: CorrectionInput): Promise<RecordCorrection> {
  return sql.transaction(async (tx) => {
    const row = await registerRow(tx, c);
    if (!row || row.name !== c.name)
      throw new RecordsError(
        'UNKNOWN_RECORD',
        `register ${c.name} has no row ${c.workflowId}#${c.seq}.${c.idx}`,
      );
    const head = await lockChainHead(tx);
    const at = new Date().toISOString();
    const entry = await appendAudit(tx, head, {
      kind: 'admin',
      subject: `records:${c.name}`,
      actorId: c.by,
      ...(row.client !== undefined ? { client: row.client } : {}),
      at,
      body: {
        act: 'record.correct',
        register: c.name,
        workflowId: c.workflowId,
        seq: c.seq,
        idx: c.idx,
        fields: c.fields,
        reason: c.reason,
      },
    });
    const [inserted] = await tx.query<{ id: number }>(
      `INSERT INTO record_corrections (workflow_id, seq, idx, name, fields, reason, corrected_by, at, audit_position)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9) RETURNING id`,
      [c.workflowId, c.seq, c.idx, c.name, JSON.stringify(c.fields), c.reason, c.by, at, entry.position],
    );
    return { id: Number(inserted?.id), at, by: c.by, reason: c.reason, fields: c.fields };
  });
}
