/**
 * The audit log: one append-only, hash-chained table (`audit_log`) for transitions, deployments
 * and administrative acts.
 *
 * Each record's hash is `sha256(prev_hash + canonicalJson(fields))` where the fields are
 * `{position, kind, subject, seq, client, actor, at, body}`; the first record's `prev_hash` is 64
 * zeros. Appends take the chain head (`audit_chain_head`, one row: last position and hash)
 * `FOR UPDATE`, so concurrent writers — other connections, other processes — queue on it and the
 * chain never forks; positions are gapless because each append is head + 1 in the same transaction.
 * The code has no UPDATE or DELETE of `audit_log`, and a trigger refuses them.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../workflows/core/hash.ts';
import type { Json } from '../../workflows/core/ir.ts';
import type { SqlQueryable } from './sql.ts';
import type { AuditEntry, AuditKind, AuditProblem, AuditQuery, AuditVerification } from './types.ts';

export const GENESIS_HASH = '0'.repeat(64);

/** A record before the chain places it. */
export interface AuditInput {
  kind: AuditKind;
  subject: string;
  seq?: number;
  client?: string;
  actorId: string;
  /** Any time `Date` parses; stored and hashed as ISO-8601 UTC with milliseconds. */
  at: string;
  body: Record<string, Json>;
}

export interface ChainHead {
  position: number;
  hash: string;
}

/** The hash of a record at `position` following `prevHash`. */
export function auditHash(prevHash: string, position: number, r: AuditInput): string {
  const fields = {
    position,
    kind: r.kind,
    subject: r.subject,
    seq: r.seq ?? null,
    client: r.client ?? null,
    actor: r.actorId,
    at: r.at,
    body: r.body,
  };
  return createHash('sha256')
    .update(prevHash + canonicalJson(fields), 'utf8')
    .digest('hex');
}

/** Lock the chain head for this transaction (others wait until it ends) and read it. */
export async function lockChainHead(tx: SqlQueryable): Promise<ChainHead> {
  const [head] = await tx.query<ChainHead>(
    'SELECT position, hash FROM audit_chain_head WHERE id = 1 FOR UPDATE',
  );
  if (!head) throw new Error('records store: the audit chain head is missing (schema not migrated?)');
  return head;
}

/** Append one record after `head` (which the caller locked with `lockChainHead` in `tx`). */
export async function appendAudit(tx: SqlQueryable, head: ChainHead, input: AuditInput): Promise<AuditEntry> {
  const [entry] = await appendAuditBatch(tx, head, [input]);
  return entry!;
}

/** Rows per INSERT of a batch (10 parameters each: well under the protocol's 65535). */
const INSERT_ROWS = 500;

/**
 * Append `inputs`, in order, after `head` (which the caller locked with `lockChainHead` in `tx`):
 * the chain computed here, the records written by one multi-row INSERT (per {@link INSERT_ROWS}),
 * the head moved once. `head` is advanced to the last record.
 */
export async function appendAuditBatch(
  tx: SqlQueryable,
  head: ChainHead,
  inputs: readonly AuditInput[],
): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  let prev: ChainHead = { ...head };
  for (const input of inputs) {
    const r: AuditInput = { ...input, at: normalizeTime(input.at) };
    const position = prev.position + 1;
    const hash = auditHash(prev.hash, position, r);
    entries.push(toEntry({ ...r, position, prevHash: prev.hash, hash }));
    prev = { position, hash };
  }
  if (!entries.length) return entries;
  for (let from = 0; from < entries.length; from += INSERT_ROWS) {
    const rows = entries.slice(from, from + INSERT_ROWS);
    const params: unknown[] = [];
    const values = rows.map((e) => {
      const n = params.length;
      params.push(
        e.position,
        e.kind,
        e.subject,
        e.seq ?? null,
        e.client ?? null,
        e.actorId,
        e.at,
        JSON.stringify(e.body),
        e.prevHash,
        e.hash,
      );
      return `($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}, $${n + 5}, $${n + 6}, $${n + 7}, $${n + 8}::jsonb, $${n + 9}, $${n + 10})`;
    });
    await tx.query(
      `INSERT INTO audit_log (position, kind, subject, seq, client, actor, at, body, prev_hash, hash)
       VALUES ${values.join(', ')}`,
      params,
    );
  }
  await tx.query('UPDATE audit_chain_head SET position = $1, hash = $2 WHERE id = 1', [
    prev.position,
    prev.hash,
  ]);
  head.position = prev.position;
  head.hash = prev.hash;
  return entries;
}

interface AuditRow {
  position: number;
  kind: AuditKind;
  subject: string;
  seq: number | null;
  client: string | null;
  actor: string;
  at: Date | string;
  body: Record<string, Json>;
  prev_hash: string;
  hash: string;
}

const COLUMNS = 'position, kind, subject, seq, client, actor, at, body, prev_hash, hash';

function fromRow(row: AuditRow): AuditEntry {
  return toEntry({
    position: row.position,
    kind: row.kind,
    subject: row.subject,
    seq: row.seq ?? undefined,
    client: row.client ?? undefined,
    actorId: row.actor,
    at: normalizeTime(row.at),
    body: row.body,
    prevHash: row.prev_hash,
    hash: row.hash,
  });
}

function toEntry(e: AuditInput & { position: number; prevHash: string; hash: string }): AuditEntry {
  const entry: AuditEntry = {
    position: e.position,
    kind: e.kind,
    subject: e.subject,
    actorId: e.actorId,
    at: e.at,
    body: e.body,
    prevHash: e.prevHash,
    hash: e.hash,
  };
  if (e.seq !== undefined) entry.seq = e.seq;
  if (e.client !== undefined) entry.client = e.client;
  return entry;
}

/** Audit entries matching every filter, in chain order. */
export async function queryAudit(db: SqlQueryable, q: AuditQuery = {}): Promise<AuditEntry[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: string, value: unknown): void => {
    params.push(value);
    where.push(clause.replace('?', `$${params.length}`));
  };
  if (q.kind !== undefined) add('kind = ?', q.kind);
  if (q.subject !== undefined) add('subject = ?', q.subject);
  if (q.client !== undefined) add('client = ?', q.client);
  if (q.afterPosition !== undefined) add('position > ?', q.afterPosition);
  let sql = `SELECT ${COLUMNS} FROM audit_log`;
  if (where.length) sql += ` WHERE ${where.join(' AND ')}`;
  sql += ' ORDER BY position';
  if (q.limit !== undefined) {
    params.push(q.limit);
    sql += ` LIMIT $${params.length}`;
  }
  return (await db.query<AuditRow>(sql, params)).map(fromRow);
}

/**
 * The transitions among `$1` (workflow ids) × `$2` (their seqs, pairwise) that are in the log, with
 * each one's event, definition version and actor: one probe of `audit_log_transition` per key (a
 * LATERAL subquery with LIMIT 1 is never flattened into a join), whatever the planner's statistics
 * say. A plain join let a planner that had not yet analysed a growing log hash-join against every
 * transition in it — each group commit, each register page read the whole log.
 */
export const TRANSITIONS_BY_KEY_SQL = `SELECT k.subject, k.seq, t.event, t.version, t.actor
  FROM unnest($1::text[], $2::int[]) AS k(subject, seq)
  CROSS JOIN LATERAL (
    SELECT a.body ->> 'event' AS event, a.body ->> 'version' AS version, a.actor
      FROM audit_log a
     WHERE a.kind = 'transition' AND a.subject = k.subject AND a.seq = k.seq
     LIMIT 1
  ) AS t`;

/** A transition found by {@link transitionsByKey}. */
export interface TransitionFound {
  subject: string;
  seq: number;
  event: string;
  version: string;
  actor: string;
}

/** The transitions `(workflowId, seq)` among `keys` that are in the log (one query). */
export async function transitionsByKey(
  db: SqlQueryable,
  keys: readonly { workflowId: string; seq: number }[],
): Promise<TransitionFound[]> {
  if (!keys.length) return [];
  return db.query<TransitionFound>(TRANSITIONS_BY_KEY_SQL, [
    keys.map((k) => k.workflowId),
    keys.map((k) => k.seq),
  ]);
}

/** Which of the transitions `(workflowId, seq)` already have their record, as `transitionKey`s (one query). */
export async function existingTransitions(
  db: SqlQueryable,
  keys: readonly { workflowId: string; seq: number }[],
): Promise<Set<string>> {
  return new Set((await transitionsByKey(db, keys)).map((r) => transitionKey(r.subject, r.seq)));
}

/** The key of a transition in {@link existingTransitions}' answer. */
export function transitionKey(workflowId: string, seq: number): string {
  return `${seq}:${workflowId}`;
}

function normalizeTime(at: Date | string): string {
  const d = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(d.getTime())) throw new Error(`audit record: invalid time ${String(at)}`);
  return d.toISOString();
}

const MAX_PROBLEMS = 100;
/** How far from its stored position a record is looked for when its hash fails (reordering). */
const REORDER_WINDOW = 32;
const BATCH = 1000;

/**
 * Recompute the chain from the first record: every record's hash from its content and its
 * `prev_hash`, every link to the record before, no gaps, and the head row against the last record.
 */
export async function verifyAuditChain(db: SqlQueryable): Promise<AuditVerification> {
  const problems: AuditProblem[] = [];
  let truncated = false;
  const report = (p: AuditProblem): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
    else truncated = true;
  };
  let prev: ChainHead = { position: 0, hash: GENESIS_HASH };
  let prevOk = true;
  let checked = 0;
  let head: ChainHead | undefined;
  for (;;) {
    const rows = await db.query<AuditRow>(
      `SELECT ${COLUMNS} FROM audit_log WHERE position > $1 ORDER BY position LIMIT ${BATCH}`,
      [prev.position],
    );
    for (const row of rows) {
      checked++;
      const e = fromRow(row);
      const gap = e.position !== prev.position + 1;
      if (gap)
        report({
          position: prev.position + 1,
          kind: 'missing',
          message:
            e.position === prev.position + 2
              ? `record ${prev.position + 1} is missing`
              : `records ${prev.position + 1}–${e.position - 1} are missing`,
        });
      let ok = true;
      if (auditHash(e.prevHash, e.position, e) !== e.hash) {
        ok = false;
        const at = await findWrittenPosition(db, e);
        report(
          at === undefined
            ? {
                position: e.position,
                kind: 'altered',
                message: `record ${e.position}: content does not match its hash`,
              }
            : {
                position: e.position,
                kind: 'reordered',
                message: `record ${e.position} is intact but was written at position ${at}`,
              },
        );
      } else if (!gap && prevOk && e.prevHash !== prev.hash) {
        ok = false;
        report({
          position: e.position,
          kind: 'broken_link',
          message: `record ${e.position} does not follow record ${prev.position} (prev_hash differs from its hash)`,
        });
      }
      prev = { position: e.position, hash: e.hash };
      prevOk = ok;
    }
    if (rows.length === BATCH) continue;
    // An append commits its record and the head together: a head beyond the last record read is
    // either a record appended since (read on) or records removed from the end.
    [head] = await db.query<ChainHead>('SELECT position, hash FROM audit_chain_head WHERE id = 1');
    if (!head || head.position <= prev.position) break;
    const [more] = await db.query('SELECT 1 FROM audit_log WHERE position > $1 LIMIT 1', [prev.position]);
    if (!more) break;
  }
  if (!head || head.position !== prev.position || head.hash !== prev.hash)
    report({
      position: prev.position,
      kind: 'head_mismatch',
      message: head
        ? `the chain head says ${head.position} record(s) ending in ${head.hash.slice(0, 12)}…, ` +
          `the log ends at position ${prev.position}${head.position > prev.position ? ' (records removed from the end)' : ''}`
        : 'the chain head row is missing',
    });
  return { ok: problems.length === 0, checked, head: prev, problems, truncated };
}

/** The position an intact record was written at, when it is not its stored one. */
async function findWrittenPosition(db: SqlQueryable, e: AuditEntry): Promise<number | undefined> {
  const candidates = new Set<number>();
  const [linked] = await db.query<{ position: number }>('SELECT position FROM audit_log WHERE hash = $1', [
    e.prevHash,
  ]);
  if (e.prevHash === GENESIS_HASH) candidates.add(1);
  if (linked) candidates.add(linked.position + 1);
  for (let d = 1; d <= REORDER_WINDOW; d++) candidates.add(e.position - d).add(e.position + d);
  for (const p of candidates)
    if (p > 0 && p !== e.position && auditHash(e.prevHash, p, e) === e.hash) return p;
  return undefined;
}
