/**
 * A register of 100,000 rows through the HTTP API: the first page and filtered pages.
 *
 *   npm run bench:registers [-- --rows 100000] [--reps 20] [--store memory|DIR] [--out FILE|-]
 *
 * - The records store: embedded PGlite (in memory by default, or a folder), migrated as at any open.
 * - Rows: `--rows` rows of `disclosure_log` written by 100,000 / 4 `disclosure` instances of 20
 *   clients over two years, each with the audit record of the transition that wrote it. They are
 *   inserted in bulk with SQL (generate_series) — committing them one by one through
 *   `store.commit` would take the better part of an hour here and measures writing, not reading.
 *   The audit records are not a valid chain (their hashes are placeholders); nothing here verifies it.
 * - The HTTP API (createApi with the shipped definitions; no Temporal: these routes read only the
 *   records store), signed in as a quality manager (every client) and as staff of 3 clients.
 * - Each request `--reps` times after 3 warm-ups, one at a time: median, p95, min, max in ms.
 *   Targets (issue #18): first page ≤ 200 ms, filtered page ≤ 300 ms.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { createApi, SESSION_COOKIE } from '../../worker/api/server.ts';
import { loadDefinitions } from '../../worker/definitions.ts';
import { REPO_ROOT } from '../../worker/config.ts';
import { openPgliteClient } from '../../worker/records/sql.ts';
import { createRecordsStore } from '../../worker/records/store.ts';
import { formatJson, percentile } from './stats.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DEFAULT_OUT = path.join(HERE, 'results', 'registers.json');

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    reps: { type: 'string', default: '20' },
    store: { type: 'string', default: 'memory' },
    out: { type: 'string', default: DEFAULT_OUT },
  },
});
const ROWS = Number(values.rows);
const REPS = Number(values.reps);

/** Bulk rows: instance i writes rows 4i+1…4i+4 (seq 1…4), client i mod 20, times spread over 2 years. */
const SEED = `
INSERT INTO audit_log (position, kind, subject, seq, client, actor, at, body, prev_hash, hash)
SELECT n, 'transition', 'disclosure-' || ((n - 1) / 4), ((n - 1) % 4) + 1, 'client-' || (((n - 1) / 4) % 20),
       'rita', timestamptz '2025-01-01' + ((n * 631) % ($1::int)) * interval '631 seconds',
       jsonb_build_object('procedure', 'disclosure', 'version', '1.0.2', 'event', 'RELEASE'),
       repeat('0', 64), md5(n::text) || md5((n + 1)::text)
FROM generate_series(1, $1::int) AS n;
`;
const SEED_RECORDS = `
INSERT INTO procedure_records (workflow_id, seq, idx, name, fields, at, client, procedure)
SELECT a.subject, a.seq, 1, 'disclosure_log',
       jsonb_build_object('client', a.client, 'recipient', (ARRAY['SAMR','CNAS','court','police','CNCA','customs','tax office','auditor','insurer','ministry'])[1 + a.position % 10],
                          'basis', (ARRAY['consent','legal','contract'])[1 + a.position % 3], 'items', jsonb_build_array('file ' || a.position),
                          'released', a.position % 7 <> 0, 'client_notified', a.position % 5 <> 0),
       a.at, a.client, 'disclosure'
FROM audit_log a WHERE a.kind = 'transition' AND a.subject LIKE 'disclosure-%';
UPDATE audit_chain_head SET position = (SELECT max(position) FROM audit_log), hash = (SELECT hash FROM audit_log ORDER BY position DESC LIMIT 1);
ANALYZE;
`;

async function main(): Promise<void> {
  const sql = await openPgliteClient(values.store === 'memory' ? null : path.resolve(values.store));
  const store = await createRecordsStore(sql);
  const t0 = performance.now();
  await sql.query(SEED, [ROWS]);
  await sql.exec(SEED_RECORDS);
  const seeded = performance.now() - t0;
  console.log(`seeded ${ROWS} rows in ${(seeded / 1000).toFixed(1)} s`);

  const { definitions } = loadDefinitions([path.join(REPO_ROOT, 'definitions')], REPO_ROOT, {
    verify: false,
  });
  const api = createApi({ client: {} as Client, store, definitions, taskQueue: 'none' });
  const base = await api.listen(0);
  const people = {
    qm: [['quality_manager'], []],
    staff: [['project_staff'], ['client-3', 'client-7', 'client-11']],
  } as const;
  const cookies: Record<string, string> = {};
  for (const [id, [roles, clients]] of Object.entries(people)) {
    await store.createUser(
      { id, displayName: id, roles: [...roles], clients: [...clients], password: 'registers bench password' },
      'bench',
    );
    cookies[id] = `${SESSION_COOKIE}=${(await store.createSession(id, 3600_000)).id}`;
  }

  const cases: [string, string, string][] = [
    ['first page (50 rows, total)', 'qm', '/api/records/disclosure_log'],
    ['register list with counts', 'qm', '/api/records'],
    [
      'filtered: client + month',
      'qm',
      '/api/records/disclosure_log?client=client-7&from=2025-03-01&to=2025-03-31',
    ],
    [
      'filtered: client + month + field',
      'qm',
      '/api/records/disclosure_log?client=client-7&from=2025-03-01&to=2025-03-31&field.recipient=SAMR',
    ],
    ['filtered: field only (list contains)', 'qm', '/api/records/disclosure_log?field.items=file%2077777'],
    ['filtered: instance', 'qm', '/api/records/disclosure_log?workflowId=disclosure-1234'],
    ['staff (3 clients): first page', 'staff', '/api/records/disclosure_log'],
    ['staff (3 clients): month', 'staff', '/api/records/disclosure_log?from=2025-06-01&to=2025-06-30'],
    ['page 200 by cursor', 'qm', ''],
  ];
  // The cursor of page 200, found by walking.
  let cursor = '';
  for (let i = 0; i < 199; i++) {
    const r = (await (
      await fetch(
        `${base}/api/records/disclosure_log?cursor=${cursor}`
          .replace('?cursor=&', '?')
          .replace(/\?cursor=$/, ''),
        { headers: { cookie: cookies.qm! } },
      )
    ).json()) as { next: string };
    cursor = r.next;
  }
  cases[cases.length - 1]![2] = `/api/records/disclosure_log?cursor=${cursor}`;

  const results: Record<
    string,
    { median: number; p95: number; min: number; max: number; rows: number; total?: number }
  > = {};
  for (const [label, who, url] of cases) {
    const samples: number[] = [];
    let body: { rows?: unknown[]; total?: number; registers?: unknown[] } = {};
    for (let i = 0; i < REPS + 3; i++) {
      const t = performance.now();
      const res = await fetch(base + url, { headers: { cookie: cookies[who]! } });
      body = (await res.json()) as typeof body;
      if (res.status !== 200) throw new Error(`${url}: ${res.status} ${JSON.stringify(body)}`);
      if (i >= 3) samples.push(performance.now() - t);
    }
    samples.sort((a, b) => a - b);
    results[label] = {
      median: percentile(samples, 50),
      p95: percentile(samples, 95),
      min: samples[0]!,
      max: samples[samples.length - 1]!,
      rows: (body.rows ?? body.registers ?? []).length,
      ...(body.total !== undefined ? { total: body.total } : {}),
    };
    const r = results[label];
    console.log(
      `${label.padEnd(40)} median ${r.median.toFixed(1).padStart(6)} ms  p95 ${r.p95.toFixed(1).padStart(6)}  rows ${r.rows}${r.total !== undefined ? ` of ${r.total}` : ''}`,
    );
  }
  const first = results['first page (50 rows, total)']!.median;
  const filtered = Math.max(
    ...Object.entries(results)
      .filter(([k]) => k.startsWith('filtered'))
      .map(([, v]) => v.median),
  );
  console.log(
    `first page ${first.toFixed(1)} ms (target ≤ 200: ${first <= 200 ? 'PASS' : 'FAIL'}); slowest filtered page ${filtered.toFixed(1)} ms (target ≤ 300: ${filtered <= 300 ? 'PASS' : 'FAIL'})`,
  );
  const report = {
    at: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model,
      memGb: Math.round(totalmem() / 2 ** 30),
      loadavg: loadavg(),
    },
    rows: ROWS,
    reps: REPS,
    store: values.store === 'memory' ? 'embedded (in memory)' : 'embedded (folder)',
    seededMs: seeded,
    results,
  };
  if (values.out !== '-') {
    mkdirSync(path.dirname(values.out), { recursive: true });
    writeFileSync(values.out, await formatJson(report, values.out));
  }
  await api.close();
  await store.close();
}

await main();
