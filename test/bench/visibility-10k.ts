/**
 * The manager's views with many instances: how the API's visibility-backed endpoints scale.
 *
 *   npx tsx test/bench/visibility-10k.ts [--instances 10000] [--concurrency 64] [--clients 20]
 *                                        [--reps 7] [--out FILE|-]
 *
 * - Temporal: its own in-memory dev server on a free port (SQLite visibility, no UI).
 * - One worker in this process (runWorker, in-memory records store) running bench-stalled.yaml,
 *   whose first state has a one-second SLA: every instance is overdue a second after it starts.
 * - The HTTP API (createApi) on a free port, signed in as a quality manager (sees every client,
 *   and is the role `waiting` awaits, so the inbox holds every instance).
 * - Two stages in one run: N/10 instances, then N (the rest started on top). For each stage:
 *   start throughput (bounded concurrency, instances spread over `--clients` clients), the time
 *   until visibility shows them all with their search attributes (and overdue), then each view
 *   `--reps` times, one request at a time (median, p95, min, max in ms):
 *     GET /api/stalled/counts?idle=PT0S          exact counts by count queries
 *     GET /api/stalled?idle=PT0S&limit=100        the first page
 *     … after following nextPageToken 20 / 50 times, and the last page (where the stage has them)
 *     GET /api/instances?overdue=true&limit=100
 *     GET /api/inbox
 * - Results: results/visibility-10k.json (machine, load average, every sample) and a summary.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { loadConfig, REPO_ROOT } from '../../worker/config.ts';
import { startDevServer, type DevServer } from '../../worker/temporal/dev-server.ts';
import { loadDeployedDefinitions, runWorker, type RunningWorker } from '../../worker/process.ts';
import { startProcedure } from '../../worker/instances.ts';
import type { Api } from '../../worker/api/server.ts';
import { formatJson, processCpuMs } from './stats.ts';
import {
  DEEP,
  DEFINITION_FILE,
  measureStage,
  PAGE,
  pool,
  PROCEDURE,
  signedInApi,
  STARTER,
  waitForVisibility,
  type StageMeasurement,
  type ViewResult,
} from './views.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DEFAULT_OUT = path.join(HERE, 'results', 'visibility-10k.json');
const PASSWORD = 'visibility benchmark password';

function options() {
  const { values } = parseArgs({
    options: {
      instances: { type: 'string', default: '10000' },
      concurrency: { type: 'string', default: '64' },
      clients: { type: 'string', default: '20' },
      reps: { type: 'string', default: '7' },
      out: { type: 'string', default: DEFAULT_OUT },
    },
    allowPositionals: false,
  });
  const int = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${v}`);
    return n;
  };
  return {
    instances: int('instances', values.instances, 10),
    concurrency: int('concurrency', values.concurrency, 1),
    clients: int('clients', values.clients, 1),
    reps: int('reps', values.reps, 1),
    out: values.out === '-' ? null : path.resolve(values.out ?? DEFAULT_OUT),
  };
}

// ---------------------------------------------------------------------------------------------

interface StageResult extends StageMeasurement {
  instances: number;
  start: {
    started: number;
    wallMs: number;
    perSecond: number;
    /** From the last start until visibility counted every instance stalled and overdue. */
    visibilityLagMs: number;
    serverCpuMs: number | null;
    processCpuMs: number;
    loadAverage: [number, number];
  };
  loadAverage: [number, number];
  rssMb: number;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = options();
  const log = (line: string): void => console.log(line);
  process.env.CUSTODIA_LOG_LEVEL ??= 'WARN';
  const t0 = performance.now();
  const date = new Date().toISOString();
  const base = loadConfig();
  const config = { ...base, taskQueue: `custodia-vis-${randomUUID().slice(0, 8)}` };
  const stages = [Math.round(opts.instances / 10), opts.instances];

  const server: DevServer = await startDevServer(config, { dbFile: null, port: 0, uiPort: null });
  log(`Temporal: own in-memory dev server on ${server.address}`);
  let running: RunningWorker | undefined;
  let api: Api | undefined;
  try {
    const definitions = loadDeployedDefinitions([DEFINITION_FILE]);
    const def = definitions.get(PROCEDURE);
    if (!def) throw new Error(`${DEFINITION_FILE} did not load as ${PROCEDURE}`);
    running = await runWorker(config, { address: server.address, records: null, definitions });
    const { client } = running;
    const signedIn = await signedInApi(running, definitions, config.taskQueue, PASSWORD);
    api = signedIn.api;
    const http = signedIn.http;
    log(`API: ${http.base}, signed in as a quality manager`);
    log(
      `Visibility benchmark: ${stages.join(' then ')} instances of ${PROCEDURE}, ${opts.clients} clients, ` +
        `${opts.concurrency} starts in flight, ${opts.reps} repetitions per view`,
    );

    const runId = randomUUID().slice(0, 6);
    const results: StageResult[] = [];
    let started = 0;
    for (const target of stages) {
      log('');
      log(`Stage: ${target} instances`);
      const from = started;
      const cpu0 = process.cpuUsage();
      const server0 = processCpuMs(server.process.pid);
      const load0 = loadavg()[0]!;
      const s0 = performance.now();
      await pool(from, target, opts.concurrency, async (i) => {
        await startProcedure(client, def, {
          context: { client: `Client ${String(i % opts.clients).padStart(2, '0')}` },
          starter: STARTER,
          taskQueue: config.taskQueue,
          workflowId: `vis-${runId}-${i}`,
        });
        started++;
        if (started % 1000 === 0) log(`    started ${started}`);
      });
      const wallMs = performance.now() - s0;
      const v0 = performance.now();
      await waitForVisibility(client, target, log);
      const visibilityLagMs = performance.now() - v0;
      const cpu = process.cpuUsage(cpu0);
      const server1 = processCpuMs(server.process.pid);
      const start = {
        started: target - from,
        wallMs: Math.round(wallMs),
        perSecond: Math.round(((target - from) / (wallMs / 1000)) * 10) / 10,
        visibilityLagMs: Math.round(visibilityLagMs),
        serverCpuMs: server0 !== null && server1 !== null ? Math.round(server1 - server0) : null,
        processCpuMs: Math.round((cpu.user + cpu.system) / 1000),
        loadAverage: [load0, loadavg()[0]!].map((x) => Math.round(x * 100) / 100) as [number, number],
      };
      log(
        `    started ${start.started} in ${(start.wallMs / 1000).toFixed(1)} s (${start.perSecond}/s); ` +
          `visibility complete ${(visibilityLagMs / 1000).toFixed(1)} s after the last start`,
      );
      // Let the worker's and the server's backlog settle before timing the views.
      await delay(2000);
      const load1 = loadavg()[0]!;
      const measured = await measureStage(http, target, opts.reps, `vis-${runId}-0`, log);
      results.push({
        instances: target,
        start,
        ...measured,
        loadAverage: [load1, loadavg()[0]!].map((x) => Math.round(x * 100) / 100) as [number, number],
        rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
      });
    }

    // Summary: each view at both stages, the ratio, and deep page ÷ first page.
    const [small, large] = results as [StageResult, StageResult];
    const names = Object.keys(large.views);
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
      instancesOverdue: `\`GET /api/instances?overdue=true&limit=${PAGE}\``,
      inbox: '`GET /api/inbox` (quality manager)',
    };
    const rows = names.map((name) => {
      const s = small.views[name];
      const l = large.views[name];
      return [
        labels[name] ?? name,
        fmt(s),
        fmt(l),
        ratio(l?.medianMs, s?.medianMs),
        ratio(l?.medianMs, large.views.stalledFirstPage?.medianMs),
      ];
    });
    const machine = {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      loadAverageAtEnd: loadavg().map((x) => Math.round(x * 100) / 100),
      temporal: 'own dev server (temporal server start-dev, in memory, SQLite visibility)',
    };
    const durationS = Math.round((performance.now() - t0) / 1000);
    const table = [
      `Visibility benchmark, ${date.slice(0, 16).replace('T', ' ')} UTC: ${small.instances} then ${large.instances} running instances ` +
        `(all stalled and overdue), ${opts.reps} repetitions per view, one request at a time; ` +
        `${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}; run ${durationS} s.`,
      '',
      `| Request | ${small.instances}: median / p95 (ms) | ${large.instances}: median / p95 (ms) | ${large.instances} ÷ ${small.instances} | ÷ first page at ${large.instances} |`,
      '|---|---:|---:|---:|---:|',
      ...rows.map((r) => `| ${r.join(' | ')} |`),
      '',
      ...results.map(
        (r) =>
          `- ${r.instances}: started ${r.start.started} at ${r.start.perSecond}/s (${(r.start.wallMs / 1000).toFixed(1)} s), ` +
          `visibility complete ${(r.start.visibilityLagMs / 1000).toFixed(1)} s later; ` +
          `whole stalled list walked in ${r.walk.pages} pages, ${(r.walk.totalMs / 1000).toFixed(2)} s; ` +
          `inbox lists the most overdue instance: ${r.inboxShowsOldest ? 'yes' : 'no'}; ` +
          `load average ${r.loadAverage.join('→')}; RSS ${r.rssMb} MB`,
      ),
    ].join('\n');
    log('');
    log(table);

    const report = {
      date,
      durationS,
      command: `nice -n 10 npx tsx test/bench/visibility-10k.ts --instances ${opts.instances} --concurrency ${opts.concurrency} --clients ${opts.clients} --reps ${opts.reps}`,
      machine,
      params: { ...opts, out: undefined, pageSize: PAGE, deepPages: DEEP },
      method: {
        instances: `${PROCEDURE} (bench-stalled.yaml): every instance waits in its first state, SLA PT1S, so all are stalled (idle PT0S) and overdue`,
        timing:
          'client-side round trip of one GET (fetch, keep-alive, body read), one request at a time, after one unmeasured warm-up request',
        deepPages:
          'the token after following nextPageToken k times, taken from one walk of the whole list, then requested repeatedly',
        user: 'quality_manager: sees every client; the role the waiting state awaits',
      },
      stages: results,
      markdown: table,
    };
    if (opts.out) {
      mkdirSync(path.dirname(opts.out), { recursive: true });
      writeFileSync(opts.out, await formatJson(report, opts.out));
      log('');
      log(`Written: ${path.relative(REPO_ROOT, opts.out) || opts.out}`);
    }
  } finally {
    await api?.close();
    await running?.shutdown().catch((err: unknown) => console.error('worker:', err));
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
