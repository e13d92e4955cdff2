/**
 * Group commit of transitions (`worker/records/group-commit.ts`) on both embedded engines — PGlite
 * in memory and the embedded PostgreSQL server: concurrent commits of several instances are written
 * once each, in each instance's order, in fewer transactions than commits (counted by the database
 * itself: `audit_log.txid` is each append's transaction id), the chain verifies; a retry inside a
 * batch is skipped; a commit the database refuses fails alone; checkpoints count every append.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransitionCommit } from '../../workflows/api.ts';
import { METRICS } from '../../worker/metrics.ts';
import { TRANSITIONS_BY_KEY_SQL, transitionsByKey } from '../../worker/records/audit.ts';
import { openPgliteClient } from '../../worker/records/sql.ts';
import { createRecordsStore, groupCommitStats, openStore } from '../../worker/records/store.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import { tempDir } from '../temp-dir.ts';

const dir = tempDir('custodia-group-commit-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** This process's `custodia_audit_commit_batch_size` histogram: transactions and commits so far. */
async function batchSizes(): Promise<{ count: number; sum: number }> {
  const text = await METRICS.text();
  const read = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return {
    count: read('custodia_audit_commit_batch_size_count'),
    sum: read('custodia_audit_commit_batch_size_sum'),
  };
}

let n = 0;
function commitOf(workflowId: string, seq: number, data: Record<string, string> = {}): TransitionCommit {
  return {
    workflowId,
    procedure: 'lending',
    version: '1.0.0',
    hash: 'a'.repeat(64),
    client: 'acme',
    record: {
      seq,
      at: new Date(Date.UTC(2025, 0, 1, 0, 0, 0, n++)).toISOString(),
      event: seq === 0 ? '$start' : 'APPROVE',
      actor: { id: 'bob', roles: ['quality_manager'] },
      from: ['submitted'],
      to: ['approved'],
      clauses: [],
      data,
    },
    effects: [
      { kind: 'record', record: 'lending_log', fields: { file: `F-${seq}` } },
      { kind: 'notify', to: 'client', message: { zh: '已批准', en: 'Approved' } },
    ],
  };
}

/** The transactions that wrote the transitions of the instances whose id starts with `prefix`. */
async function transactionsOf(store: RecordsStore, prefix: string): Promise<number> {
  const [row] = await store.readOnly((db) =>
    db.query<{ n: number }>(
      `SELECT count(DISTINCT txid)::int AS n FROM audit_log WHERE kind = 'transition' AND subject LIKE $1`,
      [`${prefix}%`],
    ),
  );
  return row!.n;
}

/** `instances` instances committing seq 1..`each` one after another (as the commit sink does), all at once. */
async function commitConcurrently(store: RecordsStore, prefix: string, instances: number, each: number) {
  await Promise.all(
    Array.from({ length: instances }, async (_, i) => {
      for (let seq = 1; seq <= each; seq++) await store.commit(commitOf(`${prefix}${i}`, seq), []);
    }),
  );
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

const engines: { name: string; open: (opts?: { enabled: boolean }) => Promise<RecordsStore> }[] = [
  {
    name: 'PGlite',
    open: async (groupCommit) => createRecordsStore(await openPgliteClient(null), { groupCommit }),
  },
  {
    name: 'embedded PostgreSQL server',
    open: (groupCommit) => openStore({ dataDir: path.join(dir, 'server'), groupCommit }),
  },
];

describe.each(engines)('group commit on $name', ({ open }) => {
  let store: RecordsStore;
  beforeAll(async () => {
    store = await open();
  }, 120_000);
  afterAll(async () => {
    await store?.close();
  });

  it('writes 50 commits of 5 instances made concurrently once each, in order, in fewer transactions', async () => {
    const before = groupCommitStats(store);
    await commitConcurrently(store, 'seq-', 5, 10);
    const stats = groupCommitStats(store);
    expect(stats.writes - before.writes).toBe(50);
    expect(stats.batches).toBeGreaterThan(before.batches);
    for (let i = 0; i < 5; i++) {
      const audit = await store.auditOf(`seq-${i}`);
      expect(audit.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      // Chain order is the instance's order, and its effects are written.
      expect(audit.map((e) => e.position)).toEqual([...audit.map((e) => e.position)].sort((a, b) => a - b));
      const records = await store.recordsOf(`seq-${i}`);
      expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      // Each row keyed by its effect's position among the transition's effects, fields as written.
      expect(records[2]).toMatchObject({ idx: 1, name: 'lending_log', fields: { file: 'F-3' } });
      expect(await store.notificationsOf(`seq-${i}`)).toHaveLength(10);
    }
    expect(await transactionsOf(store, 'seq-')).toBeLessThan(50);
    const v = await store.verifyAudit();
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);
  });

  it('writes 50 commits submitted at once in two transactions (the first alone, the rest batched)', async () => {
    const before = await batchSizes();
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.commit(commitOf(`burst-${i % 10}`, i), [])));
    expect(await transactionsOf(store, 'burst-')).toBe(2);
    // The metric (`custodia_audit_commit_batch_size`) saw both: one of 1, one of 49.
    const after = await batchSizes();
    expect({ count: after.count - before.count, sum: after.sum - before.sum }).toEqual({ count: 2, sum: 50 });
    for (let k = 0; k < 10; k++)
      expect((await store.auditOf(`burst-${k}`)).map((e) => e.seq)).toEqual([
        k,
        k + 10,
        k + 20,
        k + 30,
        k + 40,
      ]);
    expect((await store.verifyAudit()).ok).toBe(true);
  });

  it('skips a retry of a written commit and a commit twice in one batch', async () => {
    await store.commit(commitOf('retry-a', 1), []);
    const before = groupCommitStats(store);
    const b = commitOf('retry-b', 1);
    await Promise.all([
      store.commit(commitOf('retry-first', 1), []),
      store.commit(commitOf('retry-a', 1), []),
      store.commit(b, []),
      store.commit(b, []),
      store.commit(commitOf('retry-a', 2), []),
    ]);
    expect(groupCommitStats(store)).toMatchObject({
      batches: before.batches + 1,
      batched: before.batched + 4,
    });
    expect((await store.auditOf('retry-a')).map((e) => e.seq)).toEqual([1, 2]);
    expect(await store.auditOf('retry-b')).toHaveLength(1);
    expect(await store.recordsOf('retry-b')).toHaveLength(1);
    expect(await store.notificationsOf('retry-a')).toHaveLength(2);
    expect((await store.verifyAudit()).ok).toBe(true);
  });

  it('fails only the commit the database refuses, the others of its batch are written', async () => {
    const before = groupCommitStats(store);
    // jsonb refuses \u0000 in a string: the audit INSERT of this record fails.
    const results = await Promise.allSettled([
      store.commit(commitOf('fail-first', 1), []),
      store.commit(commitOf('fail-ok', 1), []),
      store.commit(commitOf('fail-bad', 1, { note: 'nul\u0000byte' }), []),
      store.commit(commitOf('fail-ok', 2), []),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[2] as PromiseRejectedResult).reason)).toMatch(/\\u0000|unicode|escape/i);
    expect(groupCommitStats(store).failedBatches).toBe(before.failedBatches + 1);
    expect(await store.auditOf('fail-bad')).toEqual([]);
    expect(await store.recordsOf('fail-bad')).toEqual([]);
    expect((await store.auditOf('fail-ok')).map((e) => e.seq)).toEqual([1, 2]);
    expect((await store.verifyAudit()).ok).toBe(true);
  });

  it("writes a batched commit's refusal records right after its own, and its links", async () => {
    const before = groupCommitStats(store);
    await Promise.all([
      store.commit(commitOf('links-first', 1), []),
      store.commit(commitOf('links-parent', 1), [
        { workflowId: 'links-child-ok', procedure: 'case', seq: 1 },
        { workflowId: 'links-child-refused', procedure: 'case', seq: 1, failed: 'input refused' },
      ]),
      store.commit(commitOf('links-other', 1), []),
    ]);
    expect(groupCommitStats(store).batches).toBe(before.batches + 1);
    const [parent, refusal, other] = await store.audit({
      afterPosition: (await store.auditOf('links-parent'))[0]!.position - 1,
      limit: 3,
    });
    expect(parent).toMatchObject({ kind: 'transition', subject: 'links-parent' });
    expect(refusal).toMatchObject({
      kind: 'refusal',
      subject: 'links-parent',
      seq: 1,
      body: { code: 'LINKED_START_REFUSED', workflowId: 'links-child-refused', reason: 'input refused' },
    });
    expect(other).toMatchObject({ kind: 'transition', subject: 'links-other' });
    const links = await store.readOnly((db) =>
      db.query(`SELECT child_workflow_id FROM instance_links WHERE parent_workflow_id = 'links-parent'`),
    );
    expect(links).toEqual([{ child_workflow_id: 'links-child-ok' }]);
    expect((await store.verifyAudit()).ok).toBe(true);
  });

  it('commits a lone commit in a transaction of its own', async () => {
    const before = groupCommitStats(store);
    await store.commit(commitOf('lone', 1), []);
    expect(groupCommitStats(store)).toMatchObject({ batches: before.batches, writes: before.writes + 1 });
    expect(await store.auditOf('lone')).toHaveLength(1);
    expect(await transactionsOf(store, 'lone')).toBe(1);
  });

  // The lookup of transitions by key (the batch's check for already-written ones, a register
  // page's transitions) probes the index once per key, however many transitions the log holds
  // and whatever the planner's statistics say (PGlite never analyses a table by itself).
  it('finds transitions by one index probe per key, however many the log holds', async () => {
    await commitConcurrently(store, 'many-', 40, 50);
    const keys = Array.from({ length: 20 }, (_, i) => ({ workflowId: `many-${i}`, seq: i % 2 ? 60 : 7 }));
    const params = [keys.map((k) => k.workflowId), keys.map((k) => k.seq)];
    expect(await mostAuditRowsRead(store, TRANSITIONS_BY_KEY_SQL, params)).toBeLessThanOrEqual(keys.length);
    const found = await store.readOnly((db) => transitionsByKey(db, keys));
    expect(found.map((r) => `${r.subject}:${r.seq}`).sort()).toEqual(
      keys
        .filter((k) => k.seq === 7)
        .map((k) => `${k.workflowId}:7`)
        .sort(),
    );
    expect(found[0]).toMatchObject({ event: 'APPROVE', version: '1.0.0', actor: 'bob' });
  });
});

describe('group commit off', () => {
  it('writes concurrent commits each in its own transaction', async () => {
    const store = await createRecordsStore(await openPgliteClient(null), { groupCommit: { enabled: false } });
    try {
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.commit(commitOf(`off-${i % 4}`, i), [])));
      expect(await transactionsOf(store, 'off-')).toBe(20);
      expect(groupCommitStats(store)).toMatchObject({ writes: 20, batches: 0 });
      expect((await store.verifyAudit()).ok).toBe(true);
    } finally {
      await store.close();
    }
  });
});

describe('group commit and checkpoints', () => {
  it('counts every batched append towards the next checkpoint', async () => {
    const store = await createRecordsStore(await openPgliteClient(null), {
      checkpoints: {
        keyFile: path.join(dir, 'key.pem'),
        logFile: path.join(dir, 'checkpoints.jsonl'),
        every: 20,
      },
    });
    try {
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.commit(commitOf(`cp-${i % 5}`, i), [])));
      expect(await transactionsOf(store, 'cp-')).toBe(2);
      // 50 appends, every 20: a checkpoint in the background (none if the 2 transactions counted as 2).
      const deadline = Date.now() + 10_000;
      while (!(await store.checkpoints()).checkpoints.length && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect((await store.checkpoints()).checkpoints.length).toBeGreaterThanOrEqual(1);
      expect((await store.verifyAudit()).ok).toBe(true);
    } finally {
      await store.close();
    }
  });
});
