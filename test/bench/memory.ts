/**
 * Worker memory with many running instances, and what an event on an evicted instance costs.
 *
 *   npx tsx test/bench/memory.ts [--instances 10000] [--cache 500] [--events 200] [--concurrency 32]
 *                                [--records DIR|:memory:] [--out FILE|-]
 *
 * - Temporal: its own in-memory dev server on a free port (no UI).
 * - The worker: a separate process, `worker/worker-main.ts` (what `npm run worker` runs), against
 *   that server, with `CUSTODIA_MAX_CACHED_WORKFLOWS=--cache`, its own task queue, the embedded
 *   records store in a fresh folder (`--records`, default a temporary folder; `:memory:` for
 *   PGlite in memory) and only test/bench/bench-stalled.yaml as definitions. Its RSS (VmRSS from
 *   /proc) is sampled at rest (ready, no instance) and after N instances were started and settled.
 * - The events: REVIEW to `--events` of the instances started first — with N above the cache
 *   size they have been evicted, so each event first replays the instance's history — one at a
 *   time (p50/p99 of the client's update round trip), then the same to instances still cached
 *   (the last started), for comparison.
 * - The embedded store alone: a process that only opens it (same folder kind) and reports its RSS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { loadConfig, connectClient, REPO_ROOT } from '../../worker/config.ts';
import { startDevServer, type DevServer } from '../../worker/temporal/dev-server.ts';
import { loadDeployedDefinitions } from '../../worker/process.ts';
import { loadActorSigner } from '../../worker/actor-keys.ts';
import { startProcedure, sendEvent } from '../../worker/instances.ts';
import type { Actor } from '../../workflows/core/ir.ts';
import { formatJson, percentile } from './stats.ts';
import { tempDir } from '../temp-dir.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DEFINITION_FILE = path.join(HERE, 'bench-stalled.yaml');
const DEFAULT_OUT = path.join(HERE, 'results', 'memory.json');
const STARTER: Actor = { id: 'starter', roles: ['project_staff'] };
const QM: Actor = { id: 'qm', roles: ['quality_manager'] };

function options() {
  const { values } = parseArgs({
    options: {
      instances: { type: 'string', default: '10000' },
      cache: { type: 'string', default: '500' },
      events: { type: 'string', default: '200' },
      concurrency: { type: 'string', default: '32' },
      records: { type: 'string' },
      out: { type: 'string', default: DEFAULT_OUT },
    },
  });
  const int = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${v}`);
    return n;
  };
  return {
    instances: int('instances', values.instances, 10),
    cache: int('cache', values.cache, 0),
    events: int('events', values.events, 1),
    concurrency: int('concurrency', values.concurrency, 1),
    records: values.records,
    out: values.out === '-' ? null : path.resolve(values.out ?? DEFAULT_OUT),
  };
}

/** Resident set size of a process (MB), from /proc. */
function rssMb(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return Math.round(kb / 1024);
}

/** RSS of a process and its children (tsx runs the worker in a child node process). */
function treeRssMb(pid: number | undefined): number {
  let total = rssMb(pid);
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    for (const c of children) total += treeRssMb(Number(c));
  } catch {
    // no children file: nothing to add
  }
  return total;
}

async function pool(n: number, count: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const run = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(n, count) }, run));
}

function spawnNode(args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<ChildProcess> {
  const child = spawn(path.join(REPO_ROOT, 'node_modules/.bin/tsx'), args, {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (ready.test(out)) resolve(child);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}:\n${out}`)));
  });
}

const timing = (xs: number[]): { p50: number; p99: number; max: number } => {
  const s = [...xs].sort((a, b) => a - b);
  const r = (x: number): number => Math.round(x * 10) / 10;
  return { p50: r(percentile(s, 50)), p99: r(percentile(s, 99)), max: r(s[s.length - 1] ?? NaN) };
};

async function main(): Promise<void> {
  const opts = options();
  const log = (line: string): void => console.log(line);
  const date = new Date().toISOString();
  const t0 = performance.now();
  const base = loadConfig();
  const config = { ...base, taskQueue: `custodia-mem-${randomUUID().slice(0, 8)}` };
  const work = tempDir('custodia-memory-');
  const keyFile = path.join(work, 'actor-key.pem');
  const signer = loadActorSigner(keyFile);
  const records = opts.records ?? path.join(work, 'records');
  const server: DevServer = await startDevServer(config, { dbFile: null, port: 0, uiPort: null });
  log(`Temporal: own in-memory dev server on ${server.address}`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: server.address,
    CUSTODIA_TASK_QUEUE: config.taskQueue,
    CUSTODIA_DEFINITIONS: path.join(work, 'definitions'),
    CUSTODIA_RECORDS_DIR: records,
    CUSTODIA_ACTOR_KEY: keyFile,
    CUSTODIA_MAX_CACHED_WORKFLOWS: String(opts.cache),
    CUSTODIA_LOG_LEVEL: 'WARN',
  };
  mkdirSync(path.join(work, 'definitions'));
  writeFileSync(path.join(work, 'definitions', 'bench-stalled.yaml'), readFileSync(DEFINITION_FILE));
  let worker: ChildProcess | undefined;
  try {
    const def = loadDeployedDefinitions([DEFINITION_FILE]).get('bench_stalled');
    if (!def) throw new Error('bench-stalled.yaml did not load');
    worker = await spawnNode(['worker/worker-main.ts'], env, /custodia worker: task queue/);
    await delay(3000);
    const atRest = treeRssMb(worker.pid);
    log(`worker ready (cache ${opts.cache}): RSS at rest ${atRest} MB`);

    const client = await connectClient(config, server.address);
    const runId = randomUUID().slice(0, 6);
    const ids: string[] = [];
    const s0 = performance.now();
    let peak = atRest;
    await pool(opts.concurrency, opts.instances, async (i) => {
      const id = `mem-${runId}-${i}`;
      ids[i] = id;
      await startProcedure(client, def, {
        context: { client: `Client ${i % 20}` },
        starter: STARTER,
        taskQueue: config.taskQueue,
        workflowId: id,
      });
      if ((i + 1) % 1000 === 0) {
        peak = Math.max(peak, treeRssMb(worker?.pid));
        log(`  started ${i + 1}, worker RSS ${treeRssMb(worker?.pid)} MB`);
      }
    });
    const startS = (performance.now() - s0) / 1000;
    // Every instance's first workflow task done: its state is in the worker's cache (or evicted).
    for (;;) {
      const { count } = await client.workflow.count(
        `TaskQueue = '${config.taskQueue}' AND CustodiaState = 'waiting'`,
      );
      if (count >= opts.instances) break;
      await delay(1000);
    }
    await delay(5000);
    const loaded = treeRssMb(worker.pid);
    peak = Math.max(peak, loaded);
    log(
      `${opts.instances} running instances (started in ${startS.toFixed(0)} s): worker RSS ${loaded} MB (peak seen ${peak})`,
    );

    const send = async (id: string): Promise<number> => {
      const assertion = signer.sign(QM, { workflowId: id });
      const a = performance.now();
      await sendEvent(client, id, { type: 'REVIEW', actor: QM, assertion });
      return performance.now() - a;
    };
    const k = Math.min(opts.events, Math.floor(opts.instances / 2));
    const evicted: number[] = [];
    for (let i = 0; i < k; i++) evicted.push(await send(ids[i] as string));
    const recent: number[] = [];
    for (let i = opts.instances - k; i < opts.instances; i++) recent.push(await send(ids[i] as string));
    const afterEvents = treeRssMb(worker.pid);
    const ev = timing(evicted);
    const rc = timing(recent);
    log(`event on the ${k} oldest instances (evicted when N > cache): p50 ${ev.p50} ms, p99 ${ev.p99} ms`);
    log(`event on the ${k} newest instances (cached):                 p50 ${rc.p50} ms, p99 ${rc.p99} ms`);
    await client.connection.close();
    worker.kill('SIGTERM');
    await new Promise((r) => worker?.once('exit', r));
    worker = undefined;

    // The embedded store alone, in a process of its own.
    const storeOnly = await spawnNode(
      [
        '-e',
        "import('./worker/records/store.ts').then(async ({ openStore }) => { const { recordsStoreOptions } = await import('./worker/records/location.ts'); const s = await openStore(recordsStoreOptions()); console.log('store open'); setInterval(() => {}, 1000); })",
      ],
      env,
      /store open/,
    );
    await delay(2000);
    const storeRss = treeRssMb(storeOnly.pid);
    // SIGTERM: tsx passes it on to the node process it runs (a SIGKILL would leave that one running).
    storeOnly.kill('SIGTERM');
    await new Promise((r) => storeOnly.once('exit', r));
    log(`embedded records store alone (a process that only opens it): RSS ${storeRss} MB`);

    const report = {
      date,
      durationS: Math.round((performance.now() - t0) / 1000),
      command: `npx tsx test/bench/memory.ts --instances ${opts.instances} --cache ${opts.cache} --events ${opts.events}`,
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        memoryGb: Math.round(totalmem() / 2 ** 30),
        node: process.version,
        loadAverageAtEnd: loadavg().map((x) => Math.round(x * 100) / 100),
      },
      params: { ...opts, out: undefined, records: opts.records ?? 'temporary folder' },
      workerRssMb: { atRest, withInstances: loaded, peakSeen: peak, afterEvents },
      eventOnEvictedMs: ev,
      eventOnCachedMs: rc,
      storeOnlyRssMb: storeRss,
    };
    log(JSON.stringify(report, null, 1));
    if (opts.out) {
      mkdirSync(path.dirname(opts.out), { recursive: true });
      writeFileSync(opts.out, await formatJson(report, opts.out));
    }
  } finally {
    worker?.kill('SIGKILL');
    await server.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
