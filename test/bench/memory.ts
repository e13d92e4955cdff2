/**
 * Worker memory with many running instances, and what an event on an evicted instance costs.
 *
 *   npx tsx test/bench/memory.ts [--instances 10000] [--cache 500] [--events 200] [--concurrency 32]
 *                                [--records DIR|:memory:] [--node-flags='--flag …'] [--out FILE|-]
 *
 * NODE_OPTIONS, MALLOC_* and the CUSTODIA_* settings reach the worker process (the memory ones
 * are named in the report's command); `--node-flags` go on its command line (V8 flags NODE_OPTIONS
 * refuses, e.g. `--optimize-for-size`; README "Memory"). The report gives the worker's CPU per
 * instance (its start and first task: CPU from the first start until all wait, ÷ N).
 *
 * - Temporal: its own in-memory dev server on a free port (no UI).
 * - The worker: a separate process, `node bin/launch.mjs worker/worker-main.ts` as `npm run worker`
 *   runs it (the prebuilt bundle when fresh, else the sources through tsx, in the same process;
 *   the launcher's memory settings: MALLOC_ARENA_MAX=2 unless set, --optimize-for-size with
 *   CUSTODIA_OPTIMIZE_FOR_SIZE=true), against that server, with `CUSTODIA_MAX_CACHED_WORKFLOWS=--cache`, its own task queue, the embedded
 *   records store in a fresh folder (`--records`, default a temporary folder) and only
 *   test/bench/bench-stalled.yaml as definitions. Sampled at rest (ready, no instance), while N
 *   instances are started, every minute while the worker catches up on their first tasks, and
 *   once all of them wait: the worker process's RSS (VmRSS) and CPU time so far, the split
 *   reported by test/bench/memory-probe.mjs (main V8 heap, the workflow thread's V8 heap, external,
 *   file-backed pages, anonymous memory by mapping) — also a minute after all wait, and the peak
 *   (VmHWM) at the end — and, apart, the PSS of the embedded store's PostgreSQL server processes
 *   (children of the worker).
 * - The events: REVIEW to `--events` of the instances started first — with N above the cache
 *   size they have been evicted, so each event first replays the instance's history — one at a
 *   time (p50/p99 of the client's update round trip), then the same to instances still cached
 *   (the last started), for comparison.
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
// @ts-expect-error -- plain JavaScript module without type declarations
import { freshBundle } from '../../bin/cli-bundle.mjs';

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
      'node-flags': { type: 'string', default: '' },
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
    nodeFlags: (values['node-flags'] ?? '').split(/\s+/).filter(Boolean),
    out: values.out === '-' ? null : path.resolve(values.out ?? DEFAULT_OUT),
  };
}

/** CPU time (s, user + system, all threads) a process has used so far, from /proc/<pid>/stat. */
function cpuSeconds(pid: number | undefined): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command: state is field 3, utime 14 and stime 15 (1-based, man 5 proc).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resident set size of a process (MB), from /proc: now (VmRSS), or its peak so far (VmHWM). */
function rssMb(pid: number | undefined, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return Math.round(kb / 1024);
}

function childPids(pid: number | undefined): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // gone, or no children file
  }
}

/** Proportional set size (MB): shared pages divided among the processes that map them. */
function pssMb(pid: number): number {
  try {
    const kb = Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? NaN);
    return kb / 1024;
  } catch {
    return 0;
  }
}

function commandName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/**
 * The worker process's own RSS and, apart, what runs in processes it started: the embedded
 * records store's PostgreSQL server (its processes share memory: PSS summed), tsx's esbuild.
 */
function workerMemory(pid: number | undefined): {
  worker: number;
  store: number;
  other: Record<string, number>;
} {
  const worker = rssMb(pid);
  let store = 0;
  const other: Record<string, number> = {};
  const walk = (p: number): void => {
    for (const c of childPids(p)) {
      const name = commandName(c);
      if (name === 'postgres') store += pssMb(c);
      else other[name] = Math.round((other[name] ?? 0) + pssMb(c));
      walk(c);
    }
  };
  walk(pid ?? 0);
  return { worker, store: Math.round(store), other };
}

interface Probe {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  heapPhysical?: number;
  heapMalloced?: number;
  external: number;
  arrayBuffers: number;
  threads: ({ used: number; total: number; physical?: number; malloced?: number; external: number } | null)[];
  anonymous?: number;
  file?: number;
  /** Anonymous resident memory by kind of mapping (memory-probe.mjs `mappings()`). */
  mappings?: { brk: number; arenas: number; arenaCount: number; stacks: number; other: number };
}

const PROBE = path.join(HERE, 'memory-probe.mjs');
const WORKER_ENTRY = 'worker/worker-main.ts';

interface Sample {
  label: string;
  /** Seconds since the first start. */
  atS?: number;
  workerRssMb: number;
  /** The worker process's CPU time so far (s). */
  workerCpuS: number;
  storePssMb: number;
  otherChildrenPssMb: Record<string, number>;
  probe: Probe | null;
}

/** Ask the worker (memory-probe.mjs preloaded) where its memory is. */
function probe(child: ChildProcess, lines: string[]): Promise<Probe> {
  const before = lines.length;
  child.kill('SIGWINCH');
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const poll = (): void => {
      const line = lines.slice(before).find((l) => l.startsWith('custodia-memory-probe '));
      if (line) resolve(JSON.parse(line.slice('custodia-memory-probe '.length)) as Probe);
      else if (Date.now() - t0 > 60_000) reject(new Error('no memory probe answer in 60 s'));
      else setTimeout(poll, 50);
    };
    poll();
  });
}

async function pool(n: number, count: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const run = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(n, count) }, run));
}

/** A node process running `args`, with `nodeFlags` first; its output lines are collected in `lines`. */
function spawnNode(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  nodeFlags: string[] = [],
): Promise<{ child: ChildProcess; lines: string[] }> {
  const child = spawn(process.execPath, [...nodeFlags, ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    let partial = '';
    let isReady = false;
    const onData = (b: Buffer): void => {
      const parts = (partial + b.toString()).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (!isReady && ready.test(line)) {
          isReady = true;
          resolve({ child, lines });
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}:\n${lines.join('\n')}`)));
  });
}

/** Settings of the worker's memory this run was given: V8 flags, glibc malloc tunables, ours. */
const MEMORY_SETTINGS = [
  'NODE_OPTIONS',
  'CUSTODIA_OPTIMIZE_FOR_SIZE',
  'CUSTODIA_IDLE_GC_INTERVAL_MS',
  'CUSTODIA_MAX_CONCURRENT_WORKFLOW_TASKS',
];

function envPrefix(): string {
  return Object.entries(process.env)
    .filter(([k]) => MEMORY_SETTINGS.includes(k) || k.startsWith('MALLOC_'))
    .map(([k, v]) => `${k}='${v}' `)
    .join('');
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
    // As `npm run worker` runs it: bin/launch.mjs, the prebuilt bundle when fresh, else the sources
    // through tsx's loader (in the same process).
    const runs = freshBundle(REPO_ROOT, WORKER_ENTRY).entry ? 'bundle' : 'sources (tsx)';
    log(`worker: node bin/launch.mjs ${WORKER_ENTRY} — runs the ${runs}`);
    const spawned = await spawnNode(['bin/launch.mjs', WORKER_ENTRY], env, /custodia worker: task queue/, [
      ...opts.nodeFlags,
      '--import',
      PROBE,
    ]);
    worker = spawned.child;
    const w = worker;
    let stopping = false;
    w.on('exit', (code, signal) => {
      if (!stopping)
        console.error(`worker exited (${signal ?? code}):\n${spawned.lines.slice(-40).join('\n')}`);
    });
    const sample = async (label: string): Promise<Sample> => {
      const m = workerMemory(w.pid);
      const cpu = cpuSeconds(w.pid);
      // A worker too busy to answer in time (while instances start) still has its RSS sampled.
      const p = await probe(w, spawned.lines).catch(() => null);
      const threads = p?.threads.reduce((sum, t) => sum + (t?.total ?? NaN), 0);
      const threadsUsed = p?.threads.reduce((sum, t) => sum + (t?.used ?? NaN), 0);
      const mb = (x: number | undefined): number => Math.round(x ?? NaN);
      const maps = p?.mappings;
      log(
        `  ${label}: worker RSS ${m.worker} MB (main V8 heap ${mb(p?.heapUsed)}/${mb(p?.heapTotal)}, workflow thread heap ` +
          `${mb(threadsUsed)}/${mb(threads)} used/committed, external ${mb(p?.external)}, file-backed ${mb(p?.file)}; ` +
          `anonymous ${mb(p?.anonymous)}: brk ${mb(maps?.brk)}, ${maps?.arenaCount ?? '?'} malloc arenas ${mb(maps?.arenas)}, ` +
          `stacks ${mb(maps?.stacks)}, other ${mb(maps?.other)}), store ${m.store} MB PSS`,
      );
      return {
        label,
        atS: Math.round((performance.now() - t0) / 1000),
        workerRssMb: m.worker,
        workerCpuS: cpu,
        storePssMb: m.store,
        otherChildrenPssMb: m.other,
        probe: p,
      };
    };
    await delay(3000);
    const samples: Sample[] = [await sample('at rest')];
    const atRest = samples[0]?.workerRssMb ?? NaN;

    const client = await connectClient(config, server.address);
    const runId = randomUUID().slice(0, 6);
    const ids: string[] = [];
    const cpuBeforeStarts = cpuSeconds(w.pid);
    const s0 = performance.now();
    const every = Math.max(1000, Math.ceil(opts.instances / 10 / 1000) * 1000);
    const pending: Promise<Sample>[] = [];
    await pool(opts.concurrency, opts.instances, async (i) => {
      const id = `mem-${runId}-${i}`;
      ids[i] = id;
      await startProcedure(client, def, {
        context: { client: `Client ${i % 20}` },
        starter: STARTER,
        taskQueue: config.taskQueue,
        workflowId: id,
      });
      if ((i + 1) % every === 0) pending.push(sample(`started ${i + 1}`));
    });
    samples.push(...(await Promise.all(pending)));
    const startS = (performance.now() - s0) / 1000;
    // Every instance's first workflow task done: its state is in the worker's cache (or evicted).
    let nextCatchUpSample = performance.now() + 60_000;
    for (;;) {
      const { count } = await client.workflow.count(
        `TaskQueue = '${config.taskQueue}' AND CustodiaState = 'waiting'`,
      );
      if (count >= opts.instances) break;
      if (performance.now() >= nextCatchUpSample) {
        nextCatchUpSample = performance.now() + 60_000;
        samples.push(await sample(`catching up: ${count} waiting`));
      }
      await delay(1000);
    }
    const settledS = (performance.now() - s0) / 1000;
    const cpuAllWaiting = cpuSeconds(w.pid);
    await delay(5000);
    const loadedSample = await sample(`${opts.instances} running`);
    samples.push(loadedSample);
    const loaded = loadedSample.workerRssMb;
    // V8 gives back heap it grew while busy once idle (its memory reducer): the same, a minute on.
    await delay(60_000);
    const laterSample = await sample(`${opts.instances} running, a minute later`);
    samples.push(laterSample);
    const firstTaskCpuMs = ((cpuAllWaiting - cpuBeforeStarts) * 1000) / opts.instances;
    log(
      `${opts.instances} running instances (started in ${startS.toFixed(0)} s, all waiting after ${settledS.toFixed(0)} s): worker RSS ${loaded} MB; ` +
        `worker CPU ${(cpuAllWaiting - cpuBeforeStarts).toFixed(1)} s, ${firstTaskCpuMs.toFixed(1)} ms per instance (its start and first task)`,
    );

    const send = async (id: string): Promise<number> => {
      const assertion = signer.sign(QM, { workflowId: id });
      const a = performance.now();
      await sendEvent(client, id, { type: 'REVIEW', actor: QM, assertion });
      return performance.now() - a;
    };
    const k = Math.min(opts.events, Math.floor(opts.instances / 2));
    const loadDuringEvents = loadavg()[0] ?? NaN;
    const evicted: number[] = [];
    for (let i = 0; i < k; i++) evicted.push(await send(ids[i] as string));
    const recent: number[] = [];
    for (let i = opts.instances - k; i < opts.instances; i++) recent.push(await send(ids[i] as string));
    const afterSample = await sample('after the events');
    samples.push(afterSample);
    const peakMb = rssMb(w.pid, 'VmHWM');
    log(`worker peak RSS over the run (VmHWM): ${peakMb} MB`);
    const ev = timing(evicted);
    const rc = timing(recent);
    log(`event on the ${k} oldest instances (evicted when N > cache): p50 ${ev.p50} ms, p99 ${ev.p99} ms`);
    log(`event on the ${k} newest instances (cached):                 p50 ${rc.p50} ms, p99 ${rc.p99} ms`);
    await client.connection.close();
    stopping = true;
    worker.kill('SIGTERM');
    await new Promise((r) => worker?.once('exit', r));
    worker = undefined;

    const report = {
      date,
      durationS: Math.round((performance.now() - t0) / 1000),
      command: `${envPrefix()}npx tsx test/bench/memory.ts --instances ${opts.instances} --cache ${opts.cache} --events ${opts.events}${opts.nodeFlags.length ? ` --node-flags='${opts.nodeFlags.join(' ')}'` : ''}`,
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        memoryGb: Math.round(totalmem() / 2 ** 30),
        node: process.version,
        loadAverageDuringEvents: Math.round(loadDuringEvents * 100) / 100,
        loadAverageAtEnd: loadavg().map((x) => Math.round(x * 100) / 100),
      },
      params: { ...opts, out: undefined, records: opts.records ?? 'temporary folder' },
      worker: runs,
      workerRssMb: {
        atRest,
        withInstances: loaded,
        aMinuteLater: laterSample.workerRssMb,
        afterEvents: afterSample.workerRssMb,
        peak: peakMb,
      },
      storePssMb: { atRest: samples[0]?.storePssMb, withInstances: loadedSample.storePssMb },
      startedS: Math.round(startS),
      allWaitingS: Math.round(settledS),
      firstTasksPerS: Math.round((opts.instances / settledS) * 10) / 10,
      workerCpuMsPerInstanceStart: Math.round(firstTaskCpuMs * 10) / 10,
      eventOnEvictedMs: ev,
      eventOnCachedMs: rc,
      samples,
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
