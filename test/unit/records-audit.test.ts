/**
 * The audit chain on the embedded store (in-memory PGlite): idempotent commits, a gapless chain,
 * the append-only trigger, and verification that finds altered, missing and reordered records.
 * Tampering drops the trigger, changes rows by raw SQL, checks `verifyAudit`, then puts the rows
 * back (so one store serves the file).
 */
import { describe, expect, it } from 'vitest';
import type { TransitionCommit } from '../../workflows/api.ts';
import { auditHash, GENESIS_HASH } from '../../worker/records/audit.ts';
import type { SqlClient } from '../../worker/records/sql.ts';
import type { AuditEntry, RecordsStore } from '../../worker/records/types.ts';
import { withMemoryStore } from '../support/records.ts';

let sql: SqlClient;
let store: RecordsStore;

withMemoryStore((s) => ({ sql, store } = s));

let n = 0;
function commitOf(workflowId: string, seq: number, extra: Partial<TransitionCommit> = {}): TransitionCommit {
  return {
    workflowId,
    procedure: 'lending',
    version: '1.0.0',
    hash: 'a'.repeat(64),
    client: 'acme',
    record: {
      seq,
      at: new Date(Date.UTC(2025, 0, 1, 0, 0, n++)).toISOString(),
      event: seq === 0 ? '$start' : 'APPROVE',
      actor: { id: 'bob', roles: ['quality_manager'] },
      from: ['submitted'],
      to: ['approved'],
      clauses: ['4.2.2'],
      data: { window_hours: 4 },
    },
    effects: [
      { kind: 'record', record: 'lending_log', fields: { file: 'F-1', borrower: 'bob' } },
      { kind: 'notify', to: 'client', message: { zh: '已批准', en: 'Approved' } },
    ],
    ...extra,
  };
}

/** Run raw SQL with the append-only trigger off (as someone with database access could). */
async function tamper(statements: string): Promise<void> {
  await sql.exec(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only; ${statements};
    ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;`);
}

async function entry(position: number): Promise<AuditEntry> {
  const [e] = await store.audit({ afterPosition: position - 1, limit: 1 });
  if (!e) throw new Error(`no record ${position}`);
  return e;
}

describe('records store: commit', () => {
  it('writes a transition once, whatever the retries (sequential and concurrent)', async () => {
    const c = commitOf('wf-retry', 1);
    await store.commit(c, [{ workflowId: 'child-1', procedure: 'case', seq: 1 }]);
    await store.commit(c, [{ workflowId: 'child-1', procedure: 'case', seq: 1 }]);
    await Promise.all([store.commit(c, []), store.commit(c, []), store.commit(c, [])]);
    const audit = await store.auditOf('wf-retry');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      kind: 'transition',
      subject: 'wf-retry',
      seq: 1,
      client: 'acme',
      actorId: 'bob',
      body: {
        event: 'APPROVE',
        clauses: ['4.2.2'],
        data: { window_hours: 4 },
        children: [{ workflowId: 'child-1', procedure: 'case' }],
      },
    });
    expect(await store.notificationsOf('wf-retry')).toEqual([
      { seq: 1, recipient: 'client', en: 'Approved' },
    ]);
    expect(await store.recordsOf('wf-retry')).toMatchObject([
      { seq: 1, idx: 1, name: 'lending_log', fields: { file: 'F-1', borrower: 'bob' } },
    ]);
  });

  it('keeps one gapless chain under 50 parallel commits, each record hashing its predecessor', async () => {
    const before = (await store.verifyAudit()).head.position;
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.commit(commitOf(`wf-par-${i % 5}`, i), [])));
    const all = await store.audit();
    expect(all.map((e) => e.position)).toEqual(all.map((_, i) => i + 1));
    expect(all.length).toBe(before + 50);
    for (const [i, e] of all.entries()) {
      expect(e.prevHash).toBe(i === 0 ? GENESIS_HASH : all[i - 1]!.hash);
      expect(auditHash(e.prevHash, e.position, e)).toBe(e.hash);
    }
    const v = await store.verifyAudit();
    expect(v).toMatchObject({ ok: true, checked: all.length, problems: [] });
    expect(v.head).toEqual({ position: all.at(-1)!.position, hash: all.at(-1)!.hash });
  });

  it('selects by instance, by client and by page', async () => {
    await store.commit(commitOf('wf-other', 0, { client: 'globex' }), []);
    expect((await store.auditOf('wf-par-1')).map((e) => e.seq)).toEqual([
      1, 6, 11, 16, 21, 26, 31, 36, 41, 46,
    ]);
    expect((await store.auditOfClient('globex')).map((e) => e.subject)).toEqual(['wf-other']);
    const page = await store.audit({ afterPosition: 3, limit: 2 });
    expect(page.map((e) => e.position)).toEqual([4, 5]);
  });
});

describe('records store: append-only', () => {
  it('refuses UPDATE, DELETE and TRUNCATE of the audit log', async () => {
    await expect(sql.query(`UPDATE audit_log SET actor = 'mallory' WHERE position = 1`)).rejects.toThrow(
      /append-only/,
    );
    await expect(sql.query('DELETE FROM audit_log WHERE position = 1')).rejects.toThrow(/append-only/);
    await expect(sql.exec('TRUNCATE audit_log CASCADE')).rejects.toThrow(/append-only/);
    expect((await store.verifyAudit()).ok).toBe(true);
  });
});

describe('records store: verifyAudit', () => {
  it('finds an altered body', async () => {
    const original = await entry(3);
    await tamper(`UPDATE audit_log SET body = jsonb_set(body, '{event}', '"REJECT"') WHERE position = 3`);
    const v = await store.verifyAudit();
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual([
      { position: 3, kind: 'altered', message: expect.stringMatching(/record 3/) },
    ]);
    await tamper(`UPDATE audit_log SET body = '${JSON.stringify(original.body)}'::jsonb WHERE position = 3`);
    expect((await store.verifyAudit()).ok).toBe(true);
  });

  it('finds an altered actor or time, not only the body', async () => {
    await tamper(`UPDATE audit_log SET actor = 'mallory' WHERE position = 2`);
    expect((await store.verifyAudit()).problems).toMatchObject([{ position: 2, kind: 'altered' }]);
    await tamper(`UPDATE audit_log SET actor = 'bob' WHERE position = 2`);
    const at = (await entry(2)).at;
    await tamper(`UPDATE audit_log SET at = at + interval '1 second' WHERE position = 2`);
    expect((await store.verifyAudit()).problems).toMatchObject([{ position: 2, kind: 'altered' }]);
    await tamper(`UPDATE audit_log SET at = '${at}' WHERE position = 2`);
    expect((await store.verifyAudit()).ok).toBe(true);
  });

  it('finds a deleted record', async () => {
    const [row] = await sql.query<Record<string, unknown>>('SELECT * FROM audit_log WHERE position = 5');
    await tamper('DELETE FROM audit_log WHERE position = 5');
    const v = await store.verifyAudit();
    expect(v.problems).toEqual([{ position: 5, kind: 'missing', message: 'record 5 is missing' }]);
    await sql.query(`INSERT INTO audit_log SELECT * FROM jsonb_populate_record(NULL::audit_log, $1::jsonb)`, [
      JSON.stringify(row),
    ]);
    expect((await store.verifyAudit()).ok).toBe(true);
  });

  it('finds a swapped pair', async () => {
    const swap = (a: number, b: number): string =>
      `UPDATE audit_log SET position = 1000000 WHERE position = ${a};
       UPDATE audit_log SET position = ${a} WHERE position = ${b};
       UPDATE audit_log SET position = ${b} WHERE position = 1000000`;
    await tamper(swap(7, 8));
    const v = await store.verifyAudit();
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual([
      { position: 7, kind: 'reordered', message: 'record 7 is intact but was written at position 8' },
      { position: 8, kind: 'reordered', message: 'record 8 is intact but was written at position 7' },
    ]);
    await tamper(swap(7, 8));
    expect((await store.verifyAudit()).ok).toBe(true);
  });

  it('finds records removed from the end through the chain head', async () => {
    const last = await store.verifyAudit();
    const [row] = await sql.query<Record<string, unknown>>('SELECT * FROM audit_log WHERE position = $1', [
      last.head.position,
    ]);
    await tamper(`DELETE FROM audit_log WHERE position = ${last.head.position}`);
    const v = await store.verifyAudit();
    expect(v.problems).toMatchObject([
      { position: last.head.position - 1, kind: 'head_mismatch', message: expect.stringMatching(/removed/) },
    ]);
    await sql.query(`INSERT INTO audit_log SELECT * FROM jsonb_populate_record(NULL::audit_log, $1::jsonb)`, [
      JSON.stringify(row),
    ]);
    expect((await store.verifyAudit()).ok).toBe(true);
  });

  it('finds a forged record that hashes correctly but does not link', async () => {
    const head = (await store.verifyAudit()).head;
    const forged = {
      kind: 'admin' as const,
      subject: 'user:mallory',
      actorId: 'mallory',
      at: '2025-01-01T00:00:00.000Z',
      body: { act: 'user.create' },
    };
    const position = head.position + 1;
    const prev = 'f'.repeat(64);
    const hash = auditHash(prev, position, forged);
    await sql.query(
      `INSERT INTO audit_log (position, kind, subject, actor, at, body, prev_hash, hash)
       VALUES ($1, 'admin', 'user:mallory', 'mallory', $2, $3::jsonb, $4, $5)`,
      [position, forged.at, JSON.stringify(forged.body), prev, hash],
    );
    const v = await store.verifyAudit();
    expect(v.problems.map((p) => [p.position, p.kind])).toEqual([
      [position, 'broken_link'],
      [position, 'head_mismatch'],
    ]);
    await tamper(`DELETE FROM audit_log WHERE position = ${position}`);
    expect((await store.verifyAudit()).ok).toBe(true);
  });
});
