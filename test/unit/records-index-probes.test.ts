/**
 * Lookups of transitions by `(workflow id, seq)` in the audit log probe its index once per key,
 * however many transitions the log holds and whatever the planner's statistics say: the group
 * commit's check for already-written transitions (`EXISTING_TRANSITIONS_SQL`, on both embedded
 * engines — PGlite never analyses a table by itself, the server only after a while) and a register
 * page's transitions (`REGISTER_TRANSITIONS_SQL`). Read from `EXPLAIN (ANALYZE, FORMAT JSON)`: the
 * rows each plan node over `audit_log` read, over all its loops.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransitionCommit } from '../../workflows/api.ts';
import { EXISTING_TRANSITIONS_SQL } from '../../worker/records/audit.ts';
import { REGISTER_TRANSITIONS_SQL } from '../../worker/records/registers.ts';
import { openPgliteClient } from '../../worker/records/sql.ts';
import { createRecordsStore, openStore } from '../../worker/records/store.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import { tempDir } from '../temp-dir.ts';

const dir = tempDir('custodia-index-probes-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function commitOf(workflowId: string, seq: number): TransitionCommit {
  return {
    workflowId,
    procedure: 'lending',
    version: '1.0.0',
    hash: 'a'.repeat(64),
    client: 'acme',
    record: {
      seq,
      at: new Date(Date.UTC(2025, 0, 1, 0, 0, seq)).toISOString(),
      event: 'APPROVE',
      actor: { id: 'bob', roles: ['quality_manager'] },
      from: ['submitted'],
      to: ['approved'],
      clauses: [],
    },
    effects: [{ kind: 'record', record: 'lending_log', fields: { file: `F-${seq}` } }],
  };
}

/** The most rows any plan node over `audit_log` read (rows × loops) running `sql` with `params`. */
async function mostAuditRowsRead(store: RecordsStore, sql: string, params: unknown[]): Promise<number> {
  const [row] = await store.readOnly((db) =>
    db.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params),
  );
  const read: number[] = [];
  const walk = (node: Record<string, unknown>): void => {
    if (node['Relation Name'] === 'audit_log' || String(node['Index Name'] ?? '').startsWith('audit_log'))
      read.push(Number(node['Actual Rows']) * Number(node['Actual Loops']));
    for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
  };
  const plan = row!['QUERY PLAN'];
  walk((typeof plan === 'string' ? JSON.parse(plan) : plan)[0].Plan);
  expect(read.length).toBeGreaterThan(0);
  return Math.max(...read);
}

const engines: { name: string; open: () => Promise<RecordsStore> }[] = [
  { name: 'PGlite', open: async () => createRecordsStore(await openPgliteClient(null)) },
  { name: 'embedded PostgreSQL server', open: () => openStore({ dataDir: path.join(dir, 'server') }) },
];

describe.each(engines)('transition lookups on $name', ({ open }) => {
  let store: RecordsStore;
  // 40 instances × 50 transitions, committed concurrently (grouped), 20 keys looked up.
  const keys = Array.from({ length: 20 }, (_, i) => ({ subject: `many-${i}`, seq: i % 2 ? 60 : 7 }));
  const present = keys.filter((k) => k.seq === 7).map((k) => `${k.subject}:7`);
  beforeAll(async () => {
    store = await open();
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        for (let seq = 1; seq <= 50; seq++) await store.commit(commitOf(`many-${i}`, seq), []);
      }),
    );
  }, 120_000);
  afterAll(async () => {
    await store?.close();
  });

  it('already-written transitions (group commit): one index probe per key', async () => {
    const params = [JSON.stringify(keys)];
    expect(await mostAuditRowsRead(store, EXISTING_TRANSITIONS_SQL, params)).toBeLessThanOrEqual(keys.length);
    const found = await store.readOnly((db) =>
      db.query<{ subject: string; seq: number }>(EXISTING_TRANSITIONS_SQL, params),
    );
    expect(found.map((r) => `${r.subject}:${r.seq}`).sort()).toEqual(present.sort());
  });

  it('the transitions of a register page: one index probe per row', async () => {
    const params = [keys.map((k) => k.subject), keys.map((k) => k.seq)];
    expect(await mostAuditRowsRead(store, REGISTER_TRANSITIONS_SQL, params)).toBeLessThanOrEqual(keys.length);
    const found = await store.readOnly((db) =>
      db.query<{ subject: string; seq: number; event: string; version: string; actor: string }>(
        REGISTER_TRANSITIONS_SQL,
        params,
      ),
    );
    expect(found.map((r) => `${r.subject}:${r.seq}`).sort()).toEqual(present.sort());
    expect(found[0]).toMatchObject({ event: 'APPROVE', version: '1.0.0', actor: 'bob' });
  });
});
