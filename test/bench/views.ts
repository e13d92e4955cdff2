/**
 * What the visibility benchmarks (visibility-10k.ts, scale.ts) share: timing a view's requests,
 * a signed-in HTTP client, and measuring the manager's views at one number of instances.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { createApi, SESSION_COOKIE, type Api } from '../../worker/api/server.ts';
import type { ViewIndexOptions } from '../../worker/view-index.ts';
import type { LoadedDefinition } from '../../worker/definitions.ts';
import type { RunningWorker } from '../../worker/process.ts';
import { buildListQuery } from '../../worker/visibility.ts';
import type { Actor } from '../../workflows/core/ir.ts';
import { percentile } from './stats.ts';

/** The benchmarks' procedure: its first state awaits the quality manager, with a one-second SLA. */
export const DEFINITION_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bench-stalled.yaml');
export const PROCEDURE = 'bench_stalled';
export const STARTER: Actor = { id: 'starter', roles: ['project_staff'] };

export const DEEP = [20, 50];
export const PAGE = 100;
/** The client the filtered instance list asks for (scale.ts spreads instances over `Client 00`…). */
export const ONE_CLIENT = 'Client 03';

export interface Timing {
  medianMs: number;
  p95Ms: number;
  minMs: number;
  maxMs: number;
  samplesMs: number[];
}

export function timing(samples: number[]): Timing {
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  const r = (x: number): number => Math.round(x * 10) / 10;
  return {
    medianMs: r(median),
    p95Ms: r(percentile(s, 95)),
    minMs: r(s[0]!),
    maxMs: r(s[s.length - 1]!),
    samplesMs: samples.map(r),
  };
}

/** Run `task(i)` for i in [from, to) with at most `n` in flight. */
export async function pool(
  from: number,
  to: number,
  n: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = from;
  const runner = async (): Promise<void> => {
    while (next < to) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(n, to - from) }, runner));
}

// ---------------------------------------------------------------------------------------------

export class Http {
  constructor(
    readonly base: string,
    private cookie = '',
  ) {}

  async signIn(id: string, password: string): Promise<void> {
    const res = await fetch(`${this.base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id, password }),
    });
    if (res.status !== 200 && res.status !== 201)
      throw new Error(`sign-in: ${res.status} ${await res.text()}`);
    const set = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`));
    if (!set) throw new Error('sign-in: no session cookie');
    this.cookie = set.split(';')[0]!;
    await res.arrayBuffer();
  }

  /** GET a JSON body; the time covers the whole response (headers and body read, parsed). */
  async get(pathAndQuery: string): Promise<{ ms: number; body: Record<string, unknown> }> {
    const t0 = performance.now();
    const res = await fetch(`${this.base}${pathAndQuery}`, { headers: { cookie: this.cookie } });
    const text = await res.text();
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`GET ${pathAndQuery}: ${res.status} ${text.slice(0, 500)}`);
    return { ms, body: JSON.parse(text) as Record<string, unknown> };
  }
}

/**
 * The HTTP API on a free port over `running`'s client and store, with a quality manager (sees every
 * client; the role the benchmark's waiting state awaits) created and signed in.
 */
export async function signedInApi(
  running: RunningWorker,
  definitions: Map<string, LoadedDefinition>,
  taskQueue: string,
  password: string,
  viewIndex?: ViewIndexOptions,
): Promise<{ api: Api; http: Http }> {
  const { client, store } = running;
  const api = createApi({ client, store, definitions, taskQueue, ...(viewIndex ? { viewIndex } : {}) });
  const http = new Http(await api.listen(0));
  await store.createUser(
    { id: 'qm', displayName: 'Quality Manager', roles: ['quality_manager'], password },
    'bench',
  );
  await http.signIn('qm', password);
  return { api, http };
}

/** Wait until visibility counts `target` instances of the procedure, all stalled and overdue. */
export async function waitForVisibility(
  client: Client,
  target: number,
  log: (s: string) => void,
): Promise<void> {
  let last = '';
  for (let i = 0; ; i++) {
    const now = new Date();
    const stalled = (await client.workflow.count(buildListQuery({ stalled: true, idle: 'PT0S' }, now))).count;
    const overdue = (
      await client.workflow.count(
        `${buildListQuery({ procedure: PROCEDURE }, now)} AND CustodiaDueAt < '${now.toISOString()}'`,
      )
    ).count;
    if (stalled >= target && overdue >= target) return;
    const line = `    visibility: ${stalled} stalled, ${overdue} overdue of ${target}`;
    if (line !== last && i % 10 === 0) log(line);
    last = line;
    await delay(500);
  }
}

export const rowsOf = (body: Record<string, unknown>, key: string): unknown[] => {
  const v = body[key];
  if (!Array.isArray(v))
    throw new Error(`expected an array "${key}" in ${JSON.stringify(body).slice(0, 300)}`);
  return v;
};

export const stalledPath = (token?: string): string =>
  `/api/stalled?idle=PT0S&limit=${PAGE}` + (token ? `&pageToken=${encodeURIComponent(token)}` : '');

export interface ViewResult extends Timing {
  request: string;
  /** The unmeasured first request (ms): what a cold cache, if any, costs. */
  firstMs: number;
  /** Rows (or total, for counts) the view answered, as checked. */
  rows: number;
}

/** The views measured at one number of instances. */
export interface StageMeasurement {
  /** Walking the stalled list page by page from the first page (each request, in order). */
  walk: { pages: number; whole: boolean; totalMs: number; msPerPage: number[] };
  views: Record<string, ViewResult | null>;
  /** Whether the inbox (most overdue first) lists the first instance started, the most overdue. */
  inboxShowsOldest: boolean;
}

export async function measureStage(
  http: Http,
  n: number,
  reps: number,
  oldest: string,
  log: (s: string) => void,
  /** Pages walked at most (the last page is timed only when the walk reached it). */
  maxWalk = Infinity,
): Promise<StageMeasurement> {
  const views: Record<string, ViewResult | null> = {};
  const repeat = async (
    name: string,
    request: string,
    check: (body: Record<string, unknown>) => number,
  ): Promise<void> => {
    const first = await http.get(request); // warm-up, not counted
    const samples: number[] = [];
    let rows = 0;
    for (let r = 0; r < reps; r++) {
      const { ms, body } = await http.get(request);
      rows = check(body);
      samples.push(ms);
    }
    const t = timing(samples);
    views[name] = {
      request: request.replace(/pageToken=[^&]+/, 'pageToken=…'),
      firstMs: Math.round(first.ms * 10) / 10,
      rows,
      ...t,
    };
    log(
      `    ${name.padEnd(30)} median ${t.medianMs.toFixed(1).padStart(7)} ms  p95 ${t.p95Ms.toFixed(1).padStart(7)} ms  (${rows} rows)`,
    );
  };
  const exactly =
    (key: string, want: number) =>
    (body: Record<string, unknown>): number => {
      const got = rowsOf(body, key).length;
      if (got !== want) throw new Error(`expected ${want} ${key}, got ${got}`);
      return got;
    };

  await repeat('stalledCounts', '/api/stalled/counts?idle=PT0S', (body) => {
    if (body.total !== n) throw new Error(`stalled counts: total ${String(body.total)}, expected ${n}`);
    return n;
  });
  await repeat('stalledFirstPage', stalledPath(), exactly('instances', Math.min(n, PAGE)));

  // Walk the whole list once: every page's token, and that the pages partition the instances.
  // tokens[k] is the token after following nextPageToken k times (tokens[0]: none, the first page).
  const tokens: (string | undefined)[] = [];
  const rowsPerPage: number[] = [];
  const msPerPage: number[] = [];
  const seen = new Set<string>();
  let token: string | undefined;
  const w0 = performance.now();
  do {
    tokens.push(token);
    const { ms, body } = await http.get(stalledPath(token));
    msPerPage.push(Math.round(ms * 10) / 10);
    const rows = rowsOf(body, 'instances');
    rowsPerPage.push(rows.length);
    for (const r of rows) seen.add((r as { workflowId: string }).workflowId);
    token = typeof body.nextPageToken === 'string' ? body.nextPageToken : undefined;
  } while (token && msPerPage.length < maxWalk);
  const whole = !token;
  const walk = { pages: msPerPage.length, whole, totalMs: Math.round(performance.now() - w0), msPerPage };
  if (whole && seen.size !== n)
    throw new Error(`walking the stalled list saw ${seen.size} instances, expected ${n}`);
  log(`    walked ${walk.pages} pages of ${PAGE} in ${walk.totalMs} ms; ${seen.size} distinct instances`);

  for (const depth of DEEP) {
    const t = tokens[depth];
    if (t)
      await repeat(`stalledPageAfter${depth}`, stalledPath(t), exactly('instances', rowsPerPage[depth]!));
    else {
      views[`stalledPageAfter${depth}`] = null;
      log(`    stalledPageAfter${depth}: n/a (only ${walk.pages} pages at ${n} instances)`);
    }
  }
  // The deepest page with rows (SQL visibility may end with an empty page after a full one).
  let last = rowsPerPage.length - 1;
  while (last > 0 && !rowsPerPage[last]) last--;
  const lastToken = whole ? tokens[last] : undefined;
  if (lastToken)
    await repeat('stalledLastPage', stalledPath(lastToken), exactly('instances', rowsPerPage[last]!));
  else views.stalledLastPage = null;

  await repeat('instancesFirstPage', `/api/instances?limit=${PAGE}`, exactly('instances', Math.min(n, PAGE)));
  // One client of the benchmark's 20 (about n / 20 of the rows match).
  await repeat(
    'instancesOneClient',
    `/api/instances?client=${encodeURIComponent(ONE_CLIENT)}&limit=${PAGE}`,
    (body) => {
      const rows = rowsOf(body, 'instances') as { client?: string }[];
      if (!rows.length || rows.some((r) => r.client !== ONE_CLIENT))
        throw new Error(`instances of ${ONE_CLIENT}: got ${rows.length} rows, or others' rows`);
      return rows.length;
    },
  );
  await repeat(
    'instancesOverdue',
    `/api/instances?overdue=true&limit=${PAGE}`,
    exactly('instances', Math.min(n, PAGE)),
  );
  let inboxShowsOldest = false;
  await repeat('inbox', '/api/inbox', (body) => {
    const tasks = rowsOf(body, 'tasks') as { workflowId: string }[];
    inboxShowsOldest = tasks.some((t) => t.workflowId === oldest);
    return exactly('tasks', Math.min(n, 100))(body);
  });
  log(`    inbox shows the first instance started (the most overdue): ${inboxShowsOldest ? 'yes' : 'NO'}`);
  return { walk, views, inboxShowsOldest };
}
