/**
 * `npm run bench` — the generic interpreter (`procedure` running bench-review.yaml) against the
 * same procedure hand-written as a plain Temporal workflow (baseline.workflow.ts), against the
 * architecture's limit, an update that does nothing else (raw.workflow.ts), and against itself
 * before the `local-audit` patch (audit-commit.activity.ts bundled in place of
 * workflows/audit-commit.ts, on a second task queue), on one server and one worker process, in
 * the same run.
 *
 *   npm run bench -- [--instances 100] [--transitions 20] [--rounds 2] [--warmup 5]
 *                    [--paced-rate 20] [--paced-transitions 4] [--store embedded|memory]
 *                    [--kinds raw,baseline,activity,interpreter]
 *                    [--before local-audit|assertion-keys|commit-in-activation|coalesce-search-attributes|lazy-timers|search-attributes-burst-window|group-commit] [--out FILE|-]
 *   TEMPORAL_ADDRESS=host:port npm run bench -- --server-pids PID,PID …   (an existing server:
 *                    its CPU read from those processes and their children, e.g. the cluster's
 *                    Temporal server and PostgreSQL postmaster from `npm run cluster`)
 *
 * - Temporal: its own in-memory dev server on a free port, unless TEMPORAL_ADDRESS is set.
 * - One worker in this process (NativeConnection + Worker.create) on a task queue of its own,
 *   bundling both workflows, with the real `commitTransition` activity over the records store
 *   and, for the baseline, an activity doing the same audit write (the store's `commit`). The
 *   store is what `npm start` runs: the embedded PostgreSQL server, in a temporary folder, in
 *   processes of its own (its CPU counted beside the dev server's); `--store memory`: PGlite in
 *   this process, as before.
 * - The driver retries an update's RPC (same update id: the server answers the one update, never
 *   a second event) when the call timed out or the server refused it for the moment (a workflow
 *   task in failed state); the round trip counts from the first attempt, retries are reported.
 * - Each phase runs N instances × M transitions with all N in flight (each instance's events in
 *   sequence); rounds alternate the order (B I, I B, …) and medians over rounds are reported.
 * - A phase first starts its N instances and waits until each finished its first workflow task
 *   (timed apart: "start"), then sends all events (timed: "wall time", the throughput and the
 *   interpreter ÷ baseline ratio: until the last transition was answered), then waits until every
 *   instance has returned its result (timed too, "until every instance closed": an instance
 *   closes up to a second after its last transition when its search attributes are coalesced,
 *   `SEARCH_ATTRIBUTES_EVERY_MS`). CPU and histories count everything until every instance closed.
 * - Paced phase (in every round, `--paced-rate 0` skips it): N instances in flight again,
 *   but events offered at a fixed total rate below saturation, so the update round trip shows the
 *   engine and the server rather than the queue of 100 clients waiting on a saturated machine.
 * - History events per transition: an instance's whole history (start to completion) divided by
 *   its transitions, for both. Also shown: the marginal cost, (events(M) − events(W)) / (M − W),
 *   W being the warm-up instances' transition count, which removes the fixed start/end events.
 *   The target is judged on the paced phase, where no workflow task batches two transitions
 *   (under saturation that batching is timing, not design), and on the events that are not
 *   workflow-task bookkeeping (the commands: update, search attributes, timer, activity).
 */
// First: the process takes the shipped memory settings before anything else is evaluated.
import { AS_STARTED, memorySettings } from './shipped-memory-settings.ts';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { Compiler } from 'webpack';
import { WorkflowUpdateRPCTimeoutOrCancelledError, isGrpcServiceError } from '@temporalio/client';
import type { Client, WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import { loadConfig, connectClient, connectionOptions, REPO_ROOT } from '../../worker/config.ts';
import { startDevServer, ensureSearchAttributes, type DevServer } from '../../worker/temporal/dev-server.ts';
import { loadDeployedDefinitions } from '../../worker/process.ts';
import { loadActorSigner } from '../../worker/actor-keys.ts';
import { PRELOADED_MODULES, actorKeysPlugin, procedureWorkerParts } from '../../worker/worker.ts';
import {
  openEmbeddedStore,
  openStore,
  setGroupCommit,
  type RecordsStore,
} from '../../worker/records/store.ts';
import { runningServerOf } from '../../worker/records/embedded-server.ts';
import { startProcedure, startSearchAttributes } from '../../worker/instances.ts';
import type { LoadedDefinition } from '../../worker/definitions.ts';
import { eventUpdate, type EventResult, type TransitionCommit } from '../../workflows/api.ts';
import type { Actor, EventInput } from '../../workflows/core/ir.ts';
import { BASELINE_WORKFLOW_TYPE, type BaselineActivities, type BaselineInput } from './baseline.workflow.ts';
import { RAW_WORKFLOW_TYPE } from './raw.workflow.ts';
import {
  formatJson,
  percentile,
  processCpuMs,
  processTreeCpuMs,
  threadCpuDelta,
  threadCpuMs,
} from './stats.ts';
import { tempDir } from '../temp-dir.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DEFINITION_FILE = path.join(HERE, 'bench-review.yaml');
const WORKFLOWS_FILE = path.join(HERE, 'workflows.ts');
const DEFAULT_OUT = path.join(HERE, 'results', 'latest.json');

/**
 * `activity`: the interpreter as it was before the `local-audit` patch (the audit write a regular
 * activity: test/bench/audit-commit.activity.ts bundled in place of workflows/audit-commit.ts),
 * on a task queue of its own in the same worker process — the "before" of the same run.
 */
type Kind = 'raw' | 'baseline' | 'activity' | 'interpreter';
const ALL_KINDS: readonly Kind[] = ['raw', 'baseline', 'activity', 'interpreter'];
/** The kinds this run measures (`--kinds`; default all). */
let KINDS: readonly Kind[] = ALL_KINDS;
const AUDIT_COMMIT_FILE = path.join(HERE, '../../workflows/audit-commit.ts');
const AUDIT_ACTIVITY_FILE = path.join(HERE, 'audit-commit.activity.ts');
const ASSERTION_KEYS_FILE = path.join(HERE, '../../workflows/core/assertion-keys.ts');
const ASSERTION_NOBLE_FILE = path.join(HERE, 'assertion-keys.noble.ts');
const AUDIT_LOCAL_FILE = path.join(HERE, 'audit-commit.local.ts');
const PATCHES_FILE = path.join(HERE, '../../workflows/patches.ts');
const PATCHES_EACH_FILE = path.join(HERE, 'patches.each.ts');
const PATCHES_NO_LAZY_TIMERS_FILE = path.join(HERE, 'patches.no-lazy-timers.ts');
const PATCHES_NO_BURST_WINDOW_FILE = path.join(HERE, 'patches.no-burst-window.ts');

/**
 * Which change the `activity` column shows the interpreter before (`--before`): `local-audit` (the
 * audit write a regular activity), `commit-in-activation` (every audit write a local activity:
 * audit-commit.local.ts) or `assertion-keys` (the actor assertion's signature checked by
 * noble's `ed25519.verify`, the key decoded per call: assertion-keys.noble.ts bundled in place
 * of workflows/core/assertion-keys.ts) or `coalesce-search-attributes` (each patch marked on its
 * own and every change of a search attribute upserted at once: patches.each.ts in place of
 * workflows/patches.ts) or `lazy-timers` (a timer per pending delayed transition, started on entry
 * and cancelled on exit: patches.no-lazy-timers.ts in place of workflows/patches.ts) or
 * `search-attributes-burst-window` (a change within a second of the last upsert upserted at that
 * second's end, the run waiting for the timer: patches.no-burst-window.ts in place of
 * workflows/patches.ts). Each is one
 * file swapped in the same bundle. `group-commit` swaps no file: the records store writes each
 * audit commit in a transaction of its own during that phase (`setGroupCommit`).
 */
const BEFORE = {
  'local-audit': {
    label: 'Interpreter, audit as activity (before `local-audit`)',
    from: AUDIT_COMMIT_FILE,
    to: AUDIT_ACTIVITY_FILE,
  },
  'assertion-keys': {
    label: 'Interpreter, key decoded per check (before `assertion-keys`)',
    from: ASSERTION_KEYS_FILE,
    to: ASSERTION_NOBLE_FILE,
  },
  'commit-in-activation': {
    label: 'Interpreter, audit as local activity (before `commit-in-activation`)',
    from: AUDIT_COMMIT_FILE,
    to: AUDIT_LOCAL_FILE,
  },
  'coalesce-search-attributes': {
    label: 'Interpreter, an upsert per change, a marker per patch (before `coalesce-search-attributes`)',
    from: PATCHES_FILE,
    to: PATCHES_EACH_FILE,
  },
  'lazy-timers': {
    label: 'Interpreter, a timer per delayed transition (before `lazy-timers`)',
    from: PATCHES_FILE,
    to: PATCHES_NO_LAZY_TIMERS_FILE,
  },
  'search-attributes-burst-window': {
    label: 'Interpreter, a burst upserted every second (before `search-attributes-burst-window`)',
    from: PATCHES_FILE,
    to: PATCHES_NO_BURST_WINDOW_FILE,
  },
  'group-commit': {
    label: 'Interpreter, a transaction per audit commit (before group commit)',
    from: undefined,
    to: undefined,
  },
} as const satisfies Record<string, { label: string; from: string | undefined; to: string | undefined }>;
type Before = keyof typeof BEFORE;

const TARGETS = { timeRatio: 1.2, p99Ms: 50, p99Instances: 100, rawLatency: 1.5, rawThroughput: 0.6 };

const STAFF: Actor = { id: 'alice', roles: ['project_staff'] };
const MANAGER: Actor = { id: 'bob', roles: ['quality_manager'] };
const STARTER: Actor = { id: 'starter', roles: ['project_staff'] };
/** A throwaway actor key: the bench's bundle trusts it, its events are signed with it. */
const SIGNER = loadActorSigner(
  path.join(mkdtempSync(path.join(tmpdir(), 'custodia-bench-key-')), 'actor-key.pem'),
);

// ---------------------------------------------------------------------------------------------

function options() {
  const { values } = parseArgs({
    options: {
      instances: { type: 'string', default: '100' },
      transitions: { type: 'string', default: '20' },
      rounds: { type: 'string', default: '2' },
      warmup: { type: 'string', default: '5' },
      'paced-rate': { type: 'string', default: '20' },
      'paced-transitions': { type: 'string', default: '4' },
      store: { type: 'string', default: 'embedded' },
      kinds: { type: 'string', default: ALL_KINDS.join(',') },
      before: { type: 'string', default: 'commit-in-activation' },
      'server-pids': { type: 'string', default: '' },
      // Handled by ./shipped-memory-settings.ts before the arguments are read.
      [AS_STARTED.slice(2)]: { type: 'boolean', default: false },
      out: { type: 'string', default: DEFAULT_OUT },
    },
    allowPositionals: false,
  });
  const int = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${v}`);
    return n;
  };
  const even = (name: string, n: number): number => {
    if (n % 2)
      throw new Error(`--${name} must be even (SUBMIT/RETURN pairs, then SUBMIT, APPROVE); got ${n}`);
    return n;
  };
  const transitions = even('transitions', int('transitions', values.transitions, 2));
  const store = values.store;
  if (store !== 'embedded' && store !== 'memory')
    throw new Error(`--store must be embedded or memory, got ${store}`);
  const before = values.before ?? '';
  if (!(before in BEFORE))
    throw new Error(`--before must be ${Object.keys(BEFORE).join(' or ')}, got ${before}`);
  const kinds = (values.kinds ?? '').split(',').filter(Boolean);
  const unknown = kinds.filter((k) => !(ALL_KINDS as readonly string[]).includes(k));
  if (!kinds.length || unknown.length)
    throw new Error(`--kinds takes a comma-separated subset of ${ALL_KINDS.join(',')}, got ${values.kinds}`);
  const pacedTransitions = (n: number): number => even('paced-transitions', n);
  return {
    instances: int('instances', values.instances, 1),
    transitions,
    rounds: int('rounds', values.rounds, 1),
    warmup: int('warmup', values.warmup, 0),
    pacedRate: int('paced-rate', values['paced-rate'], 0),
    pacedTransitions: pacedTransitions(int('paced-transitions', values['paced-transitions'], 2)),
    store: store as 'embedded' | 'memory',
    kinds: ALL_KINDS.filter((k) => kinds.includes(k)),
    before: before as Before,
    serverPids: (values['server-pids'] ?? '')
      .split(',')
      .filter(Boolean)
      .map((p) => int('server-pids', p, 1)),
    out: values.out === '-' ? null : path.resolve(values.out ?? DEFAULT_OUT),
  };
}

/** The k-th event (1-based) of an instance that makes `m` transitions: S R S R … S A. */
function eventAt(k: number, m: number): { event: EventInput; expect: string } {
  if (k === m) return { event: { type: 'APPROVE', actor: MANAGER }, expect: 'approved' };
  if (k % 2 === 1)
    return {
      event: { type: 'SUBMIT', data: { summary: `summary, version ${k}` }, actor: STAFF },
      expect: 'reviewing',
    };
  return {
    event: { type: 'RETURN', data: { comment: `please revise (${k})` }, actor: MANAGER },
    expect: 'drafting',
  };
}

// ---------------------------------------------------------------------------------------------

interface Env {
  client: Client;
  taskQueue: string;
  /** The task queue of the interpreter before `local-audit` (kind `activity`). */
  activityQueue: string;
  def: LoadedDefinition;
  server: DevServer | null;
  /** The embedded store's postmaster (its CPU and its children's are counted); null: in process. */
  storePid: number | null;
  /** With TEMPORAL_ADDRESS: the server's processes whose CPU (and their children's) is counted (`--server-pids`). */
  serverPids: number[];
  /** Before each phase (`--before group-commit`: the records store's grouping for that kind). */
  beforePhase(kind: Kind): void;
}

/** CPU (ms) of the Temporal server: the own dev server, or the processes named by `--server-pids`; null: unknown. */
function serverCpuMs(env: Env): number | null {
  if (env.server) return processCpuMs(env.server.process.pid);
  if (!env.serverPids.length) return null;
  let ms = 0;
  for (const pid of env.serverPids) {
    const p = processTreeCpuMs(pid);
    if (p === null) return null;
    ms += p;
  }
  return ms;
}

/** A server (Temporal's and the store's) that used less CPU than this in a 500 ms window is quiet. */
const QUIET_CPU_MS_PER_500MS = 25;
/** The longest a phase waits for a quiet server. */
const QUIET_WAIT_MAX_MS = 20_000;

/**
 * Wait until the servers are quiet — less than {@link QUIET_CPU_MS_PER_500MS} of CPU in 500 ms (5 %
 * of a core) — so that a phase does not pay for the work the previous one left queued on them
 * (visibility writes, timers, the store's writes); at most {@link QUIET_WAIT_MAX_MS}. Returns the
 * time waited (ms) and whether the servers were quiet by then (no server CPU to read: at once).
 */
async function untilServersQuiet(env: Env): Promise<{ waitedMs: number; quiet: boolean }> {
  const cpu = (): number | null => {
    const server = serverCpuMs(env);
    if (server === null) return null;
    return server + (processTreeCpuMs(env.storePid ?? undefined) ?? 0);
  };
  const t0 = performance.now();
  for (;;) {
    const a = cpu();
    if (a === null) return { waitedMs: 0, quiet: true };
    await delay(500);
    const b = cpu();
    if (b === null) return { waitedMs: 0, quiet: true };
    const waitedMs = Math.round(performance.now() - t0);
    if (b - a < QUIET_CPU_MS_PER_500MS) return { waitedMs, quiet: true };
    if (waitedMs >= QUIET_WAIT_MAX_MS) return { waitedMs, quiet: false };
  }
}

interface PhaseResult {
  kind: Kind;
  /** How long the phase waited for quiet servers before it started (`untilServersQuiet`). */
  quietWaitMs?: number;
  instances: number;
  transitions: number;
  /** Starting all instances until each finished its first workflow task (not in wallMs). */
  startWallMs: number;
  /** Driving all transitions of all instances, until the last one was answered. */
  wallMs: number;
  /** From the first transition until every instance closed (returned its result). */
  closeWallMs: number;
  transitionsPerSec: number;
  latency: { p50: number; p90: number; p99: number; mean: number; max: number; count: number };
  /**
   * The round trip of each instance's k-th transition (index k − 1), p50 and p99 over the phase's
   * instances: where in an instance's life the tail is (every instance starts together).
   */
  latencyByTransition: { p50: number[]; p99: number[] };
  historyEventsPerInstance: number;
  historyEventsPerTransition: number;
  historyBytesPerTransition: number;
  workerCpuMsPerTransition: number;
  serverCpuMsPerTransition: number | null;
  /** The embedded PostgreSQL server's processes; null with `--store memory` (in the worker's). */
  storeCpuMsPerTransition: number | null;
  /** Update RPCs sent again (same update id) after a timeout or a refusal for the moment. */
  updateRetries: number;
  /** The worker process's CPU per transition by thread name (`threadCpuDelta`, stats.ts). */
  workerCpuMsPerTransitionByThread: Record<string, number>;
  rssMaxMb: number;
  /** 1-minute load average of the machine at the start and the end of the timed part. */
  loadAverage: [number, number];
  /** History events by type, per transition (all instances of the phase). */
  eventTypesPerTransition: Record<string, number>;
  /** History bytes by event type, per transition. */
  eventBytesPerTransition: Record<string, number>;
  /** Workflow tasks that timed out or failed (a sign of an overloaded worker), all instances. */
  workflowTaskTimeouts: number;
  workflowTaskFailures: number;
  /** Each workflow task failure's cause and message (first 160 characters), with its count. */
  workflowTaskFailureCauses: Record<string, number>;
}

let rssMax = 0;
let phaseRssMax = 0;
function sampleRss(): void {
  const rss = process.memoryUsage().rss;
  if (rss > rssMax) rssMax = rss;
  if (rss > phaseRssMax) phaseRssMax = rss;
}

async function startInstance(env: Env, kind: Kind, workflowId: string): Promise<WorkflowHandle> {
  const context = { client: 'ACME Testing Ltd' };
  if (kind === 'raw') {
    await env.client.workflow.start(RAW_WORKFLOW_TYPE, { taskQueue: env.taskQueue, workflowId, args: [] });
  } else if (kind === 'interpreter' || kind === 'activity') {
    await startProcedure(env.client, env.def, {
      context,
      starter: STARTER,
      taskQueue: kind === 'activity' ? env.activityQueue : env.taskQueue,
      workflowId,
    });
  } else {
    const input: BaselineInput = {
      procedure: env.def.ir.id,
      version: env.def.ir.version,
      hash: env.def.hash,
      context,
      starter: STARTER,
    };
    await env.client.workflow.start(BASELINE_WORKFLOW_TYPE, {
      taskQueue: env.taskQueue,
      workflowId,
      args: [input],
      typedSearchAttributes: startSearchAttributes(env.def.ir, context),
    });
  }
  return env.client.workflow.getHandle(workflowId);
}

/** Attempts of one update's RPC before the benchmark gives up. */
const UPDATE_ATTEMPTS = 30;

/**
 * Send one event and wait for its result. The RPC — not the event — is retried with the same
 * update id when it timed out or was cancelled (under load the server's long poll can outlast the
 * call) or the server refused it for the moment (FAILED_PRECONDITION: a workflow task in failed
 * state, retried by the server; UNAVAILABLE, RESOURCE_EXHAUSTED): the server deduplicates by
 * update id, so the workflow sees the event once and every attempt gets that one outcome.
 */
async function sendEvent(
  handle: WorkflowHandle,
  event: EventInput & { assertion: string },
  onRetry: () => void,
): Promise<EventResult> {
  const updateId = randomUUID();
  for (let attempt = 1; ; attempt++) {
    try {
      return await handle.executeUpdate(eventUpdate, { args: [event], updateId });
    } catch (err) {
      const cause = err instanceof Error ? err.cause : undefined;
      const code = isGrpcServiceError(err) ? err.code : isGrpcServiceError(cause) ? cause.code : undefined;
      const transient =
        err instanceof WorkflowUpdateRPCTimeoutOrCancelledError ||
        code === 9 /* FAILED_PRECONDITION */ ||
        code === 14 /* UNAVAILABLE */ ||
        code === 8; /* RESOURCE_EXHAUSTED */
      if (!transient || attempt >= UPDATE_ATTEMPTS) throw err;
      onRetry();
      await delay(Math.min(2000, 100 * attempt));
    }
  }
}

/**
 * One phase: start `n` instances, then drive each through `m` transitions, all in flight.
 * `rate` (events/s over all instances) paces the events instead of sending each as soon as the
 * previous one returned: event k of instance i is due at ((k − 1)·n + i) / rate.
 */
async function runPhase(
  env: Env,
  kind: Kind,
  n: number,
  m: number,
  tag: string,
  rate: number | null = null,
): Promise<PhaseResult> {
  env.beforePhase(kind);
  const ids = Array.from({ length: n }, (_, i) => `bench-${tag}-${kind}-${i}`);
  const latencies: number[] = [];
  const byTransition: number[][] = Array.from({ length: m }, () => []);
  phaseRssMax = 0;
  const sampler = setInterval(sampleRss, 100);
  // Start every instance and wait until each has finished its first workflow task (the server
  // refuses updates before that and the client retries with back-off, which would time the
  // start-up, not the update).
  const s0 = performance.now();
  const handles = await Promise.all(
    ids.map(async (id) => {
      const handle = await startInstance(env, kind, id);
      while ((await handle.describe()).historyLength < (kind === 'raw' ? 3 : 4)) await delay(25);
      return handle;
    }),
  );
  const startWallMs = performance.now() - s0;
  let retries = 0;
  const threads0 = threadCpuMs();
  const cpu0 = process.cpuUsage();
  const server0 = serverCpuMs(env);
  const store0 = processTreeCpuMs(env.storePid ?? undefined);
  const load0 = loadavg()[0]!;
  const t0 = performance.now();
  let lastAnswered = t0;
  await Promise.all(
    handles.map(async (handle, i) => {
      const id = handle.workflowId;
      for (let k = 1; k <= m; k++) {
        if (rate) {
          const wait = t0 + (((k - 1) * n + i) / rate) * 1000 - performance.now();
          if (wait > 0) await delay(wait);
        }
        const { event, expect } = eventAt(k, m);
        const s = performance.now();
        // Signed per event, as the API does (the engine verifies it in the update validator).
        const assertion = SIGNER.sign(event.actor, { workflowId: id });
        const result = await sendEvent(handle, { ...event, assertion }, () => retries++);
        const answered = performance.now();
        latencies.push(answered - s);
        byTransition[k - 1]!.push(answered - s);
        lastAnswered = Math.max(lastAnswered, answered);
        if (result.state !== expect)
          throw new Error(
            `${id}: after ${event.type} expected ${expect}, got ${JSON.stringify(result.state)}`,
          );
      }
      const final = (await handle.result()) as { state: unknown };
      if (final.state !== 'approved') throw new Error(`${id}: finished in ${JSON.stringify(final.state)}`);
    }),
  );
  const closeWallMs = performance.now() - t0;
  const wallMs = lastAnswered - t0;
  const cpu = process.cpuUsage(cpu0);
  const threads1 = threadCpuMs();
  const server1 = serverCpuMs(env);
  const store1 = processTreeCpuMs(env.storePid ?? undefined);
  const load1 = loadavg()[0]!;
  clearInterval(sampler);
  sampleRss();

  // Histories (outside the timed window).
  let events = 0;
  let bytes = 0;
  const eventTypes: Record<string, number> = {};
  const eventBytes: Record<string, number> = {};
  const failureCauses: Record<string, number> = {};
  for (let i = 0; i < ids.length; i += 20) {
    const chunk = await Promise.all(
      ids.slice(i, i + 20).map((id) => env.client.workflow.getHandle(id).fetchHistory()),
    );
    for (const h of chunk) {
      events += h.events?.length ?? 0;
      for (const e of h.events ?? []) {
        const name = proto.temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? String(e.eventType);
        const short = name.replace(/^EVENT_TYPE_/, '');
        eventTypes[short] = (eventTypes[short] ?? 0) + 1;
        const failed = e.workflowTaskFailedEventAttributes;
        if (failed) {
          const cause =
            proto.temporal.api.enums.v1.WorkflowTaskFailedCause[failed.cause ?? 0] ?? String(failed.cause);
          const why = `${cause.replace(/^WORKFLOW_TASK_FAILED_CAUSE_/, '')}: ${(failed.failure?.message ?? '').slice(0, 160)}`;
          failureCauses[why] = (failureCauses[why] ?? 0) + 1;
        }
        eventBytes[short] =
          (eventBytes[short] ?? 0) + proto.temporal.api.history.v1.HistoryEvent.encode(e).finish().length;
      }
      bytes += proto.temporal.api.history.v1.History.encode(h).finish().length;
    }
  }
  const total = n * m;
  latencies.sort((a, b) => a - b);
  return {
    kind,
    instances: n,
    transitions: m,
    startWallMs,
    wallMs,
    closeWallMs,
    transitionsPerSec: total / (wallMs / 1000),
    latency: {
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
      mean: latencies.reduce((a, b) => a + b, 0) / latencies.length,
      max: latencies[latencies.length - 1] ?? NaN,
      count: latencies.length,
    },
    latencyByTransition: (() => {
      const sorted = byTransition.map((xs) => [...xs].sort((a, b) => a - b));
      return { p50: sorted.map((xs) => percentile(xs, 50)), p99: sorted.map((xs) => percentile(xs, 99)) };
    })(),
    historyEventsPerInstance: events / n,
    historyEventsPerTransition: events / total,
    historyBytesPerTransition: bytes / total,
    workerCpuMsPerTransition: (cpu.user + cpu.system) / 1000 / total,
    serverCpuMsPerTransition: server0 !== null && server1 !== null ? (server1 - server0) / total : null,
    storeCpuMsPerTransition: store0 !== null && store1 !== null ? (store1 - store0) / total : null,
    updateRetries: retries,
    workerCpuMsPerTransitionByThread: Object.fromEntries(
      Object.entries(threadCpuDelta(threads0, threads1, (cpu.user + cpu.system) / 1000))
        .filter(([, ms]) => ms > 0)
        .sort((x, y) => y[1] - x[1])
        .map(([name, ms]) => [name, Math.round((ms / total) * 100) / 100]),
    ),
    rssMaxMb: phaseRssMax / 2 ** 20,
    loadAverage: [Math.round(load0 * 100) / 100, Math.round(load1 * 100) / 100],
    eventTypesPerTransition: Object.fromEntries(
      Object.entries(eventTypes)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => [k, Math.round((v / total) * 1000) / 1000]),
    ),
    eventBytesPerTransition: Object.fromEntries(
      Object.entries(eventBytes)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => [k, Math.round(v / total)]),
    ),
    workflowTaskTimeouts: eventTypes.WORKFLOW_TASK_TIMED_OUT ?? 0,
    workflowTaskFailures: eventTypes.WORKFLOW_TASK_FAILED ?? 0,
    workflowTaskFailureCauses: failureCauses,
  };
}

// ---------------------------------------------------------------------------------------------

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Each transition index's `which` round trip, the median over `rounds`. */
function byIndex(rounds: PhaseResult[], which: 'p50' | 'p99'): number[] {
  const m = Math.min(...rounds.map((r) => r.latencyByTransition[which].length));
  if (!rounds.length || !Number.isFinite(m)) return [];
  return Array.from({ length: m }, (_, i) => median(rounds.map((r) => r.latencyByTransition[which][i]!)));
}

function summarize(rounds: PhaseResult[]) {
  const med = (f: (r: PhaseResult) => number | null): number | null => {
    // A kind this run did not measure (`--kinds`): NaN, printed as such.
    if (!rounds.length) return NaN;
    const xs = rounds.map(f).filter((x): x is number => x !== null);
    return xs.length ? median(xs) : null;
  };
  return {
    startWallMs: med((r) => r.startWallMs)!,
    wallMs: med((r) => r.wallMs)!,
    closeWallMs: med((r) => r.closeWallMs)!,
    transitionsPerSec: med((r) => r.transitionsPerSec)!,
    p50Ms: med((r) => r.latency.p50)!,
    p90Ms: med((r) => r.latency.p90)!,
    p99Ms: med((r) => r.latency.p99)!,
    meanMs: med((r) => r.latency.mean)!,
    /** Per transition index (`latencyByTransition`), the median over rounds. */
    byTransitionP50Ms: byIndex(rounds, 'p50'),
    byTransitionP99Ms: byIndex(rounds, 'p99'),
    historyEventsPerInstance: med((r) => r.historyEventsPerInstance)!,
    historyEventsPerTransition: med((r) => r.historyEventsPerTransition)!,
    historyBytesPerTransition: med((r) => r.historyBytesPerTransition)!,
    workerCpuMsPerTransition: med((r) => r.workerCpuMsPerTransition)!,
    serverCpuMsPerTransition: med((r) => r.serverCpuMsPerTransition),
    storeCpuMsPerTransition: med((r) => r.storeCpuMsPerTransition),
    /** Worker + dev server + store server: what the 2 cores are shared by, per transition. */
    totalCpuMsPerTransition: med(
      (r) =>
        r.workerCpuMsPerTransition + (r.serverCpuMsPerTransition ?? 0) + (r.storeCpuMsPerTransition ?? 0),
    ),
    updateRetries: rounds.reduce((n, r) => n + r.updateRetries, 0),
    workflowThreadCpuMsPerTransition: med((r) => r.workerCpuMsPerTransitionByThread.WorkerThread ?? 0),
    mainThreadCpuMsPerTransition: med((r) => r.workerCpuMsPerTransitionByThread.MainThread ?? 0),
    rssMaxMb: rounds.length ? Math.max(...rounds.map((r) => r.rssMaxMb)) : NaN,
  };
}

const f1 = (x: number | null): string => (x === null || Number.isNaN(x) ? 'n/a' : x.toFixed(1));
const f2 = (x: number | null): string => (x === null || Number.isNaN(x) ? 'n/a' : x.toFixed(2));

async function main(): Promise<void> {
  const opts = options();
  KINDS = opts.kinds;
  const log = (line: string): void => console.log(line);
  // SDK messages at WARN and above only (e.g. slow workflow tasks), not the worker's state changes.
  Runtime.install({
    logger: new DefaultLogger(
      (process.env.CUSTODIA_LOG_LEVEL?.toUpperCase() as 'WARN' | undefined) ?? 'WARN',
    ),
  });
  const config = loadConfig();
  const date = new Date().toISOString();

  let server: DevServer | null = null;
  let address: string;
  if (config.address) {
    address = config.address;
    await ensureSearchAttributes(connectionOptions(config), config.namespace);
    log(`Temporal: ${address} (TEMPORAL_ADDRESS)`);
  } else {
    server = await startDevServer(config, { dbFile: null, port: 0, uiPort: null });
    address = server.address;
    log(`Temporal: own in-memory dev server on ${address}`);
  }

  const definitions = loadDeployedDefinitions([DEFINITION_FILE]);
  const def = definitions.get('bench_review');
  if (!def) throw new Error('bench-review.yaml did not load as bench_review');
  // The records store `npm start` runs (the embedded PostgreSQL server, a fresh folder), or PGlite
  // in this process (`--store memory`).
  const storeDir = opts.store === 'embedded' ? tempDir('custodia-bench-store-') : null;
  const store: RecordsStore = storeDir
    ? await openStore({ dataDir: storeDir, embeddedRole: 'service' })
    : await openEmbeddedStore(null);
  const storePid = storeDir ? (runningServerOf(storeDir)?.pid ?? null) : null;
  if (storeDir) log(`Records store: embedded PostgreSQL server (pid ${storePid ?? 'unknown'}), fresh folder`);
  else log('Records store: PGlite in memory, in this process');
  const client = await connectClient(config, address);
  const connection = await NativeConnection.connect(connectionOptions(config, address));
  const taskQueue = `custodia-bench-${randomUUID().slice(0, 8)}`;
  const noop = (): void => {};
  const bundleOf = (asBefore: boolean) =>
    bundleWorkflowCode({
      workflowsPath: WORKFLOWS_FILE,
      logger: { trace: noop, debug: noop, info: noop, log: noop, warn: noop, error: (m) => console.error(m) },
      preloadModules: PRELOADED_MODULES,
      webpackConfigHook: (c) => ({
        ...c,
        plugins: [
          ...(c.plugins ?? []),
          actorKeysPlugin([SIGNER.publicKey]),
          ...(asBefore && from ? [beforePlugin] : []),
        ],
      }),
    });
  /** Bundles the `--before` file wherever the file it replaces is imported (or preloaded). */
  const { from, to } = BEFORE[opts.before];
  const beforePlugin = {
    apply(compiler: Compiler) {
      new compiler.webpack.NormalModuleReplacementPlugin(/\.ts$/, (resource) => {
        if (path.resolve(resource.context ?? '', resource.request ?? '') === from) resource.request = to!;
      }).apply(compiler);
    },
  };
  const bundle = await bundleOf(false);
  const activityBundle = await bundleOf(true);
  const baselineActivities: BaselineActivities = {
    recordTransition: (commit: TransitionCommit) => store.commit(commit, []),
  };
  const parts = procedureWorkerParts({ store, client, taskQueue, definition: (id) => definitions.get(id) });
  const worker = await Worker.create({
    connection,
    namespace: config.namespace,
    taskQueue,
    workflowBundle: bundle,
    activities: { ...parts.activities, ...baselineActivities },
    sinks: parts.sinks,
  });
  const activityQueue = `${taskQueue}-activity`;
  const activityWorker = await Worker.create({
    connection,
    namespace: config.namespace,
    taskQueue: activityQueue,
    workflowBundle: activityBundle,
    ...procedureWorkerParts({
      store,
      client,
      taskQueue: activityQueue,
      definition: (id) => definitions.get(id),
    }),
  });
  const running = Promise.all([worker.run(), activityWorker.run()]);
  const env: Env = {
    client,
    taskQueue,
    activityQueue,
    def,
    server,
    storePid,
    serverPids: opts.serverPids,
    // `--before group-commit`: the "before" phase commits each audit record in its own transaction.
    beforePhase: (kind) => setGroupCommit(store, !(kind === 'activity' && opts.before === 'group-commit')),
  };
  const rssSampler = setInterval(sampleRss, 250);
  const rssIdleMb = process.memoryUsage().rss / 2 ** 20;

  try {
    log(
      `Benchmark: ${opts.instances} instances × ${opts.transitions} transitions, ${opts.rounds} round(s), ` +
        `warm-up ${opts.warmup} instance(s) × 4 transitions each` +
        (opts.pacedRate
          ? `; paced: ${opts.instances} × ${opts.pacedTransitions} at ${opts.pacedRate} events/s`
          : ''),
    );
    log(`Worker process RSS before any instance: ${rssIdleMb.toFixed(0)} MB`);
    const labelOf = (kind: Kind): string => (kind === 'activity' ? `before-${opts.before}` : kind);
    const describe = (label: string, res: PhaseResult): void =>
      log(
        `  ${label.padEnd(24)} ${res.wallMs.toFixed(0).padStart(6)} ms ${res.transitionsPerSec.toFixed(1).padStart(6)} tr/s` +
          `  start ${res.startWallMs.toFixed(0)} ms  p50 ${res.latency.p50.toFixed(1)}  p99 ${res.latency.p99.toFixed(1)} ms` +
          `  ${res.historyEventsPerTransition.toFixed(2)} ev/tr  cpu ${res.workerCpuMsPerTransition.toFixed(2)} worker` +
          ` ${f2(res.serverCpuMsPerTransition)} server ${f2(res.storeCpuMsPerTransition)} store ms/tr` +
          (res.updateRetries ? `  ${res.updateRetries} RPC retries` : '') +
          `  threads ${Object.entries(res.workerCpuMsPerTransitionByThread)
            .slice(0, 5)
            .map(([name, ms]) => `${name} ${ms.toFixed(2)}`)
            .join(', ')}` +
          `  load ${res.loadAverage.join('→')}` +
          (res.quietWaitMs !== undefined ? `  waited ${res.quietWaitMs} ms for quiet servers` : '') +
          (res.workflowTaskTimeouts || res.workflowTaskFailures
            ? `  WFT timeouts ${res.workflowTaskTimeouts}, failures ${res.workflowTaskFailures} ${JSON.stringify(res.workflowTaskFailureCauses)}`
            : ''),
      );

    // Warm-up: JIT, worker caches, server; its histories give the fixed per-instance overhead.
    const warm: Partial<Record<Kind, PhaseResult>> = {};
    if (opts.warmup > 0)
      for (const kind of KINDS) {
        warm[kind] = await runPhase(env, kind, opts.warmup, 4, `warmup-${randomUUID().slice(0, 4)}`);
        describe(`warm-up ${labelOf(kind)}`, warm[kind]);
      }

    const results: Record<Kind, PhaseResult[]> = { raw: [], baseline: [], activity: [], interpreter: [] };
    const pacedResults: Record<Kind, PhaseResult[]> = {
      raw: [],
      baseline: [],
      activity: [],
      interpreter: [],
    };
    const runId = randomUUID().slice(0, 6);
    for (let r = 0; r < opts.rounds; r++) {
      const order: Kind[] = r % 2 === 0 ? [...KINDS] : [...KINDS].reverse();
      for (const kind of order) {
        await delay(1000);
        const settled = await untilServersQuiet(env);
        if (!settled.quiet)
          log(`  (servers still busy after ${settled.waitedMs} ms; round ${r + 1} ${kind} starts anyway)`);
        const res = await runPhase(env, kind, opts.instances, opts.transitions, `${runId}-r${r}`);
        res.quietWaitMs = settled.waitedMs;
        results[kind].push(res);
        describe(`round ${r + 1} ${labelOf(kind)}`, res);
      }
      // Paced: N instances in flight again, events offered at a fixed rate below saturation.
      if (opts.pacedRate)
        for (const kind of order) {
          await delay(1000);
          await untilServersQuiet(env);
          const res = await runPhase(
            env,
            kind,
            opts.instances,
            opts.pacedTransitions,
            `${runId}-p${r}`,
            opts.pacedRate,
          );
          pacedResults[kind].push(res);
          describe(`round ${r + 1} paced ${labelOf(kind)}`, res);
        }
    }

    // Sanity: both wrote the same audit trail (start + M records per instance).
    for (const kind of (['baseline', 'activity', 'interpreter'] as const).filter((k) => KINDS.includes(k))) {
      const rows = await store.auditOf(`bench-${runId}-r0-${kind}-0`);
      if (rows.length !== opts.transitions + 1)
        throw new Error(`${kind}: expected ${opts.transitions + 1} audit records, found ${rows.length}`);
    }

    const raw = summarize(results.raw);
    const b = summarize(results.baseline);
    const i = summarize(results.interpreter);
    const a = summarize(results.activity);
    const marginal = (kind: Kind, s: ReturnType<typeof summarize>): number | null => {
      const w = warm[kind];
      if (!w || opts.transitions <= w.transitions) return null;
      return (s.historyEventsPerInstance - w.historyEventsPerInstance) / (opts.transitions - w.transitions);
    };
    /** History events that are not workflow-task bookkeeping (the commands), per transition. */
    const commandEvents = (rounds: PhaseResult[]): number =>
      median(
        rounds.map((r) =>
          Object.entries(r.eventTypesPerTransition)
            .filter(([k]) => !k.startsWith('WORKFLOW_TASK_'))
            .reduce((a, [, v]) => a + v, 0),
        ),
      );
    const timeRatio = i.wallMs / b.wallMs;
    const pr = opts.pacedRate ? summarize(pacedResults.raw) : undefined;
    const pb = opts.pacedRate ? summarize(pacedResults.baseline) : undefined;
    const pi = opts.pacedRate ? summarize(pacedResults.interpreter) : undefined;
    const pa = opts.pacedRate ? summarize(pacedResults.activity) : undefined;
    // History events per transition, judged where workflow tasks cannot coalesce (paced: each
    // instance is idle when its next event comes) — under saturation the number of workflow tasks
    // depends on how updates and activity completions happen to batch, not on the workflow.
    const history =
      pi && pb
        ? {
            basis: `paced phase (no batching), total ÷ ${opts.pacedTransitions} transitions`,
            interpreter: pi.historyEventsPerTransition,
            baseline: pb.historyEventsPerTransition,
          }
        : {
            basis: 'saturated phase, total ÷ M',
            interpreter: i.historyEventsPerTransition,
            baseline: b.historyEventsPerTransition,
          };
    const targets: { name: string; value: string; pass: boolean; note?: string }[] = [
      {
        name: `interpreter update p50 and p99 ≤ ${TARGETS.rawLatency}× the raw update's (the architecture's limit)`,
        value: `p50 ${(i.p50Ms / raw.p50Ms).toFixed(2)}×, p99 ${(i.p99Ms / raw.p99Ms).toFixed(2)}× (${i.p50Ms.toFixed(1)}/${i.p99Ms.toFixed(1)} ms vs ${raw.p50Ms.toFixed(1)}/${raw.p99Ms.toFixed(1)} ms)`,
        pass: i.p50Ms <= TARGETS.rawLatency * raw.p50Ms && i.p99Ms <= TARGETS.rawLatency * raw.p99Ms,
      },
      {
        name: `interpreter throughput ≥ ${TARGETS.rawThroughput}× the raw update's`,
        value: `${(i.transitionsPerSec / raw.transitionsPerSec).toFixed(2)}× (${i.transitionsPerSec.toFixed(1)} vs ${raw.transitionsPerSec.toFixed(1)} transitions/s)`,
        pass: i.transitionsPerSec >= TARGETS.rawThroughput * raw.transitionsPerSec,
      },
      {
        name: `interpreter time ≤ ${TARGETS.timeRatio}× baseline`,
        value: `${timeRatio.toFixed(2)}×`,
        pass: timeRatio <= TARGETS.timeRatio,
      },
      {
        name: 'history events per transition ≤ baseline',
        value:
          `${history.interpreter.toFixed(2)} vs ${history.baseline.toFixed(2)} (${history.basis}); ` +
          `saturated, total ÷ M: ${i.historyEventsPerTransition.toFixed(4)} vs ${b.historyEventsPerTransition.toFixed(4)}; ` +
          `events other than workflow tasks: ${commandEvents(results.interpreter).toFixed(2)} vs ${commandEvents(results.baseline).toFixed(2)}`,
        pass:
          history.interpreter <= history.baseline &&
          commandEvents(results.interpreter) <= commandEvents(results.baseline),
      },
      {
        name: `interpreter update p99 ≤ ${TARGETS.p99Ms} ms with ${TARGETS.p99Instances} instances in flight`,
        value: `${i.p99Ms.toFixed(1)} ms with ${opts.instances}, each sending its next event as soon as the last returned`,
        pass: i.p99Ms <= TARGETS.p99Ms && opts.instances >= TARGETS.p99Instances,
        ...(opts.instances < TARGETS.p99Instances
          ? { note: `not judged: fewer than ${TARGETS.p99Instances} instances` }
          : {}),
      },
    ];
    if (pi)
      targets.push({
        name: `(supplementary) interpreter update p99 ≤ ${TARGETS.p99Ms} ms, ${opts.instances} instances in flight, paced at ${opts.pacedRate} events/s`,
        value: `${pi.p99Ms.toFixed(1)} ms (baseline ${pb?.p99Ms.toFixed(1) ?? 'n/a'} ms)`,
        pass: pi.p99Ms <= TARGETS.p99Ms && opts.instances >= TARGETS.p99Instances,
      });

    const cpu = cpus();
    const machine = {
      cpus: cpu.length,
      cpuModel: cpu[0]?.model ?? 'unknown',
      memoryGb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      memory: memorySettings(),
      temporal: server
        ? 'own dev server (temporal server start-dev, in memory)'
        : `TEMPORAL_ADDRESS${opts.serverPids.length ? ` (server processes ${opts.serverPids.join(', ')})` : ''}`,
    };

    const ratio = (x: number | null | undefined, y: number | null | undefined): string =>
      x && y ? `${(x / y).toFixed(2)}×` : '';
    /**
     * One table row: the raw limit, the baseline, the interpreter before `local-audit`, the
     * interpreter, and the ratios (before ÷ raw, interpreter ÷ baseline, interpreter ÷ raw).
     */
    type Row = [string, string, string, string, string, string, string, string];
    type Set = ReturnType<typeof summarize> | undefined;
    const line = (label: string, fmt: (x: number | null) => string, v: (number | null)[]): Row => {
      const [x, y, w, z] = v as [number | null, number | null, number | null, number | null];
      return [label, fmt(x), fmt(y), fmt(w), fmt(z), ratio(w, x), ratio(z, y), ratio(z, x)];
    };
    const row = (
      label: string,
      fmt: (x: number | null) => string,
      pick: (s: ReturnType<typeof summarize>) => number | null,
      sets: [Set, Set, Set, Set],
    ): Row =>
      line(
        label,
        fmt,
        sets.map((set) => (set ? pick(set) : null)),
      );
    const all: [Set, Set, Set, Set] = [raw, b, a, i];
    const paced: [Set, Set, Set, Set] = [pr, pb, pa, pi];
    const rows: Row[] = [
      row('Throughput (transitions/s)', f1, (s) => s.transitionsPerSec, all),
      row('Wall time, all transitions answered (s)', f2, (s) => s.wallMs / 1000, all),
      row('… until every instance closed (s)', f2, (s) => s.closeWallMs / 1000, all),
      row('Update round trip p50 (ms)', f1, (s) => s.p50Ms, all),
      row('Update round trip p99 (ms)', f1, (s) => s.p99Ms, all),
      row(`Paced at ${opts.pacedRate} events/s: update p50 (ms)`, f1, (s) => s.p50Ms, paced),
      row(`Paced at ${opts.pacedRate} events/s: update p99 (ms)`, f1, (s) => s.p99Ms, paced),
      row(
        `Start ${opts.instances} instances, until each ran its first task (s)`,
        f2,
        (s) => s.startWallMs / 1000,
        all,
      ),
      row(
        `History events / transition, paced (total ÷ ${opts.pacedTransitions}, no batching)`,
        f2,
        (s) => s.historyEventsPerTransition,
        paced,
      ),
      row('History events / transition, saturated (total ÷ M)', f2, (s) => s.historyEventsPerTransition, all),
      line('History events / transition, saturated (marginal)', f2, [
        marginal('raw', raw),
        marginal('baseline', b),
        marginal('activity', a),
        marginal('interpreter', i),
      ]),
      line(
        '… of which not workflow-task events',
        f2,
        ALL_KINDS.map((k) => commandEvents(results[k])),
      ),
      row('History bytes / transition (total ÷ M)', f1, (s) => s.historyBytesPerTransition, all),
      row('Worker process CPU / transition (ms)', f2, (s) => s.workerCpuMsPerTransition, all),
      row('… of which the workflow thread (sandbox)', f2, (s) => s.workflowThreadCpuMsPerTransition, all),
      row(
        '… of which the main thread (activities, client, SDK)',
        f2,
        (s) => s.mainThreadCpuMsPerTransition,
        all,
      ),
      row(
        server ? 'Dev-server CPU / transition (ms)' : 'Server CPU / transition (ms; --server-pids)',
        f2,
        (s) => s.serverCpuMsPerTransition,
        all,
      ),
      row(
        `Store-server CPU / transition (ms; ${opts.store === 'embedded' ? 'embedded PostgreSQL' : 'n/a: PGlite in the worker process'})`,
        f2,
        (s) => s.storeCpuMsPerTransition,
        all,
      ),
      row('Total CPU / transition: worker + servers (ms)', f2, (s) => s.totalCpuMsPerTransition, all),
      row(
        'Update RPCs retried (same update id), all rounds',
        (x) => (x === null || Number.isNaN(x) ? 'n/a' : String(x)),
        (s) => (s.p50Ms === null || Number.isNaN(s.p50Ms) ? NaN : s.updateRetries),
        all,
      ),
      [
        `Worker RSS max during phase (MB; ${rssIdleMb.toFixed(0)} before any instance)`,
        f1(raw.rssMaxMb),
        f1(b.rssMaxMb),
        f1(a.rssMaxMb),
        f1(i.rssMaxMb),
        '',
        '',
        '',
      ],
    ];
    const table = [
      `Custodia benchmark, ${date.slice(0, 10)}: ${opts.instances} instances × ${opts.transitions} transitions, all instances in flight, median of ${opts.rounds} round(s); ` +
        `${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}${machine.memory.v8Flags.length ? ` ${machine.memory.v8Flags.join(' ')}` : ''}, ${machine.temporal}.`,
      '',
      `| | Raw update (limit) | Hand-written baseline | ${BEFORE[opts.before].label} | Interpreter (\`procedure\`) | Before ÷ raw | Interpreter ÷ baseline | Interpreter ÷ raw |`,
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...rows.map((r) => `| ${r.join(' | ')} |`),
      '',
      ...targets.map(
        (t) => `- ${t.pass ? 'PASS' : 'FAIL'}: ${t.name} — ${t.value}${t.note ? ` (${t.note})` : ''}`,
      ),
    ].join('\n');

    log('');
    log(
      `Machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB, Node ${machine.node}, ${machine.platform}; ${date}`,
    );
    log(
      `Worker process RSS: ${rssIdleMb.toFixed(0)} MB before any instance, max ${(rssMax / 2 ** 20).toFixed(0)} MB over the run ` +
        (opts.store === 'memory'
          ? '(worker, client driver and the in-memory records store share the process)'
          : '(worker and client driver; the records store is the embedded PostgreSQL server)'),
    );
    log('');
    log(table);
    log('');
    log('Round trip by transition index, p50 / p99 ms (median over rounds; every instance starts together):');
    for (const [label, set] of [
      ['raw', raw],
      ['baseline', b],
      [labelOf('activity'), a],
      ['interpreter', i],
    ] as const) {
      if (!set.byTransitionP50Ms.length) continue;
      const shown = set.byTransitionP50Ms
        .map((p50, k) => ({ k, p50, p99: set.byTransitionP99Ms[k]! }))
        .filter(({ k }, _, all) => all.length <= 12 || k < 5 || k === all.length - 1 || k % 10 === 9);
      log(
        `  ${label.padEnd(24)} ${shown.map((x) => `${x.k + 1}: ${x.p50.toFixed(0)}/${x.p99.toFixed(0)}`).join('  ')}`,
      );
    }

    const report = {
      date,
      command:
        `npm run bench -- --instances ${opts.instances} --transitions ${opts.transitions} --rounds ${opts.rounds} ` +
        `--warmup ${opts.warmup} --paced-rate ${opts.pacedRate} --paced-transitions ${opts.pacedTransitions} ` +
        `--store ${opts.store} --before ${opts.before}` +
        (KINDS.length < ALL_KINDS.length ? ` --kinds ${KINDS.join(',')}` : ''),
      machine,
      params: { ...opts, out: undefined },
      method: {
        wallTime: 'first update to the last instance result, all instances in flight (started beforehand)',
        startTime:
          'starting all instances until each has completed its first workflow task (not in wallTime)',
        historyEventsPerTransition:
          'total history events of an instance (start to completion) ÷ its transitions; marginal = (events(M) − events(warm-up)) ÷ (M − warm-up transitions)',
        latency: 'client executeUpdate round trip, all updates of all instances in a phase',
        medians: 'median over rounds; order alternates per round (B I, I B, …)',
        rss: `process.memoryUsage().rss sampled every 100 ms; the process holds worker and client driver${opts.store === 'memory' ? ' and the records store (PGlite)' : ''}`,
        paced:
          'the same N instances; event k of instance i sent at ((k − 1)·N + i) / rate s (or when the previous returned, if later)',
        cpu:
          'process.cpuUsage() of this process (all threads); /proc utime+stime of the dev server; of the embedded ' +
          'store: its postmaster (utime+stime+cutime+cstime) and its live children (utime+stime); over the timed part',
      },
      summary: {
        raw: {
          ...raw,
          historyEventsPerTransitionMarginal: marginal('raw', raw),
          commandEventsPerTransition: commandEvents(results.raw),
          paced: pr ?? null,
        },
        baseline: {
          ...b,
          historyEventsPerTransitionMarginal: marginal('baseline', b),
          commandEventsPerTransition: commandEvents(results.baseline),
          paced: pb ?? null,
          historyJudged: history.baseline,
        },
        activity: {
          ...a,
          historyEventsPerTransitionMarginal: marginal('activity', a),
          commandEventsPerTransition: commandEvents(results.activity),
          paced: pa ?? null,
        },
        interpreter: {
          ...i,
          historyEventsPerTransitionMarginal: marginal('interpreter', i),
          commandEventsPerTransition: commandEvents(results.interpreter),
          paced: pi ?? null,
          historyJudged: history.interpreter,
        },
        timeRatio,
        historyBasis: history.basis,
        rssIdleMb,
        rssMaxMbWholeRun: rssMax / 2 ** 20,
      },
      targets,
      warmup: warm,
      rounds: results,
      paced: pacedResults,
      markdown: table,
    };
    if (opts.out) {
      mkdirSync(path.dirname(opts.out), { recursive: true });
      writeFileSync(opts.out, await formatJson(report, opts.out));
      log('');
      log(`Written: ${path.relative(REPO_ROOT, opts.out) || opts.out}`);
    }
  } catch (err) {
    // Printed before the shutdown below: a pending client retry can crash the process after it.
    console.error('benchmark failed:', err);
    throw err;
  } finally {
    clearInterval(rssSampler);
    worker.shutdown();
    activityWorker.shutdown();
    await running.catch((err: unknown) => console.error('worker:', err));
    await connection.close();
    await client.connection.close();
    await store.close();
    if (storeDir) rmSync(storeDir, { recursive: true, force: true });
    await server?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
