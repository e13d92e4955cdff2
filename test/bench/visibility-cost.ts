/**
 * What the Temporal server spends on the parts of a Custodia transition other than the audit
 * write: the raw update (`raw.workflow.ts`'s handler) alone, plus a search-attribute upsert (the
 * four attributes a state change sets), plus a timer started and cancelled, plus both — the
 * server's CPU per update, on one dev server, in one run (`visibility-cost.workflow.ts`).
 *
 *   npx tsx test/bench/visibility-cost.ts [--instances 20] [--updates 20] [--rounds 2] [--out FILE|-]
 *   TEMPORAL_ADDRESS=host:port npx tsx test/bench/visibility-cost.ts --server-pids PID,PID …
 *
 * - Temporal: its own in-memory dev server on a free port (as `npm run bench`), or the server at
 *   TEMPORAL_ADDRESS (e.g. `npm run cluster -- --workers 0 --api-ports ''`: the real server on
 *   PostgreSQL), whose CPU is then read from the processes named by `--server-pids` and their
 *   children (the Temporal server, the PostgreSQL postmaster); one worker in this process on a task
 *   queue of its own.
 * - Each phase starts N instances of one mode, waits 0.5 s, then sends N × M updates with every
 *   instance in flight (each instance's updates in sequence), and reads the dev server's CPU
 *   (utime + stime, `/proc`) and this process's (worker and client) around the sends; the
 *   instances are terminated after. Rounds repeat the four modes in alternating order; medians.
 * - Results: results/visibility-cost.json.
 */
import path from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { cpus, loadavg } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { loadConfig, connectClient } from '../../worker/config.ts';
import { startDevServer } from '../../worker/temporal/dev-server.ts';
import { eventUpdate, type SignedEventInput } from '../../workflows/api.ts';
import { VISIBILITY_COST_WORKFLOW_TYPE, type VisibilityCostMode } from './visibility-cost.workflow.ts';
import { formatJson, percentile, processTreeCpuMs } from './stats.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MODES: readonly VisibilityCostMode[] = ['raw', 'search-attributes', 'timer', 'both'];
const { values } = parseArgs({
  options: {
    instances: { type: 'string', default: '20' },
    updates: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '2' },
    'server-pids': { type: 'string' },
    out: { type: 'string', default: path.join(HERE, 'results', 'visibility-cost.json') },
  },
});
const N = Number(values.instances);
const M = Number(values.updates);
const ROUNDS = Number(values.rounds);
for (const [name, v] of [
  ['--instances', N],
  ['--updates', M],
  ['--rounds', ROUNDS],
] as const)
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} takes a positive integer, got ${String(v)}`);

const noop = (): void => {};
const config = loadConfig();
const external = process.env.TEMPORAL_ADDRESS;
const serverPids = (values['server-pids'] ?? '').split(',').filter(Boolean).map(Number);
if (external && !serverPids.length)
  throw new Error(
    'with TEMPORAL_ADDRESS, name the server processes whose CPU to read: --server-pids PID,PID',
  );
const server = external ? undefined : await startDevServer(config, { dbFile: null, port: 0, uiPort: null });
const address = server?.address ?? external!;
const pids = server ? [server.process.pid!] : serverPids;
/** CPU (ms) of the server's processes and their children. */
const serverCpuMs = (): number => pids.reduce((a, pid) => a + (processTreeCpuMs(pid) ?? NaN), 0);
const connection = await NativeConnection.connect({ address });
const client = await connectClient(config, address);
const taskQueue = `visibility-cost-${randomUUID()}`;
const worker = await Worker.create({
  connection,
  namespace: config.namespace,
  taskQueue,
  workflowBundle: await bundleWorkflowCode({
    workflowsPath: path.join(HERE, 'visibility-cost.workflow.ts'),
    logger: { trace: noop, debug: noop, info: noop, log: noop, warn: noop, error: (m) => console.error(m) },
  }),
});
const running = worker.run();

interface Phase {
  mode: VisibilityCostMode;
  updatesPerSec: number;
  serverCpuMsPerUpdate: number;
  workerCpuMsPerUpdate: number;
  load: number;
}

async function phase(mode: VisibilityCostMode): Promise<Phase> {
  const ids = await Promise.all(
    Array.from({ length: N }, async () => {
      const workflowId = `visibility-cost-${randomUUID()}`;
      await client.workflow.start(VISIBILITY_COST_WORKFLOW_TYPE, { taskQueue, workflowId, args: [mode] });
      return workflowId;
    }),
  );
  await delay(500);
  const server0 = serverCpuMs();
  const worker0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    ids.map(async (id) => {
      const handle = client.workflow.getHandle(id);
      for (let k = 0; k < M; k++) {
        const event = {
          type: k % 2 ? 'RETURN' : 'SUBMIT',
          actor: { id: 'a', roles: [] },
        } as SignedEventInput;
        await handle.executeUpdate(eventUpdate, { args: [event] });
      }
    }),
  );
  const wallS = (performance.now() - t0) / 1000;
  const serverMs = serverCpuMs() - server0;
  const w = process.cpuUsage(worker0);
  await Promise.all(ids.map((id) => client.workflow.getHandle(id).terminate()));
  const total = N * M;
  const result = {
    mode,
    updatesPerSec: total / wallS,
    serverCpuMsPerUpdate: serverMs / total,
    workerCpuMsPerUpdate: (w.user + w.system) / 1000 / total,
    load: loadavg()[0]!,
  };
  console.log(
    `  ${mode.padEnd(18)} ${result.updatesPerSec.toFixed(1).padStart(6)} updates/s  server ${result.serverCpuMsPerUpdate.toFixed(2)} ms/update  worker+client ${result.workerCpuMsPerUpdate.toFixed(2)} ms/update  load ${result.load.toFixed(1)}`,
  );
  return result;
}

const phases: Phase[] = [];
try {
  console.log(`Visibility cost: ${N} instances × ${M} updates per mode, ${ROUNDS} round(s)`);
  for (let r = 0; r < ROUNDS; r++)
    for (const mode of r % 2 ? [...MODES].reverse() : MODES) phases.push(await phase(mode));
} finally {
  worker.shutdown();
  await running;
  await connection.close();
  await server?.stop();
}

const median = (xs: number[]): number =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
const summary = Object.fromEntries(
  MODES.map((mode) => {
    const of = phases.filter((p) => p.mode === mode);
    return [
      mode,
      {
        updatesPerSec: median(of.map((p) => p.updatesPerSec)),
        serverCpuMsPerUpdate: median(of.map((p) => p.serverCpuMsPerUpdate)),
        workerCpuMsPerUpdate: median(of.map((p) => p.workerCpuMsPerUpdate)),
      },
    ];
  }),
) as Record<VisibilityCostMode, Omit<Phase, 'mode' | 'load'>>;
const raw = summary.raw.serverCpuMsPerUpdate;
const lines = [
  `| Per update (median of ${ROUNDS}) | Updates/s | Server CPU (ms) | ÷ raw | Worker + client CPU (ms) |`,
  '|---|---:|---:|---:|---:|',
  ...MODES.map((m) => {
    const s = summary[m];
    return `| ${m} | ${s.updatesPerSec.toFixed(1)} | ${s.serverCpuMsPerUpdate.toFixed(2)} | ${(s.serverCpuMsPerUpdate / raw).toFixed(2)}× | ${s.workerCpuMsPerUpdate.toFixed(2)} |`;
  }),
];
console.log('\n' + lines.join('\n'));
const out = {
  date: new Date().toISOString(),
  command: `npx tsx test/bench/visibility-cost.ts --instances ${N} --updates ${M} --rounds ${ROUNDS}`,
  server: server
    ? 'own dev server (temporal server start-dev, in memory)'
    : `${address} (processes ${pids.join(', ')})`,
  machine: { cpus: cpus().length, node: process.version },
  summary,
  phases,
  markdown: lines.join('\n'),
};
if (values.out !== '-') {
  mkdirSync(path.dirname(values.out!), { recursive: true });
  writeFileSync(values.out!, await formatJson(out, values.out!));
  console.log(`Written: ${path.relative(process.cwd(), values.out!)}`);
}
