/**
 * The manager's views at 1,000 → 10,000 → 100,000 running instances (issue #15, goal 4).
 *
 *   npm run bench:scale -- [--stages 1000,10000,100000] [--real 100] [--concurrency 128]
 *                          [--clients 20] [--reps 7] [--out FILE|-]
 *
 * - Temporal: its own in-memory dev server on a free port (SQLite visibility, no UI).
 * - The HTTP API (createApi) on a free port, signed in as a quality manager (sees every client; the
 *   role `waiting` of bench-stalled.yaml awaits, so the inbox holds every instance).
 * - The instances. Running 100,000 first workflow tasks through a worker costs ~45 ms CPU each (about
 *   40 minutes of this machine), so only the first `--real` are started the ordinary way
 *   (`startProcedure`, on the worker's task queue: the worker runs their first workflow task, which
 *   sets the search attributes). Every other instance is *seeded*: the same `startProcedure` input
 *   (definition, hash, context, starter) on a task queue no worker polls, started with the search
 *   attributes its first workflow task would set — computed by the same pure runtime calls the
 *   workflow makes (`startInstance`, `describeInstance`: leaf states, awaited roles, state entry time,
 *   SLA due time). Their first workflow task stays scheduled; a worker polling that queue would run
 *   them. The views read nothing but visibility rows (none reads the records store: the inbox, the
 *   stalled page and counts, the instance list), so a seeded instance is, to them, the same as a real
 *   one; the run checks it (every attribute the views read, of a real and a seeded instance, compared;
 *   the times as offsets from the start) and records the comparison.
 * - Each stage: seed up to the stage's size (bounded concurrency, `--clients` clients), wait until
 *   visibility counts all of them stalled and overdue, then time each view `--reps` times, one request
 *   at a time, after one unmeasured request (its time kept as `firstMs`), as visibility-10k.ts does.
 * - Results: results/scale.json (machine, load average, every sample) and a markdown summary.
 */
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { loadConfig, REPO_ROOT } from '../../worker/config.ts';
import { startDevServer, type DevServer } from '../../worker/temporal/dev-server.ts';
import { loadDeployedDefinitions, runWorker, type RunningWorker } from '../../worker/process.ts';
import { startProcedure, startSearchAttributes } from '../../worker/instances.ts';
import { buildListQuery, listRows, quote } from '../../worker/visibility.ts';
import { calendarInput } from '../../worker/calendars.ts';
import type { LoadedDefinition } from '../../worker/definitions.ts';
import type { Api } from '../../worker/api/server.ts';
import { compileProcedure } from '../../workflows/core/compile.ts';
import { describeInstance, startInstance } from '../../workflows/core/runtime.ts';
import { WORKFLOW_TYPE, type ProcedureInput } from '../../workflows/api.ts';
import type { Json } from '../../workflows/core/ir.ts';
import {
  CustodiaAwaiting,
  CustodiaDueAt,
  CustodiaState,
  CustodiaStateSince,
} from '../../workflows/search-attributes.ts';
import { formatJson, processCpuMs } from './stats.ts';
import {
  DEEP,
  DEFINITION_FILE,
  measureStage,
  ONE_CLIENT,
  PAGE,
  pool,
  PROCEDURE,
  signedInApi,
  STARTER,
  waitForVisibility,
  type Http,
  type StageMeasurement,
  type ViewResult,
} from './views.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DEFAULT_OUT = path.join(HERE, 'results', 'scale.json');
const PASSWORD = 'scale benchmark password';
/** Write-ahead log, synced at checkpoints only: seeding is not held up by an fsync per start. */
const DEFAULT_PRAGMAS = ['journal_mode=wal', 'synchronous=normal'];

function options() {
  const { values, positionals } = parseArgs({
    options: {
      address: { type: 'string' },
      to: { type: 'string' },
      port: { type: 'string', default: '0' },
      stages: { type: 'string', default: '1000,10000,100000' },
      real: { type: 'string', default: '100' },
      concurrency: { type: 'string', default: '128' },
      clients: { type: 'string', default: '20' },
      reps: { type: 'string', default: '7' },
      'max-walk': { type: 'string' },
      'index-from': { type: 'string', default: '20000' },
      'db-file': { type: 'string', default: 'temp' },
      'sqlite-pragma': { type: 'string', multiple: true },
      out: { type: 'string', default: DEFAULT_OUT },
    },
    allowPositionals: true,
  });
  const command = positionals[0] ?? 'run';
  if (!['run', 'server', 'seed', 'measure'].includes(command) || positionals.length > 1)
    throw new Error(`usage: scale.ts [run|server|seed|measure] [options]; got ${positionals.join(' ')}`);
  const int = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${v}`);
    return n;
  };
  const stages = (values.stages ?? '').split(',').map((s) => int('stages', s, 10));
  if (stages.some((s, i) => i > 0 && s <= stages[i - 1]!))
    throw new Error('--stages must be increasing, e.g. 1000,10000,100000');
  const real = int('real', values.real, 1);
  if (real > stages[0]!) throw new Error('--real may not exceed the first stage');
  return {
    command: command as 'run' | 'server' | 'seed' | 'measure',
    address: values.address,
    to: values.to === undefined ? undefined : int('to', values.to, 1),
    port: int('port', values.port, 0),
    stages,
    real,
    concurrency: int('concurrency', values.concurrency, 1),
    clients: int('clients', values.clients, 1),
    reps: int('reps', values.reps, 1),
    indexFrom: int('index-from', values['index-from'], 0),
    maxWalk: values['max-walk'] === undefined ? Infinity : int('max-walk', values['max-walk'], 51),
    out: values.out === '-' ? null : path.resolve(values.out ?? DEFAULT_OUT),
    /** The dev server's SQLite file: 'temp' (a temporary folder, removed after), 'memory', or a path (kept). */
    dbFile:
      values['db-file'] === 'temp' || values['db-file'] === 'memory'
        ? values['db-file']
        : path.resolve(values['db-file']!),
    sqlitePragmas: values['sqlite-pragma'] ?? DEFAULT_PRAGMAS,
  };
}

/**
 * A seeded start: what `startProcedure` starts, plus the search attributes the instance's first
 * workflow task would set (the workflow's `syncSearchAttributes`), from the same pure calls.
 */
function seeder(def: LoadedDefinition) {
  const proc = compileProcedure(def.ir);
  // What syncSearchAttributes also writes, not computed here: a calendar's due time, assignees,
  // an escalation level. The benchmark's definition has none of them; refuse one that has.
  if (Object.keys(calendarInput(def.ir)).length) throw new Error('seeding: working-day SLAs not supported');
  return (client: Client, taskQueue: string, workflowId: string, context: Record<string, Json>) => {
    const now = Date.now();
    const first = startInstance(proc, context, STARTER, now);
    const view = describeInstance(proc, first.state, now);
    if (first.state.context._assignees !== undefined)
      throw new Error('seeding: initial assignees not supported');
    const input: ProcedureInput = { ir: def.ir, hash: def.hash, context, starter: STARTER };
    const attrs: SearchAttributePair[] = [
      ...startSearchAttributes(def.ir, context),
      { key: CustodiaState, value: view.leaves },
      { key: CustodiaAwaiting, value: view.awaiting },
      { key: CustodiaStateSince, value: new Date(view.stateSince) },
    ];
    if (view.dueAt !== undefined) attrs.push({ key: CustodiaDueAt, value: new Date(view.dueAt) });
    return client.workflow.start(WORKFLOW_TYPE, {
      taskQueue,
      workflowId,
      args: [input],
      typedSearchAttributes: attrs,
    });
  };
}

interface SeedResult {
  /** Started the ordinary way (the worker ran their first workflow task) / seeded. */
  real: number;
  seeded: number;
  wallMs: number;
  perSecond: number;
  /** From the last start until visibility counted every instance stalled and overdue. */
  visibilityLagMs: number;
  serverCpuMs: number | null;
  processCpuMs: number;
  loadAverage: [number, number];
  serverRssMb?: number | null;
  serverDbMb?: number | null;
}

interface StageResult extends StageMeasurement {
  instances: number;
  /** How this stage's instances were started (absent: measured on a server seeded by `seed`). */
  start?: SeedResult;
  /** The API's view index (from `--index-from` instances): its first reading. */
  index?: { readMs: number; readyAfterMs: number };
  date: string;
  loadAverage: [number, number];
  rssMb: number;
  serverRssMb: number | null;
  /** The dev server's SQLite file with its write-ahead log (MB); null in memory. */
  serverDbMb?: number | null;
}

/** Resident memory of another process (MB), from /proc; null when unavailable. */
function processRssMb(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
    return status ? Math.round(Number(status[1]) / 1024) : null;
  } catch {
    return null;
  }
}

/**
 * A real instance's visibility row against a seeded one's: every field the views read, the times
 * as offsets from the instance's state entry. Differences are listed (none expected).
 */
async function compareRows(client: Client, realId: string, seededId: string): Promise<string[]> {
  const now = new Date();
  const rows = await listRows(
    client,
    `${buildListQuery({})} AND WorkflowId IN (${quote(realId)}, ${quote(seededId)})`,
    2,
    now,
  );
  const real = rows.find((r) => r.workflowId === realId);
  const seeded = rows.find((r) => r.workflowId === seededId);
  if (!real || !seeded) return ['row missing'];
  const shape = (r: typeof real): Record<string, unknown> => {
    const since = r.stateSince ? Date.parse(r.stateSince) : NaN;
    const { workflowId: _id, client: c, stateSince, dueAt, ...rest } = r;
    return {
      ...rest,
      client: c ? 'set' : 'unset',
      stateSince: stateSince ? 'set' : 'unset',
      dueAfterEntryMs: dueAt ? Date.parse(dueAt) - since : null,
    };
  };
  const a = shape(real);
  const b = shape(seeded);
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((k) => `${k}: real ${JSON.stringify(a[k])}, seeded ${JSON.stringify(b[k])}`);
}

// ---------------------------------------------------------------------------------------------

type Options = ReturnType<typeof options>;
const log = (line: string): void => console.log(line);
const idOf = (i: number): string => `scale-${i}`;
const round2 = (xs: number[]): [number, number] =>
  xs.map((x) => Math.round(x * 100) / 100) as [number, number];

/** How many instances of the benchmark's procedure the server runs. */
async function runningCount(client: Client): Promise<number> {
  return (await client.workflow.count(buildListQuery({ procedure: PROCEDURE }))).count;
}

/**
 * Start instances until the server runs `target` (ids `scale-<i>`, i from the count already
 * there; an id already taken is skipped): the first `real` of an empty server the ordinary way on
 * `taskQueue` (the caller's worker runs them; waited for), the rest seeded.
 */
async function seedTo(
  client: Client,
  def: LoadedDefinition,
  opts: Options,
  target: number,
  taskQueue: string,
  serverPid: number | undefined,
): Promise<SeedResult> {
  const seed = seeder(def);
  const contextOf = (i: number): Record<string, Json> => ({
    client: `Client ${String(i % opts.clients).padStart(2, '0')}`,
  });
  const from = await runningCount(client);
  const cpu0 = process.cpuUsage();
  const server0 = processCpuMs(serverPid);
  const load0 = loadavg()[0]!;
  const s0 = performance.now();
  const real = from === 0 ? Math.min(opts.real, target) : 0;
  let started = from;
  const skipTaken = (err: unknown): void => {
    if ((err as Error).name !== 'WorkflowExecutionAlreadyStartedError') throw err;
  };
  await pool(0, real, opts.concurrency, async (i) => {
    await startProcedure(client, def, {
      context: contextOf(i),
      starter: STARTER,
      taskQueue,
      workflowId: idOf(i),
    }).catch(skipTaken);
    started++;
  });
  if (real) {
    // The real ones' first workflow tasks run before any seeded start: they are the most overdue.
    const q = `${buildListQuery({ procedure: PROCEDURE })} AND CustodiaState = 'waiting'`;
    while ((await client.workflow.count(q)).count < real) await delay(200);
  }
  await pool(from + real, target, opts.concurrency, async (i) => {
    await seed(client, `${taskQueue}-seeded`, idOf(i), contextOf(i)).catch(skipTaken);
    started++;
    if (started % 5000 === 0)
      log(
        `    started ${started} (${((performance.now() - s0) / 1000).toFixed(0)} s); dev server ` +
          `${processRssMb(serverPid) ?? '?'} MB RSS, file ${dbFileMb() ?? '-'} MB; load ${loadavg()[0]!.toFixed(1)}`,
      );
  });
  const wallMs = performance.now() - s0;
  const v0 = performance.now();
  await waitForVisibility(client, target, log);
  const visibilityLagMs = performance.now() - v0;
  const cpu = process.cpuUsage(cpu0);
  const server1 = processCpuMs(serverPid);
  const out: SeedResult = {
    real,
    seeded: target - from - real,
    wallMs: Math.round(wallMs),
    perSecond: Math.round(((target - from) / (wallMs / 1000)) * 10) / 10,
    visibilityLagMs: Math.round(visibilityLagMs),
    serverCpuMs: server0 !== null && server1 !== null ? Math.round(server1 - server0) : null,
    processCpuMs: Math.round((cpu.user + cpu.system) / 1000),
    loadAverage: round2([load0, loadavg()[0]!]),
    serverRssMb: processRssMb(serverPid),
    serverDbMb: dbFileMb(),
  };
  log(
    `    started ${target - from} (${real} real) in ${(out.wallMs / 1000).toFixed(1)} s (${out.perSecond}/s); ` +
      `visibility complete ${(visibilityLagMs / 1000).toFixed(1)} s after the last start`,
  );
  return out;
}

/** The real instance with the earliest due time: the inbox (most overdue first) must list it. */
async function mostOverdue(client: Client, real: number): Promise<string> {
  const ids = Array.from({ length: real }, (_, i) => quote(idOf(i)));
  const rows = await listRows(client, `${buildListQuery({})} AND WorkflowId IN (${ids.join(', ')})`, real);
  rows.sort(
    (a, b) => (a.dueAt ?? '').localeCompare(b.dueAt ?? '') || a.workflowId.localeCompare(b.workflowId),
  );
  if (!rows[0]) throw new Error('no real instance found');
  return rows[0].workflowId;
}

/** Time the views at the number of instances the server runs now. */
async function measureHere(
  http: Http,
  client: Client,
  opts: Options,
  serverPid: number | undefined,
  start?: SeedResult,
): Promise<StageResult> {
  const n = await runningCount(client);
  await waitForVisibility(client, n, log);
  // Let the server's backlog settle before timing the views.
  await delay(2000);
  // From `--index-from` instances the views answer from the API's index of the rows: time its first
  // reading (started by the first view that counts that many), then the views as a running server
  // has them (the index read, refreshed in the background when older than 30 s).
  let index: StageResult['index'];
  if (n >= opts.indexFrom) {
    const i0 = performance.now();
    // Until the index is read the counts answer live: count queries over every row, which at
    // 100,000 on a dev server under load can fail (its namespace look-up times out): ask seldom,
    // and take a failed answer as "not yet".
    const counts = async (): Promise<Record<string, unknown>> =>
      (
        await http.get('/api/stalled/counts?idle=PT0S').catch((err: unknown) => {
          log(`    counts while the index is read: ${String(err).slice(0, 200)}`);
          return { body: {} };
        })
      ).body;
    let body = await counts();
    while (body.method !== 'index') {
      await delay(15_000);
      body = await counts();
    }
    index = { readyAfterMs: Math.round(performance.now() - i0), readMs: Number(body.indexTookMs) };
    log(`    view index: read in ${index.readMs} ms, ready ${index.readyAfterMs} ms after the first count`);
  }
  const load1 = loadavg()[0]!;
  const date = new Date().toISOString();
  const measured = await measureStage(
    http,
    n,
    opts.reps,
    await mostOverdue(client, opts.real),
    log,
    opts.maxWalk,
  );
  return {
    instances: n,
    ...(start ? { start } : {}),
    ...(index ? { index } : {}),
    date,
    ...measured,
    loadAverage: round2([load1, loadavg()[0]!]),
    rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
    serverRssMb: processRssMb(serverPid),
    serverDbMb: dbFileMb(),
  };
}

/** The summary table of the stages measured so far (one per number of instances). */
function summary(results: StageResult[], opts: Options): string {
  const names = Object.keys(results[results.length - 1]!.views);
  const fmt = (v: ViewResult | null | undefined): string =>
    v ? `${v.medianMs.toFixed(1)} / ${v.p95Ms.toFixed(1)}` : 'n/a';
  const ratio = (a?: number, b?: number): string => (a && b ? `${(a / b).toFixed(2)}×` : '');
  const labels: Record<string, string> = {
    stalledCounts: '`GET /api/stalled/counts?idle=PT0S`',
    stalledFirstPage: `\`GET /api/stalled?idle=PT0S&limit=${PAGE}\`, first page`,
    ...Object.fromEntries(
      DEEP.map((d) => [`stalledPageAfter${d}`, `… after following nextPageToken ${d} times`]),
    ),
    stalledLastPage: '… the last page',
    instancesFirstPage: `\`GET /api/instances?limit=${PAGE}\`, first page`,
    instancesOneClient: `\`GET /api/instances?client=${ONE_CLIENT}&limit=${PAGE}\``,
    instancesOverdue: `\`GET /api/instances?overdue=true&limit=${PAGE}\``,
    inbox: '`GET /api/inbox` (quality manager)',
  };
  const sizes = results.map((r) => r.instances.toLocaleString('en'));
  const rows = names.map((name) => [
    labels[name] ?? name,
    ...results.map((r) => fmt(r.views[name])),
    ...results.slice(1).map((r, i) => ratio(r.views[name]?.medianMs, results[i]!.views[name]?.medianMs)),
  ]);
  return [
    `Scale benchmark: ${sizes.join(' → ')} running instances (all stalled and overdue; ${opts.real} run by the worker, ` +
      `the rest seeded), ${opts.reps} repetitions per view, one request at a time. Median / p95 in ms.`,
    '',
    `| Request | ${sizes.join(' | ')} | ${sizes
      .slice(1)
      .map((s, i) => `${s} ÷ ${sizes[i]}`)
      .join(' | ')} |`,
    `|---|${results.map(() => '---:').join('|')}|${results
      .slice(1)
      .map(() => '---:')
      .join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    ...results.map(
      (r) =>
        `- ${r.instances} (${r.date.slice(0, 16).replace('T', ' ')} UTC): ` +
        (r.start
          ? `started ${r.start.real + r.start.seeded} at ${r.start.perSecond}/s (${(r.start.wallMs / 1000).toFixed(1)} s), ` +
            `visibility complete ${(r.start.visibilityLagMs / 1000).toFixed(1)} s later; `
          : '') +
        (r.index
          ? `views from the index (read in ${(r.index.readMs / 1000).toFixed(1)} s); `
          : 'views live; ') +
        `stalled list walked ${r.walk.whole ? 'whole ' : ''}in ${r.walk.pages} pages, ${(r.walk.totalMs / 1000).toFixed(2)} s; ` +
        `inbox lists the most overdue instance: ${r.inboxShowsOldest ? 'yes' : 'no'}; ` +
        `load average ${r.loadAverage.join('→')}; RSS ${r.rssMb} MB, dev server ${r.serverRssMb ?? '?'} MB` +
        (r.serverDbMb ? ` (SQLite file ${r.serverDbMb} MB)` : ''),
    ),
  ].join('\n');
}

/** Merge `stage` into the results file (one stage per number of instances) and rewrite it. */
async function writeResults(
  opts: Options,
  stages: StageResult[],
  t0: number,
  seeds: SeedResult[],
): Promise<void> {
  if (!opts.out) return;
  let previous: StageResult[] = [];
  try {
    previous = (JSON.parse(readFileSync(opts.out, 'utf8')) as { stages: StageResult[] }).stages ?? [];
  } catch {
    // none yet
  }
  const byN = new Map(previous.map((s) => [s.instances, s]));
  for (const s of stages) byN.set(s.instances, s);
  const all = [...byN.values()].sort((a, b) => a.instances - b.instances);
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    loadAverageAtEnd: round2(loadavg()),
    temporal:
      opts.dbFile === 'memory'
        ? 'dev server (temporal server start-dev, in memory, SQLite visibility)'
        : `dev server (temporal server start-dev, SQLite file, pragmas ${opts.sqlitePragmas.join(' ')})`,
  };
  const table = summary(all, opts);
  const report = {
    date: new Date().toISOString(),
    durationS: Math.round((performance.now() - t0) / 1000),
    command: process.argv.slice(2).join(' '),
    machine,
    params: { ...opts, out: undefined, pageSize: PAGE, deepPages: DEEP },
    method: {
      instances: `${PROCEDURE} (bench-stalled.yaml): every instance waits in its first state, SLA PT1S, so all are stalled (idle PT0S) and overdue. The first ${opts.real} started through the worker; the rest seeded: the same start input on a task queue no worker polls, with the search attributes the first workflow task would set (startInstance + describeInstance), compared with a real one's`,
      timing:
        'client-side round trip of one GET (fetch, keep-alive, body read), one request at a time, after one unmeasured request (firstMs)',
      deepPages:
        'the token after following nextPageToken k times, taken from one walk of the whole list, then requested repeatedly',
      user: 'quality_manager: sees every client; the role the waiting state awaits',
    },
    seeds,
    stages: all,
    markdown: table,
  };
  mkdirSync(path.dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, await formatJson(report, opts.out));
  log('');
  log(table);
  log(`Written: ${path.relative(REPO_ROOT, opts.out) || opts.out}`);
}

async function main(): Promise<void> {
  const opts = options();
  process.env.CUSTODIA_LOG_LEVEL ??= 'WARN';
  const t0 = performance.now();
  const config = { ...loadConfig(), taskQueue: `custodia-scale-${randomUUID().slice(0, 8)}` };
  const definitions = loadDeployedDefinitions([DEFINITION_FILE]);
  const def = definitions.get(PROCEDURE);
  if (!def) throw new Error(`${DEFINITION_FILE} did not load as ${PROCEDURE}`);

  if (opts.command === 'server') {
    const server = await benchServer(config, opts, opts.port);
    log(
      `Temporal dev server (${server.dbFile ?? 'in memory'}) on ${server.address}, pid ${server.process.pid}; Ctrl-C stops it`,
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await server.stop();
    return;
  }

  const server: BenchServer | undefined = opts.address ? undefined : await benchServer(config, opts, 0);
  const address = opts.address ?? server!.address;
  // The server's pid, for its CPU and memory: ours, or the one listening on --address.
  const serverPid = server?.process.pid ?? pidListening(address);
  // Its SQLite file, for its size: ours, or the one the server on --address has open.
  serverDbFile = server ? server.dbFile : openDbFile(serverPid);
  let running: RunningWorker | undefined;
  let api: Api | undefined;
  try {
    running = await runWorker(config, { address, records: null, definitions });
    const { client } = running;
    if (opts.command === 'seed') {
      const target = opts.to ?? opts.stages[opts.stages.length - 1]!;
      log(`Seeding ${address} up to ${target} instances of ${PROCEDURE}`);
      const seeded = await seedTo(client, def, opts, target, config.taskQueue, serverPid);
      log(JSON.stringify(seeded));
      return;
    }
    const signedIn = await signedInApi(running, definitions, config.taskQueue, PASSWORD, {
      from: opts.indexFrom,
    });
    api = signedIn.api;
    const http = signedIn.http;
    log(`API: ${http.base}, signed in as a quality manager; Temporal ${address}`);
    if (opts.command === 'measure') {
      log(`Measuring at the ${await runningCount(client)} instances running`);
      const stage = await measureHere(http, client, opts, serverPid);
      await writeResults(opts, [stage], t0, []);
      return;
    }
    const stages: StageResult[] = [];
    const seeds: SeedResult[] = [];
    for (const target of opts.stages) {
      log('');
      log(`Stage: ${target} instances`);
      const seeded = await seedTo(client, def, opts, target, config.taskQueue, serverPid);
      seeds.push(seeded);
      if (!stages.length) {
        const differences = await compareRows(client, idOf(0), idOf(seeded.real));
        log(`    real vs seeded visibility row: ${differences.length ? differences.join('; ') : 'the same'}`);
        if (differences.length) throw new Error('a seeded row differs from a real one');
      }
      stages.push(await measureHere(http, client, opts, serverPid, seeded));
    }
    await writeResults(opts, stages, t0, seeds);
  } finally {
    await api?.close();
    await running?.shutdown().catch((err: unknown) => console.error('worker:', err));
    await server?.stop();
  }
}

type BenchServer = DevServer & { dbFile: string | null };

/**
 * The benchmark's dev server: file-backed by default (`--db-file temp`: a temporary folder, removed
 * when it stops). In memory (`--db-file memory`) it held 21 GB at ~92,000 instances.
 */
async function benchServer(
  config: ReturnType<typeof loadConfig>,
  opts: Options,
  port: number,
): Promise<BenchServer> {
  const folder = opts.dbFile === 'temp' ? mkdtempSync(path.join(tmpdir(), 'custodia-scale-')) : null;
  const dbFile = folder ? path.join(folder, 'temporal.db') : opts.dbFile === 'memory' ? null : opts.dbFile;
  const server = await startDevServer(config, {
    dbFile,
    port,
    uiPort: null,
    sqlitePragmas: opts.sqlitePragmas,
  }).catch((err: unknown) => {
    if (folder) rmSync(folder, { recursive: true, force: true });
    throw err;
  });
  return {
    ...server,
    dbFile,
    stop: async (timeoutMs?: number) => {
      await server.stop(timeoutMs);
      if (folder) rmSync(folder, { recursive: true, force: true });
    },
  };
}

/** The dev server's SQLite file (set in main), for its size per stage. */
let serverDbFile: string | null | undefined;

/** Size of the SQLite file with its write-ahead log (MB); null when in memory or unknown. */
function dbFileMb(): number | null {
  if (!serverDbFile) return null;
  let bytes = 0;
  for (const f of [serverDbFile, `${serverDbFile}-wal`, `${serverDbFile}-shm`])
    try {
      bytes += statSync(f).size;
    } catch {
      // absent
    }
  return Math.round(bytes / 2 ** 20);
}

/** The SQLite file a server process has open (its `/proc/<pid>/fd`), if any. */
function openDbFile(pid: number | undefined): string | null {
  if (!pid) return null;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.startsWith('/') && /\.db$/.test(target)) return target;
    }
  } catch {
    // not ours to read
  }
  return null;
}

/** The pid of the process listening on `host:port` (Linux /proc), if found. */
function pidListening(address: string): number | undefined {
  try {
    const port = Number(address.split(':').pop());
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    const inodes = new Set<string>();
    for (const file of ['/proc/net/tcp', '/proc/net/tcp6'])
      for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f[1]?.endsWith(`:${hex}`) && f[3] === '0A') inodes.add(f[9]!);
      }
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d)))
      try {
        for (const fd of readdirSync(`/proc/${pid}/fd`)) {
          const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
          const m = /^socket:\[(\d+)\]$/.exec(link);
          if (m && inodes.has(m[1]!)) return Number(pid);
        }
      } catch {
        // not ours to read
      }
  } catch {
    // not Linux
  }
  return undefined;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
