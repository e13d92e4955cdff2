/**
 * Shared by the scenario tests (`test/scenarios/*.int.test.ts`): the clauses of the
 * confidentiality procedure exercised on the SHIPPED definitions (`definitions/*.yaml`), through
 * the real Temporal dev server the integration project's global setup starts.
 *
 * Each scenario file loads only the definitions it drives (its machine, plus `violation_case`
 * when the machine opens cases), so a definition being edited elsewhere cannot break it.
 *
 * Timers: the shipped timers run for hours or days. `shortenTimers` returns a copy of a loaded
 * definition in which ONLY the durations (`after[].delay` and `sla`: due, reminders, escalations,
 * working days included) are rewritten to a few
 * seconds, keeping their order; states, transitions, guards, roles, forms, actions and invariants
 * are the shipped ones. The copy is re-hashed (`hashProcedure`) and started like any other
 * definition (`startProcedure`), so the workflow pins and checks it as it would in production.
 */
import path from 'node:path';
import { expect } from 'vitest';
import { EventRejected, getSnapshot, startProcedure, type StartOptions } from '../../worker/instances.ts';
import type { LoadedDefinition } from '../../worker/definitions.ts';
import type { ChildLink, ProcedureSnapshot } from '../../workflows/api.ts';
import { parseDelay } from '../../workflows/core/duration.ts';
import { hashProcedure } from '../../workflows/core/hash.ts';
import type { Actor, EventInput, Json, ProcedureIR, StateIR } from '../../workflows/core/ir.ts';
import {
  eventually,
  sendEvent,
  SHIPPED_DEFINITIONS,
  startHarness,
  type Harness,
} from '../integration/harness.ts';

/** Paths of shipped definitions by procedure id (`definitions/<id>.yaml`). */
export function shipped(...ids: string[]): string[] {
  return ids.map((id) => path.join(SHIPPED_DEFINITIONS, `${id}.yaml`));
}

/** A worker on the test server running only the named shipped definitions. */
export function startScenarioHarness(...ids: string[]): Promise<Harness> {
  return startHarness(shipped(...ids));
}

/** A definition whose durations were shortened; `durations` maps each original to its replacement. */
export interface ShortenedDefinition extends LoadedDefinition {
  durations: Record<string, string>;
}

const DAY_MS = 86_400_000;

/** Every state node of an IR, depth first. */
function statesOf(root: StateIR): StateIR[] {
  const out: StateIR[] = [];
  const visit = (s: StateIR): void => {
    out.push(s);
    Object.values(s.states).forEach(visit);
  };
  visit(root);
  return out;
}

/**
 * A copy of `def` whose timers run in seconds. Every distinct duration used by an `after` delay
 * or an `sla` is replaced, strictly increasing with the original length:
 * - by default, by rank: the shortest becomes `PT1S`, the next `PT2S`, … (order preserved);
 * - with `secondsPerDay`, linearly (ratios preserved): `P2D` with 1.5 s/day → `PT3S`; throws when
 *   rounding to whole seconds (minimum 1 s) would merge two distinct durations.
 * Whole seconds only: a duration's text names the XState delay (`after_PT3S`), and the log labels
 * timer transitions by it (`after PT3S`).
 */
export function shortenTimers(def: LoadedDefinition, secondsPerDay?: number): ShortenedDefinition {
  const ir = structuredClone(def.ir) as ProcedureIR;
  const states = statesOf(ir.root);
  const originals = new Map<string, number>();
  const note = (d: string | undefined): void => {
    if (d === undefined) return;
    // Working days (`P2WD`) count as that many days here: shortened, they are plain seconds.
    const delay = parseDelay(d);
    if (delay === undefined) throw new Error(`${def.ir.id}: "${d}" is not a duration`);
    originals.set(d, 'ms' in delay ? delay.ms : delay.workingDays * DAY_MS);
  };
  for (const s of states) {
    note(s.sla);
    s.after.forEach((t) => note(t.delay));
    s.slaPlan?.remind.forEach((r) => note(typeof r === 'string' ? r : r.after));
    s.slaPlan?.escalate.forEach((e) => note(e.after));
  }
  const distinctMs = [...new Set(originals.values())].sort((a, b) => a - b);
  const secondsFor = new Map<number, number>();
  distinctMs.forEach((ms, i) => {
    const seconds =
      secondsPerDay === undefined ? i + 1 : Math.max(1, Math.round((ms / DAY_MS) * secondsPerDay));
    const previous = i > 0 ? secondsFor.get(distinctMs[i - 1]!)! : 0;
    if (seconds <= previous)
      throw new Error(
        `${def.ir.id}: ${secondsPerDay} s/day maps ${ms} ms onto ${seconds} s like a shorter duration; use more seconds per day`,
      );
    secondsFor.set(ms, seconds);
  });
  const durations: Record<string, string> = {};
  for (const [text, ms] of originals) durations[text] = `PT${secondsFor.get(ms)!}S`;
  for (const s of states) {
    if (s.sla !== undefined) s.sla = durations[s.sla]!;
    for (const t of s.after) t.delay = durations[t.delay]!;
    if (s.slaPlan) {
      s.slaPlan.remind = s.slaPlan.remind.map((r) =>
        typeof r === 'string' ? durations[r]! : { ...r, after: durations[r.after]! },
      );
      for (const e of s.slaPlan.escalate) e.after = durations[e.after]!;
    }
  }
  return { file: def.file, ir, hash: hashProcedure(ir), durations };
}

/** Start an instance of a (shortened) definition on the harness's task queue. */
export function startDefinition(
  h: Harness,
  def: LoadedDefinition,
  context: Record<string, Json>,
  starter: Actor,
  opts: Partial<StartOptions> = {},
): Promise<string> {
  return startProcedure(h.client, def, { context, starter, taskQueue: h.config.taskQueue, ...opts });
}

/** The definition `id` as loaded by the harness. */
export function definitionOf(h: Harness, id: string): LoadedDefinition {
  const def = h.definitions.get(id);
  if (!def) throw new Error(`definition ${id} is not loaded`);
  return def;
}

/** Send an event that must be refused; the refusal. */
export async function refusal(h: Harness, workflowId: string, event: EventInput): Promise<EventRejected> {
  const err = await sendEvent(h.client, workflowId, event).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `${event.type} by ${event.actor.id} should have been refused`).toBeInstanceOf(EventRejected);
  return err as EventRejected;
}

/**
 * Send an event that must be refused with `code`, and whose message names the reason: every one
 * of `reasons` appears in it. The instance's state is unchanged.
 */
export async function expectRefused(
  h: Harness,
  workflowId: string,
  event: EventInput,
  code: string,
  ...reasons: string[]
): Promise<EventRejected> {
  const before = await getSnapshot(h.client, workflowId);
  const err = await refusal(h, workflowId, event);
  expect(err.code, err.message).toBe(code);
  for (const reason of reasons) expect(err.message).toContain(reason);
  const after = await getSnapshot(h.client, workflowId);
  expect(after.leaves).toEqual(before.leaves);
  expect(after.log).toHaveLength(before.log.length);
  return err;
}

/** Send events that must all be accepted, in order; the last result. */
export async function send(
  h: Harness,
  workflowId: string,
  ...events: EventInput[]
): Promise<Awaited<ReturnType<typeof sendEvent>>> {
  let last: Awaited<ReturnType<typeof sendEvent>> | undefined;
  for (const e of events) last = await sendEvent(h.client, workflowId, e);
  if (!last) throw new Error('send: no events');
  return last;
}

/** Wait until the instance is in `leaf` (e.g. after a timer); its snapshot. */
export function reaches(
  h: Harness,
  workflowId: string,
  leaf: string,
  timeoutMs = 15_000,
): Promise<ProcedureSnapshot> {
  return eventually(async () => {
    const snap = await getSnapshot(h.client, workflowId);
    return snap.leaves.includes(leaf) && snap;
  }, timeoutMs);
}

/** Wait for a notification to `recipient` whose English text contains `text`. */
export function notified(
  h: Harness,
  workflowId: string,
  recipient: string,
  text: string,
  timeoutMs = 15_000,
): Promise<{ seq: number; recipient: string; en: string }> {
  return eventually(async () => {
    const all = await h.running.store.notificationsOf(workflowId);
    return all.find((n) => n.recipient === recipient && n.en.includes(text));
  }, timeoutMs);
}

/** Wait for the named records an instance wrote (e.g. the lending log). */
export function recordsNamed(
  h: Harness,
  workflowId: string,
  name: string,
  count = 1,
): Promise<{ seq: number; fields: Record<string, Json> }[]> {
  return eventually(async () => {
    const rows = (await h.running.store.recordsOf(workflowId)).filter((r) => r.name === name);
    return rows.length >= count && rows;
  });
}

/**
 * The instance this one opened (a `start` action), once linked: its link and its snapshot.
 * Fails unless exactly one linked instance of `procedure` exists.
 */
export async function linkedInstance(
  h: Harness,
  workflowId: string,
  procedure = 'violation_case',
): Promise<{ link: ChildLink; child: ProcedureSnapshot }> {
  const links = await eventually(async () => {
    const snap = await getSnapshot(h.client, workflowId);
    const found = snap.children.filter((c) => c.procedure === procedure);
    return found.length > 0 && found;
  });
  expect(links).toHaveLength(1);
  const link = links[0]!;
  const child = await eventually(() => getSnapshot(h.client, link.workflowId));
  expect(child.parent).toEqual({ workflowId, seq: link.seq });
  return { link, child };
}
