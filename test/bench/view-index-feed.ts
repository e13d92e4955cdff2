/**
 * What the view index's freshness costs at 100,000 running instances, without a Temporal server
 * of that size (`npm run bench:scale` measures the views themselves):
 *
 * 1. the change feed's query (`instancesChangedAfter`) on the embedded store (PGlite, in memory)
 *    holding 500,000 transition records of 100,000 instances, one every 100 ms — for 0 to 10,000
 *    records after the last reading's head, with the default margin (records of the ten seconds
 *    before it, at most 5,000 positions back);
 * 2. `applyRow` (a write made through this process, `ViewIndex.touch`) on a snapshot of 100,000
 *    rows: an assignment (same place in the order) and a transition (moved);
 * 3. `snapshotOf` of 100,000 rows, what every refresh pays once, for comparison.
 *
 * Run: `npx tsx test/bench/view-index-feed.ts` (prints JSON; medians of 7 after one unmeasured).
 */
import { performance } from 'node:perf_hooks';
import { chainHead, instancesChangedAfter } from '../../worker/records/changed-instances.ts';
import { migrate } from '../../worker/records/schema.ts';
import { openPgliteClient } from '../../worker/records/sql.ts';
import { applyRow, snapshotOf } from '../../worker/view-index.ts';
import { FEED_LIMIT, FEED_LOOK_BACK, FEED_MARGIN_MS } from '../../worker/view-index-changes.ts';
import type { InstanceRow } from '../../worker/visibility.ts';

const INSTANCES = 100_000;
const RECORDS = 500_000;
const SPACING_MS = 100;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timed(fn: () => Promise<unknown> | unknown, reps = 7): Promise<number> {
  await fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return Math.round(median(out) * 100) / 100;
}

async function feedQuery(): Promise<Record<string, unknown>> {
  const sql = await openPgliteClient(null);
  await migrate(sql);
  const t0 = performance.now();
  // One record every 100 ms ending now; instance g % 100,000 (five records each).
  await sql.query(
    `INSERT INTO audit_log (position, kind, subject, seq, client, actor, at, body, prev_hash, hash)
     SELECT g, 'transition', 'wf-' || (g % $1), g / $1, 'Client', 'someone',
            now() - (($2 - g) * $3 * interval '1 millisecond'), '{"event":"$assign"}'::jsonb, 'x', 'h' || g
     FROM generate_series(1, $2) g`,
    [INSTANCES, RECORDS, SPACING_MS],
  );
  await sql.query('UPDATE audit_chain_head SET position = $1 WHERE id = 1', [RECORDS]);
  const seeded = Math.round(performance.now() - t0);
  const head = await chainHead(sql);
  const out: Record<string, unknown> = { seededMs: seeded, head };
  for (const k of [0, 100, 1_000, 10_000]) {
    const after = head - k;
    // The last reading began when record `after` was written; the margin reaches ten seconds before.
    const [{ at } = { at: new Date() }] = await sql.query<{ at: Date }>(
      'SELECT at FROM audit_log WHERE position = $1',
      [after],
    );
    const since = new Date(new Date(at).getTime() - FEED_MARGIN_MS);
    let ids = 0;
    const ms = await timed(async () => {
      const r = await sql.transaction((tx) =>
        instancesChangedAfter(tx, { after, since, lookBack: FEED_LOOK_BACK, limit: FEED_LIMIT }),
      );
      ids = r.ids.length;
    });
    out[`after head-${k}`] = { ms, instances: ids };
  }
  await sql.close();
  return out;
}

function row(i: number, stateSince: number): InstanceRow {
  return {
    workflowId: `wf-${i}`,
    status: 'RUNNING',
    state: ['waiting'],
    awaiting: ['quality_manager'],
    overdue: false,
    stateSince: new Date(stateSince).toISOString(),
    ...(i % 3 ? { dueAt: new Date(stateSince + 86_400_000).toISOString() } : {}),
    client: `Client ${i % 20}`,
  };
}

async function snapshotCosts(): Promise<Record<string, unknown>> {
  const base = Date.UTC(2026, 11, 1);
  const rows = Array.from({ length: INSTANCES }, (_, i) => row(i, base + i * 6_000));
  const sortMs = await timed(() => snapshotOf(rows, new Date(), 0), 3);
  const s = snapshotOf(rows, new Date(), 0);
  let n = 0;
  const touches = 1_000;
  const assign = await timed(() => {
    for (let k = 0; k < touches; k++) {
      const i = (n++ * 7919) % INSTANCES;
      applyRow(s, `wf-${i}`, { ...s.byId.get(`wf-${i}`)!, assignees: [`u${n % 5}`] });
    }
  }, 3);
  const move = await timed(() => {
    for (let k = 0; k < touches; k++) {
      const i = (n++ * 7919) % INSTANCES;
      applyRow(s, `wf-${i}`, row(i, base + INSTANCES * 6_000 + n));
    }
  }, 3);
  return {
    rows: s.rows.length,
    snapshotOfMs: sortMs,
    applyRowAssignmentUs: Math.round((assign / touches) * 1000),
    applyRowMovedUs: Math.round((move / touches) * 1000),
  };
}

const only = process.argv[2];
const result = {
  ...(only !== 'snapshot' ? { feed: await feedQuery() } : {}),
  snapshot: await snapshotCosts(),
};
console.log(JSON.stringify(result, null, 2));
