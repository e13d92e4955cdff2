/**
 * `npx tsx test/bench/assign.ts` — the `assign` update's round trip beside the `event` update's,
 * on the same server and worker, in the same run; then a bulk reassign over many instances as the
 * stalled view runs it (`BulkJobs`, bounded concurrency), with its progress.
 *
 *   npx tsx test/bench/assign.ts [--instances 100] [--bulk 1000] [--concurrency 8]
 *
 * - Temporal: its own in-memory dev server on a free port, unless TEMPORAL_ADDRESS is set.
 * - One worker in this process (the real `commitTransition` over an in-memory records store).
 * - Round trips: for each of `instances` instances in turn, one at a time (latency, not
 *   throughput): the `event` update SUBMIT, a claim (`assign` to oneself), a manager's reassign
 *   (`assign` to another, with the assignee's signed roles), the `event` update APPROVE by the
 *   assignee. p50 / p99 of each.
 * - Bulk: `bulk` instances submitted, then one reassign job over all of them, progress sampled
 *   every second; reports the wall time, the throughput and any refusal.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { loadActorSigner } from '../../worker/actor-keys.ts';
import { assignTask, signedAssignment } from '../../worker/assignment.ts';
import { BulkJobs } from '../../worker/bulk.ts';
import { connectClient, connectionOptions, loadConfig, REPO_ROOT } from '../../worker/config.ts';
import { sendEvent, signedEvent, startProcedure } from '../../worker/instances.ts';
import { loadDeployedDefinitions } from '../../worker/process.ts';
import { openEmbeddedStore } from '../../worker/records/store.ts';
import { ensureSearchAttributes, startDevServer, type DevServer } from '../../worker/temporal/dev-server.ts';
import { PRELOADED_MODULES, actorKeysPlugin, procedureWorkerParts } from '../../worker/worker.ts';
import type { Actor } from '../../workflows/core/ir.ts';
import { percentile } from './stats.ts';

const { values } = parseArgs({
  options: {
    instances: { type: 'string', default: '100' },
    bulk: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '8' },
  },
});
const INSTANCES = Number(values.instances);
const BULK = Number(values.bulk);
const CONCURRENCY = Number(values.concurrency);

const ALICE: Actor = { id: 'alice', roles: ['project_staff'] };
const RITA: Actor = { id: 'rita', roles: ['reviewer'] };
const REMY: Actor = { id: 'remy', roles: ['reviewer'] };
const BOB: Actor = { id: 'bob', roles: ['quality_manager'] };
const SIGNER = loadActorSigner(path.join(mkdtempSync(path.join(tmpdir(), 'custodia-bench-key-')), 'key.pem'));

const log = (line: string): void => console.log(line);
const stats = (ms: number[]): string => {
  const s = [...ms].sort((a, b) => a - b);
  return `p50 ${percentile(s, 50).toFixed(1)} ms  p99 ${percentile(s, 99).toFixed(1)} ms  (n=${s.length})`;
};

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const config = loadConfig();
  let server: DevServer | null = null;
  let address: string;
  if (config.address) {
    address = config.address;
    await ensureSearchAttributes(connectionOptions(config), config.namespace);
  } else {
    server = await startDevServer(config, { dbFile: null, port: 0, uiPort: null });
    address = server.address;
  }
  const definitions = loadDeployedDefinitions([path.join(REPO_ROOT, 'test/fixtures/assignment/review.yaml')]);
  const def = definitions.get('assign_review')!;
  const store = await openEmbeddedStore(null);
  const client = await connectClient(config, address);
  const connection = await NativeConnection.connect(connectionOptions(config, address));
  const taskQueue = `custodia-bench-assign-${randomUUID().slice(0, 8)}`;
  const noop = (): void => {};
  const bundle = await bundleWorkflowCode({
    workflowsPath: path.join(REPO_ROOT, 'workflows/index.ts'),
    logger: { trace: noop, debug: noop, info: noop, log: noop, warn: noop, error: (m) => console.error(m) },
    preloadModules: PRELOADED_MODULES,
    webpackConfigHook: (c) => ({
      ...c,
      plugins: [...(c.plugins ?? []), actorKeysPlugin([SIGNER.publicKey])],
    }),
  });
  const worker = await Worker.create({
    connection,
    namespace: config.namespace,
    taskQueue,
    workflowBundle: bundle,
    ...procedureWorkerParts({ store, client, taskQueue, definition: (id) => definitions.get(id) }),
  });
  const running = worker.run();
  const start = (): Promise<string> =>
    startProcedure(client, def, { context: { client: 'acme' }, starter: ALICE, taskQueue });
  const submit = (id: string) =>
    sendEvent(client, id, signedEvent(SIGNER, id, { type: 'SUBMIT', actor: ALICE }));
  const assign = (id: string, actor: Actor, to: Actor) =>
    assignTask(client, id, signedAssignment(SIGNER, id, { assignee: to.id, actor }, to));
  try {
    log(
      `Temporal ${server ? `dev server ${address}` : address}; ${INSTANCES} instances, one request at a time`,
    );
    const ids = await Promise.all(Array.from({ length: INSTANCES }, start));
    // Warm-up (JIT, caches): a few of each, not measured.
    const warm = await Promise.all(Array.from({ length: 5 }, start));
    for (const id of warm) {
      await submit(id);
      await assign(id, RITA, RITA);
      await assign(id, BOB, REMY);
    }
    const event: number[] = [];
    const approve: number[] = [];
    const claim: number[] = [];
    const reassign: number[] = [];
    const time = async (into: number[], fn: () => Promise<unknown>): Promise<void> => {
      const t0 = performance.now();
      await fn();
      into.push(performance.now() - t0);
    };
    for (const id of ids) {
      await time(event, () => submit(id));
      await time(claim, () => assign(id, RITA, RITA));
      await time(reassign, () => assign(id, BOB, REMY));
      await time(approve, () =>
        sendEvent(client, id, signedEvent(SIGNER, id, { type: 'APPROVE', actor: REMY })),
      );
    }
    log(`event update (SUBMIT)           ${stats(event)}`);
    log(`event update (APPROVE)          ${stats(approve)}`);
    log(`assign update: claim            ${stats(claim)}`);
    log(`assign update: manager reassign ${stats(reassign)}`);

    if (BULK > 0) {
      log(`Bulk: starting and submitting ${BULK} instances…`);
      const bulkIds: string[] = [];
      for (let i = 0; i < BULK; i += 20) {
        const batch = await Promise.all(Array.from({ length: Math.min(20, BULK - i) }, start));
        await Promise.all(batch.map(submit));
        bulkIds.push(...batch);
      }
      const jobs = new BulkJobs({ concurrency: CONCURRENCY });
      const t0 = performance.now();
      const job = jobs.start('bob', 'reassign', bulkIds, async (id) => {
        try {
          const r = await assign(id, BOB, RITA);
          return { workflowId: id, ok: true, detail: `${r.from ?? '(nobody)'} → ${r.to}` };
        } catch (err) {
          return { workflowId: id, ok: false, message: err instanceof Error ? err.message : String(err) };
        }
      });
      while (job.done < job.total) {
        await new Promise((r) => setTimeout(r, 1000));
        log(`  progress ${job.done}/${job.total} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      }
      const wall = performance.now() - t0;
      log(
        `Bulk reassign of ${job.total} at concurrency ${CONCURRENCY}: ${(wall / 1000).toFixed(1)} s, ` +
          `${((job.total * 1000) / wall).toFixed(0)} instances/s, ok ${job.ok}, refused ${job.refused}`,
      );
    }
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
    await client.connection.close();
    await store.close();
    await server?.stop();
  }
}

await main();
