/**
 * `pureTransition` (runtime.ts): XState's pure `transition` with the machine's inert actor scope
 * made once. It must answer exactly what `transition` answers — the next snapshot and the actions
 * it would execute — whatever was computed through the same scope before: a walk over every
 * shipped definition and the engine's review fixture compares both on each (snapshot, event).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import { compileProcedure, type CompiledProcedure } from '../../workflows/core/compile.ts';
import type { Actor, Json } from '../../workflows/core/ir.ts';
import type { MachineEvent } from '../../workflows/core/machine-context.ts';
import { pureTransition } from '../../workflows/core/runtime.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';

const ROOT = path.join(import.meta.dirname, '../..');

function load(file: string): CompiledProcedure {
  const ir = validateProcedureText(readFileSync(file, 'utf8'), path.basename(file)).ir;
  if (!ir) throw new Error(`${file} does not validate`);
  return compileProcedure(ir);
}

/** A value that a JSON Schema (of an event's data) accepts, the simplest one. */
function sample(schema: Record<string, unknown> | undefined): Json {
  if (!schema) return {};
  if (Array.isArray(schema.enum)) return schema.enum[0] as Json;
  if ('const' in schema) return schema.const as Json;
  switch (schema.type) {
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
      return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, sample(v)]));
    }
    case 'array':
      return [sample(schema.items as Record<string, unknown>)];
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean':
      return true;
    default:
      if (schema.format === 'date') return '2026-12-07';
      if (schema.format === 'date-time') return '2026-12-07T08:00:00Z';
      return 'sample text';
  }
}

/** What a result is made of, functions left out (an action's `exec` is a closure per call). */
function plain(snapshot: AnyMachineSnapshot, actions: { type: string; params?: unknown }[]): unknown {
  return JSON.parse(
    JSON.stringify({
      value: snapshot.value,
      context: snapshot.context,
      status: snapshot.status,
      output: snapshot.output ?? null,
      actions: actions.map((a) => ({ type: a.type, params: a.params ?? null })),
    }),
  );
}

type Answer = [AnyMachineSnapshot, { type: string; params?: unknown }[]];

/** A step's answer as data, or the error it throws (an expression over a missing field). */
function answer(step: () => Answer): { plain: unknown; next?: Answer } {
  try {
    const next = step();
    return { plain: plain(...next), next };
  } catch (err) {
    return { plain: { error: String(err) } };
  }
}

/** The delayed events the actions of a step raise (`after` timers), to send next. */
function delayedEvents(actions: { params?: unknown }[]): MachineEvent[] {
  const out: MachineEvent[] = [];
  for (const a of actions) {
    const event = (a.params as { event?: { type?: unknown } } | undefined)?.event;
    if (typeof event?.type === 'string' && event.type.startsWith('xstate.after.'))
      out.push({ type: event.type });
  }
  return out;
}

/**
 * Breadth-first over (snapshot, event), up to `limit` snapshots: every declared event, sent by one
 * actor per role and by one with every role, with each data variant; and the timers the steps
 * raise. Both functions answer every pair; the walk follows `transition`'s answer.
 */
function walk(
  proc: CompiledProcedure,
  input: Record<string, Json>,
  data: Record<string, Record<string, Json>[]>,
  limit: number,
): { compared: number; moved: number } {
  const roles = Object.keys(proc.ir.roles);
  const actors: Actor[] = [
    ...roles.map((r, i) => ({ id: `user${i}`, roles: [r] })),
    { id: 'everyone', roles },
  ];
  const [first, firstActions] = initialTransition(proc.machine, input);
  const queue: { snap: AnyMachineSnapshot; timers: MachineEvent[] }[] = [
    { snap: first, timers: delayedEvents(firstActions) },
  ];
  const seen = new Set<string>([JSON.stringify([first.value, first.context])]);
  let compared = 0;
  let moved = 0;
  let at = Date.parse('2026-12-07T08:00:00Z');
  while (queue.length && seen.size <= limit) {
    const { snap, timers } = queue.shift()!;
    const events: MachineEvent[] = [...timers];
    for (const type of Object.keys(proc.ir.events))
      for (const actor of actors)
        for (const d of data[type] ?? [{}]) events.push({ type, actor, data: d, at: (at += 1000) });
    for (const event of events) {
      const expected = answer(() => transition(proc.machine, snap, event));
      expect(answer(() => pureTransition(proc.machine, snap, event)).plain).toEqual(expected.plain);
      compared++;
      if (!expected.next) continue;
      const [next, nextActions] = expected.next;
      const key = JSON.stringify([next.value, next.context]);
      if (seen.has(key)) continue;
      seen.add(key);
      moved++;
      queue.push({ snap: next, timers: delayedEvents(nextActions) });
    }
  }
  return { compared, moved };
}

describe('pureTransition', () => {
  it('answers as XState’s transition on the review fixture: steps, refusals, timers, parallel states', () => {
    const proc = load(path.join(ROOT, 'test/fixtures/engine/review.yaml'));
    const { compared, moved } = walk(
      proc,
      { client: 'acme' },
      {
        SUBMIT: [{ purpose: 'audit' }, { purpose: 'x' }, {}],
        APPROVE: [{ window_hours: 12 }, { window_hours: 60 }, {}],
      },
      200,
    );
    // Submitted, approved into the parallel checks, each check, lost, rejected, expired…
    expect(moved).toBeGreaterThanOrEqual(8);
    expect(compared).toBeGreaterThan(100);
  });

  it('answers as XState’s transition on every shipped definition', () => {
    const dir = path.join(ROOT, 'definitions');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(10);
    let moved = 0;
    for (const f of files) {
      const proc = load(path.join(dir, f));
      const data = Object.fromEntries(
        Object.entries(proc.ir.events).map(([type, e]) => [
          type,
          [{}, sample(e.data as Record<string, unknown> | undefined) as Record<string, Json>],
        ]),
      );
      moved += walk(proc, { client: 'acme' }, data, 40).moved;
    }
    expect(moved).toBeGreaterThan(10 * files.length);
  });

  it('collects only the actions of its own call', () => {
    const proc = load(path.join(ROOT, 'test/fixtures/engine/review.yaml'));
    const [first] = initialTransition(proc.machine, { client: 'acme' });
    const submit: MachineEvent = {
      type: 'SUBMIT',
      actor: { id: 'alice', roles: ['project_staff'] },
      data: { purpose: 'audit' },
      at: 0,
    };
    const [submitted, actions] = pureTransition(proc.machine, first, submit);
    expect(submitted.value).toBe('submitted');
    expect(actions.length).toBeGreaterThan(0);
    // A refused event after it: no action of the step before is handed back again.
    const [same, none] = pureTransition(proc.machine, submitted, { ...submit, type: 'CHECK_A' });
    expect(same.value).toBe('submitted');
    expect(none).toEqual([]);
    expect(actions.length).toBeGreaterThan(0);
  });
});
