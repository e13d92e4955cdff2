/**
 * Integration-test harness: a worker in this process against the one dev server the global
 * setup started, with an in-memory records store and the engine fixtures + shipped definitions.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { loadConfig, REPO_ROOT, type CustodiaConfig } from '../../worker/config.ts';
import { loadDeployedDefinitions, runWorker, type RunningWorker } from '../../worker/process.ts';
import type { LoadedDefinition } from '../../worker/definitions.ts';
import { actorSigner } from '../../worker/actor-keys.ts';
import { sendEvent as sendUpdate, signedEvent, startProcedure } from '../../worker/instances.ts';
import type { EventResult, SignedEventInput } from '../../workflows/api.ts';
import type { Actor, Json } from '../../workflows/core/ir.ts';
import { SEARCH_ATTRIBUTES_BURST_MS, SEARCH_ATTRIBUTES_EVERY_MS } from '../../workflows/search-attributes.ts';

// Workers in tests log warnings and errors only (override with CUSTODIA_LOG_LEVEL).
process.env.CUSTODIA_LOG_LEVEL ??= 'WARN';

export const ENGINE_FIXTURES = path.join(REPO_ROOT, 'test/fixtures/engine');

export interface Harness {
  config: CustodiaConfig;
  address: string;
  client: Client;
  running: RunningWorker;
  definitions: Map<string, LoadedDefinition>;
  start(procedure: string, context: Record<string, Json>, starter?: Actor): Promise<string>;
  close(): Promise<void>;
}

/**
 * The Temporal server of this test file: its lane's (`VITEST_POOL_ID`, 1 … the project's
 * `maxWorkers`, names the worker slot the file runs in; no two files running at once share one).
 */
export function laneTemporalAddress(): string {
  const lanes = inject('temporalAddresses');
  const lane = Number(process.env.VITEST_POOL_ID ?? '1');
  return lanes[(Math.max(1, lane || 1) - 1) % lanes.length]!;
}

/** Config pointing at the test server, on a task queue of its own (tests in parallel never share one). */
export function testConfig(taskQueue = `test-${randomUUID().slice(0, 8)}`): {
  config: CustodiaConfig;
  address: string;
} {
  const address = laneTemporalAddress();
  const config = loadConfig({
    env: { ...process.env, TEMPORAL_ADDRESS: address, CUSTODIA_TASK_QUEUE: taskQueue },
  });
  return { config, address };
}

/** The shipped procedures (scenario tests load these). */
export const SHIPPED_DEFINITIONS = path.join(REPO_ROOT, 'definitions');

export async function startHarness(dirs = [ENGINE_FIXTURES]): Promise<Harness> {
  const { config, address } = testConfig();
  const definitions = loadDeployedDefinitions(dirs);
  const running = await runWorker(config, { address, records: null, definitions, bundle: sharedBundle() });
  const client = running.client;
  return {
    config,
    address,
    client,
    running,
    definitions,
    async start(procedure, context, starter) {
      const def = definitions.get(procedure);
      if (!def) throw new Error(`no definition ${procedure}`);
      // By default, someone who may start it (its `start.roles`).
      starter ??= { id: 'starter', roles: def.ir.start?.roles ?? [] };
      return startProcedure(client, def, { context, starter, taskQueue: config.taskQueue });
    },
    async close() {
      await running.shutdown();
    },
  };
}

/** The workflow bundle built once for this run by the global setup. */
export function sharedBundle(): { code: string } {
  return { code: readFileSync(inject('workflowBundleFile'), 'utf8') };
}

/**
 * Send an event as the API and `custodia send` do: signed with the test actor key (the test
 * bundle trusts it, see global-setup.ts) for its actor on this instance. An event that has an
 * `assertion` key already (even `undefined`), or no well-formed actor, is sent as it is.
 */
export function sendEvent(client: Client, workflowId: string, event: SignedEventInput): Promise<EventResult> {
  const actor = event.actor as Partial<Actor> | undefined;
  const signable = typeof actor?.id === 'string' && Array.isArray(actor.roles) && !('assertion' in event);
  return sendUpdate(client, workflowId, signable ? signedEvent(actorSigner(), workflowId, event) : event);
}

/** A history event's type by name, without the prefix (`TIMER_STARTED`). */
export function eventTypeName(e: proto.temporal.api.history.v1.IHistoryEvent): string {
  return (proto.temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? '').replace(/^EVENT_TYPE_/, '');
}

/** A timer of a history: its id, its start-to-fire timeout (ms) and whether it coalesces search attributes. */
export interface HistoryTimer {
  id: string;
  timeoutMs: number;
  coalescing: boolean;
}

/**
 * The timer each event of a history is about (started, fired, cancelled), in the events' order;
 * undefined for other events. A search-attribute coalescing timer (workflows/procedure.workflow.ts)
 * runs from a change within a second of the last upsert to that second's end (at most `EVERY`) or,
 * in a burst, to its window's end (more than `BURST − EVERY`, at most `BURST`); the fixtures'
 * delayed transitions and SLAs wait 3 s, a day or two days.
 */
export function historyTimers(
  events: readonly proto.temporal.api.history.v1.IHistoryEvent[],
): (HistoryTimer | undefined)[] {
  const started = new Map<string, HistoryTimer>();
  return events.map((e) => {
    const id = (
      e.timerStartedEventAttributes ??
      e.timerFiredEventAttributes ??
      e.timerCanceledEventAttributes
    )?.timerId;
    if (!id) return undefined;
    const t = e.timerStartedEventAttributes?.startToFireTimeout;
    if (t) {
      const ms = Number(t.seconds ?? 0) * 1000 + Math.round((t.nanos ?? 0) / 1e6);
      const coalescing =
        ms <= SEARCH_ATTRIBUTES_EVERY_MS ||
        (ms > SEARCH_ATTRIBUTES_BURST_MS - SEARCH_ATTRIBUTES_EVERY_MS && ms <= SEARCH_ATTRIBUTES_BURST_MS);
      started.set(id, { id, timeoutMs: ms, coalescing });
    }
    return started.get(id);
  });
}

/** One event of an instance's history, as the timer and search-attribute tests read it. */
export interface HistoryEvent {
  /** Its type by name, without the prefix (`TIMER_STARTED`). */
  type: string;
  /** When the server wrote it (ms since the epoch). */
  at: number;
  /** TIMER_STARTED: its start-to-fire timeout (ms). */
  timeoutMs?: number;
  /** A timer event's timer, and whether that is a search-attribute coalescing timer (`historyTimers`). */
  timer?: string;
  coalescing?: boolean;
}

/** The instance's history, its timer events marked with their timer (`historyTimers`). */
export async function historyEvents(client: Client, workflowId: string): Promise<HistoryEvent[]> {
  const all = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const timers = historyTimers(all);
  return all.map((e, i) => {
    const timer = timers[i];
    return {
      type: eventTypeName(e),
      at: Number(e.eventTime?.seconds ?? 0) * 1000 + Math.round((e.eventTime?.nanos ?? 0) / 1e6),
      ...(timer && e.timerStartedEventAttributes ? { timeoutMs: timer.timeoutMs } : {}),
      ...(timer ? { timer: timer.id, coalescing: timer.coalescing } : {}),
    };
  });
}

/** Number of events in an instance's history (to prove a refused event left no trace). */
export async function historyLength(client: Client, workflowId: string): Promise<number> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return history.events?.length ?? 0;
}

/** Poll `fn` until it returns a truthy value (or throw after `timeoutMs`). */
export async function eventually<T>(
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end)
      throw new Error(`condition not met in ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
