/**
 * The dashboard's queries at 100,000 transitions: each chart's query timed on a records store
 * filled with that many transition records (goal: ≤ 300 ms each).
 *
 *   npm run bench:dashboard [-- --transitions 100000] [--clients 20] [--people 50] [--reps 7]
 *                              [--dir DIR | --memory] [--out FILE|-]
 *
 * - Store: the embedded one (PGlite) in a fresh temporary folder (or `--dir`; `--memory`: in
 *   memory), or PostgreSQL with DATABASE_URL (a database of its own: the benchmark appends
 *   100,000 audit records that cannot be removed).
 * - Fill: instances of `test/fixtures/dashboard-review.yaml` started over the last 180 days, spread
 *   over `--clients` clients and `--people` people; each instance walks submitted → review.checking
 *   → review.deciding → issuing → done (or rejected), stopping early at random (open instances),
 *   with step gaps of 1 h – 4 days (so SLAs are met and missed). The records are the shape
 *   `store.commit` writes, appended to the hash chain in batches (`auditHash`: a valid chain).
 * - Then every chart's query (`DASHBOARD_QUERIES`) and the drill-downs, `--reps` times each after
 *   one warm-up, for: a manager (every client), a user assigned to three clients, and one
 *   client + one procedure filtered; median, p95 and max in ms.
 * - Results: results/dashboard.json (machine, load average, every figure) and a summary.
 */
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import path from 'node:path';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { validateProcedureText } from '../../workflows/core/validate.ts';
import type { Json, ProcedureIR } from '../../workflows/core/ir.ts';
import { auditHash, GENESIS_HASH } from '../../worker/records/audit.ts';
import { openPgliteClient, openPostgresClient, type SqlClient } from '../../worker/records/sql.ts';
import { createRecordsStore } from '../../worker/records/store.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import {
  computeDashboard,
  DASHBOARD_CHARTS,
  dashboardInstances,
  dashboardModel,
  dashboardPeriod,
  type DashboardChart,
  type DashboardScope,
  type DrillDown,
} from '../../worker/dashboard.ts';
import { inScope } from '../../worker/dashboard-charts.ts';
import { TransitionIndex, transitionIndex } from '../../worker/dashboard-index.ts';
import { formatJson, percentile } from './stats.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    transitions: { type: 'string', default: '100000' },
    clients: { type: 'string', default: '20' },
    people: { type: 'string', default: '50' },
    reps: { type: 'string', default: '7' },
    dir: { type: 'string' },
    memory: { type: 'boolean', default: false },
    out: { type: 'string', default: path.join(HERE, 'results/dashboard.json') },
  },
});
const TRANSITIONS = Number(args.transitions);
const CLIENTS = Number(args.clients);
const PEOPLE = Number(args.people);
const REPS = Number(args.reps);

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = new Date();

/** A small deterministic generator (mulberry32), so every run fills the same records. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Row {
  subject: string;
  seq: number;
  client: string;
  actor: string;
  at: string;
  body: Record<string, Json>;
}

const PATH: [string, string[], string][] = [
  ['$start', ['submitted'], 'staff'],
  ['ACCEPT', ['review.checking'], 'reviewer'],
  ['CHECK', ['review.deciding'], 'reviewer'],
  ['APPROVE', ['issuing'], 'reviewer'],
  ['ISSUE', ['done'], 'clerk'],
];

/** The instances' transitions, oldest instance first, `total` in all. */
function* transitions(ir: ProcedureIR, total: number, prefix = 'dash_review'): Generator<Row> {
  const rnd = random(42);
  let n = 0;
  for (let i = 0; n < total; i++) {
    const subject = `${prefix}-${i.toString(36).padStart(6, '0')}`;
    const client = `client-${Math.floor(rnd() * CLIENTS)}`;
    let t = NOW.getTime() - 180 * DAY + ((i * 4) / total) * 175 * DAY + rnd() * HOUR;
    // Most run to the end; some stop early (open), a fifth are rejected after checking.
    const rejected = rnd() < 0.2;
    const steps = rnd() < 0.15 ? 1 + Math.floor(rnd() * 3) : 5;
    let from: string[] = [];
    for (let seq = 0; seq < steps && n < total; seq++) {
      const [event, to, role] = rejected && seq === 3 ? ['REJECT', ['rejected'], 'reviewer'] : PATH[seq]!;
      if (seq > 0) t += HOUR + rnd() * (rnd() < 0.3 ? 4 * DAY : DAY);
      if (t > NOW.getTime()) break;
      const actor = `${role}-${Math.floor(rnd() * PEOPLE)}`;
      yield {
        subject,
        seq,
        client,
        actor,
        at: new Date(t).toISOString(),
        body: {
          procedure: ir.id,
          version: ir.version,
          definitionHash: 'bench',
          event,
          actorRoles: [role],
          from,
          to,
          clauses: ['4.2.2'],
          effects: [],
          children: [],
          ...(seq === 0 ? { data: { client } } : {}),
        },
      };
      n++;
      from = to;
      if (to[0] === 'rejected') break;
    }
  }
}

/** Append the rows to the hash chain, `batch` per statement, in one transaction per 5,000. */
async function fill(sql: SqlClient, rows: Iterable<Row>): Promise<number> {
  let head = (
    await sql.query<{ position: number; hash: string }>('SELECT position, hash FROM audit_chain_head')
  )[0] ?? {
    position: 0,
    hash: GENESIS_HASH,
  };
  let pending: Row[] = [];
  let count = 0;
  const flush = async (): Promise<void> => {
    if (!pending.length) return;
    const batch = pending;
    pending = [];
    await sql.transaction(async (tx) => {
      await tx.query('SELECT 1 FROM audit_chain_head WHERE id = 1 FOR UPDATE');
      for (let i = 0; i < batch.length; i += 500) {
        const params: unknown[] = [];
        const values: string[] = [];
        for (const r of batch.slice(i, i + 500)) {
          const position = head.position + 1;
          const input = {
            kind: 'transition' as const,
            subject: r.subject,
            seq: r.seq,
            client: r.client,
            actorId: r.actor,
            at: r.at,
            body: r.body,
          };
          const hash = auditHash(head.hash, position, input);
          const base = params.length;
          params.push(
            position,
            r.subject,
            r.seq,
            r.client,
            r.actor,
            r.at,
            JSON.stringify(r.body),
            head.hash,
            hash,
          );
          values.push(
            `($${base + 1}, 'transition', $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}, $${base + 6}, $${base + 7}::jsonb, $${base + 8}, $${base + 9})`,
          );
          head = { position, hash };
        }
        await tx.query(
          `INSERT INTO audit_log (position, kind, subject, seq, client, actor, at, body, prev_hash, hash) VALUES ${values.join(', ')}`,
          params,
        );
      }
      await tx.query('UPDATE audit_chain_head SET position = $1, hash = $2 WHERE id = 1', [
        head.position,
        head.hash,
      ]);
    });
    count += batch.length;
  };
  for (const r of rows) {
    pending.push(r);
    if (pending.length >= 5000) await flush();
  }
  await flush();
  return count;
}

interface Figure {
  median: number;
  p95: number;
  max: number;
  rows: number;
}

async function time(run: () => Promise<unknown>): Promise<Figure> {
  const first = await run();
  const samples: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    await run();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  const r = (x: number): number => Math.round(x * 10) / 10;
  const rows = Array.isArray(first) ? first.length : ((first as { total?: number }).total ?? 0);
  return {
    median: r(percentile(samples, 50)),
    p95: r(percentile(samples, 95)),
    max: r(samples.at(-1)!),
    rows,
  };
}

async function main(): Promise<void> {
  const ir = validateProcedureText(
    readFileSync(path.join(HERE, '../fixtures/dashboard-review.yaml'), 'utf8'),
    'dashboard-review.yaml',
  ).ir!;
  const url = process.env.DATABASE_URL;
  const dir =
    url || args.memory ? undefined : (args.dir ?? mkdtempSync(path.join(tmpdir(), 'custodia-dashboard-')));
  const sql = url ? await openPostgresClient(url) : await openPgliteClient(dir ?? null);
  const store: RecordsStore = await createRecordsStore(sql);
  const backend = url ? 'postgres' : args.memory ? 'pglite (memory)' : 'pglite (folder)';
  try {
    const t0 = performance.now();
    const filled = await fill(sql, transitions(ir, TRANSITIONS));
    const fillS = (performance.now() - t0) / 1000;
    const [{ instances } = { instances: 0 }] = await sql.query<{ instances: number }>(
      `SELECT count(DISTINCT subject)::int AS instances FROM audit_log WHERE kind = 'transition'`,
    );
    await sql.exec('ANALYZE audit_log');
    console.log(
      `${backend}: ${filled} transitions of ${instances} instances appended in ${fillS.toFixed(1)} s`,
    );

    const model = dashboardModel([ir]);
    const period = dashboardPeriod({}, new Date());
    // Reading the whole log once (a process's first dashboard), then only what was appended since.
    const cold: number[] = [];
    for (let i = 0; i < Math.min(REPS, 3); i++) {
      const t = performance.now();
      await new TransitionIndex(store).refresh();
      cold.push(performance.now() - t);
    }
    cold.sort((a, b) => a - b);
    const index = await transitionIndex(store);
    const extra = [...transitions(ir, 100, 'late')];
    await fill(sql, extra);
    const t1 = performance.now();
    await index.refresh();
    const incremental = performance.now() - t1;
    console.log(
      `index: whole log read in ${Math.round(percentile(cold, 50))} ms (median of ${cold.length}), ` +
        `${extra.length} new records in ${Math.round(incremental)} ms; ${index.size} transitions held`,
    );
    const scopes: Record<string, DashboardScope> = {
      'manager (every client)': {},
      'three clients': { clients: ['client-0', 'client-1', 'client-2'] },
      'one client, one procedure': { client: 'client-3', procedure: ir.id },
    };
    const results: Record<string, Record<string, Figure>> = {};
    for (const [name, scope] of Object.entries(scopes)) {
      const figures: Record<string, Figure> = {};
      figures['whole dashboard (API)'] = await time(
        async () => (await computeDashboard(store, scope, model, period)).openByState,
      );
      const instances = [...inScope(index.instances(), scope)];
      for (const chart of Object.keys(DASHBOARD_CHARTS) as DashboardChart[])
        figures[chart] = await time(async () => DASHBOARD_CHARTS[chart](instances, model, period));
      const day = new Date(NOW.getTime() - DAY).toISOString().slice(0, 10);
      const drills: Record<string, DrillDown> = {
        'instances: overdue yesterday': { chart: 'overdue', day },
        'instances: breaches last month': {
          chart: 'breaches',
          month: new Date(NOW.getTime() - 30 * DAY).toISOString().slice(0, 7),
        },
        'instances: cycle': { chart: 'cycle', procedure: ir.id },
        'instances: person': { chart: 'person', actor: 'reviewer-7' },
      };
      for (const [label, drill] of Object.entries(drills))
        figures[label] = await time(() => dashboardInstances(store, scope, model, period, drill));
      results[name] = figures;
      console.log(`\n${name}: median / p95 / max ms (rows)`);
      for (const [k, f] of Object.entries(figures))
        console.log(
          `  ${k.padEnd(32)} ${String(f.median).padStart(7)} ${String(f.p95).padStart(7)} ${String(f.max).padStart(7)}  (${f.rows})`,
        );
    }
    // The goal is per query: each chart and each drill-down (the whole dashboard is all six at once).
    const perQuery = Object.values(results).flatMap((r) =>
      Object.entries(r)
        .filter(([k]) => k !== 'whole dashboard (API)')
        .map(([, f]) => f.median),
    );
    const worst = Math.max(...perQuery);
    console.log(
      `\nslowest query (median): ${worst} ms (goal ≤ 300 ms each: ${worst <= 300 ? 'met' : 'NOT met'})`,
    );
    const out = {
      at: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        model: cpus()[0]?.model,
        memoryGb: Math.round(totalmem() / 2 ** 30),
        loadavg: loadavg(),
      },
      node: process.version,
      backend,
      transitions: filled,
      instances,
      fillSeconds: Math.round(fillS * 10) / 10,
      index: {
        wholeLogMs: Math.round(percentile(cold, 50)),
        newRecords: extra.length,
        newRecordsMs: Math.round(incremental),
      },
      reps: REPS,
      results,
    };
    if (args.out === '-') console.log(JSON.stringify(out, null, 2));
    else {
      mkdirSync(path.dirname(args.out), { recursive: true });
      writeFileSync(args.out, await formatJson(out, args.out));
      console.log(`results: ${path.relative(process.cwd(), args.out)}`);
    }
  } finally {
    await store.close();
    if (dir && !args.dir) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
