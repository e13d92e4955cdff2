/**
 * Chaos: N clients drive `TICK` events through two API processes (each client fails over to the
 * other on an error, as a proxy would) while a worker process, an API process and then the
 * Temporal server are SIGKILLed; supervisors restart each. At the end every acknowledged event is
 * in its instance's log, in its Temporal history (the accepted update) and in the audit log exactly
 * once, nothing is there twice, and the audit chain verifies. Prints acknowledged / lost /
 * duplicated / longest client-visible stall (per kill) and throughput.
 *
 * Runs in the `cluster` project only: the real Temporal server on PostgreSQL that the project's
 * global setup runs supervised (killed by its pid in `cluster.json`). Workers and APIs: two of
 * each, with the PostgreSQL records store. (It also ran on a dev server in the `integration`
 * project until 2026-12-07: the same assertions on the same engine, ~100 s more per `npm test`;
 * the supervised dev server's restart on its data under `npm start` is `ops.int.test.ts`'s.)
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import pg from 'pg';
import { connectClient, loadConfig, REPO_ROOT } from '../../worker/config.ts';
import { getSnapshot } from '../../worker/instances.ts';
import { openStore } from '../../worker/records/store.ts';
import { superviseCustodia, type ClusterState } from '../../worker/cluster/cluster.ts';
import type { Supervised } from '../../worker/cluster/supervise.ts';
import { testPort } from '../support/ports.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `cluster.json` of the cluster the `cluster` project's global setup runs (absent elsewhere). */
    clusterStateFile?: string;
  }
}

const CLIENTS = 8;
const PASSWORD = 'chaos horse battery staple';
const FIXTURES = path.join(REPO_ROOT, 'test/cluster/fixtures');
/**
 * A client gives up on a request after this long and sends the next one (a new nonce): an update
 * in flight when the Temporal server died can otherwise hang until the SDK's own deadline.
 */
const REQUEST_TIMEOUT_MS = 10_000;
/** Load before the first kill, and between a restart and the next kill. */
const SETTLE_MS = 5_000;

const stateFile = inject('clusterStateFile') ?? '';
if (!stateFile)
  throw new Error('the chaos test runs in the cluster project (npx vitest run --project cluster …)');
const adminUrl = inject('postgresUrl');
const dir = mkdtempSync(path.join(os.tmpdir(), 'custodia-chaos-'));
chmodSync(dir, 0o755);
const notices: string[] = [];
const notice = (line: string): void => {
  notices.push(`${new Date().toISOString().slice(11, 23)} ${line}`);
};

/** The cluster's Temporal server: its address and its pid (its supervisor restarts it). */
interface Server {
  address: string;
  pid(): number | undefined;
}

let server: Server;
let databaseUrl = '';
let dbName = '';
let client: Client;
const workers: Supervised[] = [];
const apis: { url: string; process: Supervised }[] = [];

/** The last lines each worker and API process printed (for a failure message). */
function logTails(): string {
  const logs = path.join(dir, 'logs');
  if (!existsSync(logs)) return '';
  return readdirSync(logs)
    .map((f) => `--- ${f}\n${readFileSync(path.join(logs, f), 'utf8').split('\n').slice(-15).join('\n')}`)
    .join('\n');
}

function clusterState(): ClusterState {
  return JSON.parse(readFileSync(stateFile, 'utf8')) as ClusterState;
}

async function until(what: string, ms: number, fn: () => Promise<boolean> | boolean): Promise<void> {
  const t0 = Date.now();
  while (!(await Promise.resolve(fn()).catch(() => false))) {
    if (Date.now() - t0 > ms)
      throw new Error(`${what}: not within ${ms / 1000} s\n${notices.join('\n')}\n${logTails()}`);
    await sleep(200);
  }
}

beforeAll(async () => {
  if (!adminUrl) return;
  const config = loadConfig();
  server = {
    address: clusterState().address,
    pid: () => clusterState().temporalPid ?? undefined,
  };
  // A records database of its own on the run's PostgreSQL.
  dbName = `chaos_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  databaseUrl = url.toString();
  const store = await openStore({ databaseUrl });
  try {
    await store.createUser(
      { id: 'chaos', displayName: 'Chaos', roles: ['project_staff'], clients: ['acme'], password: PASSWORD },
      'chaos-test',
    );
  } finally {
    await store.close();
  }

  const taskQueue = `chaos-${randomUUID().slice(0, 8)}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: server.address,
    CUSTODIA_TASK_QUEUE: taskQueue,
    CUSTODIA_DEFINITIONS: FIXTURES,
    DATABASE_URL: databaseUrl,
    CUSTODIA_CHECKPOINT_DIR: path.join(dir, 'checkpoints'),
    CUSTODIA_UI_DIR: 'off',
    CUSTODIA_LOG_LEVEL: 'WARN',
  };
  const logDir = path.join(dir, 'logs');
  // The first worker alone first: it records the deployment; then the rest at once.
  workers.push(await superviseCustodia({ name: 'worker-1', kind: 'worker', env, logDir, notice }));
  const ports = [await testPort(), await testPort()];
  const started = await Promise.all([
    superviseCustodia({ name: 'worker-2', kind: 'worker', env, logDir, notice }),
    ...ports.map((port, i) =>
      superviseCustodia({
        name: `api-${i + 1}`,
        kind: 'api',
        env: { ...env, CUSTODIA_HTTP_PORT: String(port) },
        logDir,
        notice,
      }),
    ),
  ]);
  workers.push(started[0]!);
  ports.forEach((port, i) => apis.push({ url: `http://127.0.0.1:${port}`, process: started[i + 1]! }));
  client = await connectClient({ ...config, address: server.address, taskQueue }, server.address);
}, 300_000);

afterAll(async () => {
  await Promise.all([...apis.map((a) => a.process.stop()), ...workers.map((w) => w.stop())]);
  await client?.connection.close();
  if (adminUrl && dbName) {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
    await admin.end();
  }
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

interface Ack {
  workflowId: string;
  n: string;
  seq: number;
  at: number;
}

describe('chaos on the cluster', () => {
  it.skipIf(!adminUrl)(
    `${CLIENTS} clients keep sending while a worker, an API and the Temporal server are SIGKILLed: nothing acknowledged is lost or doubled`,
    async () => {
      // One session (stored in PostgreSQL, so both APIs honour it).
      const login = await fetch(`${apis[0]!.url}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'chaos', password: PASSWORD }),
      });
      expect(login.status).toBe(201);
      const cookie = /custodia_session=([^;]*)/.exec(login.headers.getSetCookie().join(';'))?.[1] ?? '';
      const csrf = String(((await login.json()) as { csrfToken: string }).csrfToken);
      const headers = {
        'content-type': 'application/json',
        cookie: `custodia_session=${cookie}`,
        'x-csrf-token': csrf,
      };
      const instances: string[] = [];
      for (let i = 0; i < CLIENTS; i++) {
        const res = await fetch(`${apis[i % 2]!.url}/api/instances`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ procedure: 'chaos_counter', input: { client: 'acme' } }),
        });
        const body = (await res.json()) as { workflowId: string };
        expect(res.status, JSON.stringify(body)).toBe(201);
        instances.push(body.workflowId);
      }

      const acks: Ack[] = [];
      const failures: Record<string, number> = {};
      /** The first answer of each failing status (printed with the figures). */
      const samples: Record<string, string> = {};
      const ackTimes: number[][] = instances.map(() => []);
      let stopping = false;
      const t0 = Date.now();
      const drive = async (i: number): Promise<void> => {
        const workflowId = instances[i]!;
        let api = i % 2;
        for (let k = 0; !stopping; k++) {
          const n = `c${i}-${k}`; // never sent twice: a failed attempt is not retried with the same nonce
          try {
            const res = await fetch(`${apis[api]!.url}/api/instances/${workflowId}/events`, {
              method: 'POST',
              headers,
              body: JSON.stringify({ type: 'TICK', data: { n } }),
              signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
            });
            const text = await res.text();
            if (res.status === 200) {
              const at = Date.now();
              acks.push({ workflowId, n, seq: (JSON.parse(text) as { seq: number }).seq, at });
              ackTimes[i]!.push(at);
              continue;
            }
            failures[`HTTP ${res.status}`] = (failures[`HTTP ${res.status}`] ?? 0) + 1;
            samples[`HTTP ${res.status}`] ??= text.slice(0, 300);
          } catch (err) {
            const name = (err as Error).name === 'TimeoutError' ? 'timeout' : 'connection';
            failures[name] = (failures[name] ?? 0) + 1;
          }
          api = 1 - api; // the other replica, as a proxy would
          await sleep(100);
        }
      };
      const driving = instances.map((_, i) => drive(i));

      const kills: { what: string; at: number; back: number }[] = [];
      const killAndWait = async (
        what: string,
        pid: () => number | undefined,
        back: () => boolean,
      ): Promise<void> => {
        await sleep(SETTLE_MS);
        const victim = pid();
        expect(victim, `${what} pid`).toBeGreaterThan(0);
        const at = Date.now();
        process.kill(victim!, 'SIGKILL');
        await until(`${what} restarted`, 180_000, () => back() && pid() !== undefined && pid() !== victim);
        kills.push({ what, at, back: Date.now() });
      };
      try {
        const w = workers[0]!;
        await killAndWait(
          'worker-1',
          () => w.pid(),
          () => w.restarts() === 1,
        );
        const a = apis[0]!.process;
        await killAndWait(
          'api-1',
          () => a.pid(),
          () => a.restarts() === 1,
        );
        const before = server.pid();
        await killAndWait(
          'temporal',
          () => server.pid(),
          () => server.pid() !== before,
        );
        // Settle: every client acknowledged something since the server came back.
        const back = kills.at(-1)!.back;
        await until('every client acknowledged after the Temporal restart', 120_000, () =>
          ackTimes.every((t) => (t.at(-1) ?? 0) > back),
        );
        await sleep(SETTLE_MS);
      } finally {
        stopping = true;
        await Promise.all(driving);
      }
      const t1 = Date.now();

      // Longest gap between two acknowledgments of one client, overall and around each kill.
      const gaps = ackTimes.flatMap((times) => times.slice(1).map((t, j) => ({ from: times[j]!, to: t })));
      const longest = (from: number, to: number): number =>
        Math.max(0, ...gaps.filter((g) => g.to >= from && g.from <= to).map((g) => g.to - g.from));
      const stall = Math.max(0, ...gaps.map((g) => g.to - g.from));
      const perKill = kills.map((k) => `${k.what} ${(longest(k.at, k.back) / 1000).toFixed(1)} s`);

      // What each instance holds: its log, its Temporal history, the audit log.
      const store = await openStore({ databaseUrl });
      let lost = 0;
      let duplicated = 0;
      let appliedUnacknowledged = 0;
      const disagreeing: string[] = [];
      let verification: Awaited<ReturnType<typeof store.verifyAudit>> | undefined;
      try {
        for (const workflowId of instances) {
          const snapshot = await getSnapshot(client, workflowId);
          const inLog = snapshot.log
            .filter((l) => l.event === 'TICK')
            .map((l) => ({ n: String(l.data?.n), seq: l.seq }));
          const history = await client.workflow.getHandle(workflowId).fetchHistory();
          const inHistory = (history.events ?? []).flatMap((e) => {
            const payloads =
              e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.args?.payloads;
            if (!payloads?.length) return [];
            const event = defaultPayloadConverter.fromPayload<{ type: string; data?: { n?: string } }>(
              payloads[0]!,
            );
            return event.type === 'TICK' ? [String(event.data?.n)] : [];
          });
          // Audit records are written by an activity after the update returns: wait for them.
          let inAudit: { n: string; seq: number }[] = [];
          await until(`audit records of ${workflowId}`, 60_000, async () => {
            inAudit = (await store.auditOf(workflowId))
              .filter((e) => e.kind === 'transition' && e.body.event === 'TICK')
              .map((e) => ({ n: String((e.body.data as { n?: string } | undefined)?.n), seq: e.seq! }));
            return inAudit.length >= inLog.length;
          });
          const count = (list: string[]): Map<string, number> => {
            const m = new Map<string, number>();
            for (const n of list) m.set(n, (m.get(n) ?? 0) + 1);
            return m;
          };
          const logN = count(inLog.map((l) => l.n));
          const histN = count(inHistory);
          const auditN = count(inAudit.map((l) => l.n));
          for (const m of [logN, histN, auditN]) for (const c of m.values()) if (c > 1) duplicated += c - 1;
          const mine = acks.filter((a) => a.workflowId === workflowId);
          for (const ack of mine) {
            const fine =
              logN.get(ack.n) === 1 &&
              histN.get(ack.n) === 1 &&
              auditN.get(ack.n) === 1 &&
              inLog.find((l) => l.n === ack.n)?.seq === ack.seq &&
              inAudit.find((l) => l.n === ack.n)?.seq === ack.seq;
            if (!fine && !(logN.get(ack.n)! > 1)) lost++;
          }
          const acked = new Set(mine.map((a) => a.n));
          appliedUnacknowledged += [...logN.keys()].filter((n) => !acked.has(n)).length;
          // The log, the history and the audit log name the same events.
          const same = (m: Map<string, number>): boolean =>
            [...m.keys()].sort().join() === [...logN.keys()].sort().join();
          if (!same(histN) || !same(auditN)) disagreeing.push(workflowId);
        }
        verification = await store.verifyAudit();
      } finally {
        await store.close();
      }

      const seconds = (t1 - t0) / 1000;
      const failed = Object.entries(failures)
        .map(([k, v]) => `${k} ×${v}`)
        .join(', ');
      console.log(
        `chaos on the cluster: ${CLIENTS} clients, ${seconds.toFixed(0)} s, ${acks.length} acknowledged ` +
          `(${(acks.length / seconds).toFixed(1)}/s), ${lost} lost, ${duplicated} duplicated; ` +
          `longest client-visible stall ${(stall / 1000).toFixed(1)} s (${perKill.join(', ')}); ` +
          `failed requests: ${failed || 'none'} (${appliedUnacknowledged} of them applied, each once); ` +
          `recovery: ${kills.map((k) => `${k.what} ${((k.back - k.at) / 1000).toFixed(1)} s`).join(', ')}` +
          Object.entries(samples)
            .map(([k, v]) => `\n  first ${k}: ${v}`)
            .join(''),
      );
      expect(lost).toBe(0);
      expect(duplicated).toBe(0);
      expect(disagreeing, 'instances whose log, history and audit log name different events').toEqual([]);
      expect(verification?.problems).toEqual([]);
      expect(verification?.ok).toBe(true);
      expect(acks.length).toBeGreaterThan(CLIENTS * 10);
      // Every client got through after the last restart (the stall ended).
      expect(kills.map((k) => k.what)).toEqual(['worker-1', 'api-1', 'temporal']);
    },
    600_000,
  );
});
