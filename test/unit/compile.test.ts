/**
 * The compiler and the pure runtime, one language feature at a time, with XState's pure
 * `transition()` — milliseconds, no server.
 */
import { describe, expect, it } from 'vitest';
import { compileProcedure, MAX_COMPILED, type CompiledProcedure } from '../../workflows/core/compile.ts';
import type { Actor, Json } from '../../workflows/core/ir.ts';
import {
  applyEvent,
  describeInstance,
  explainRejection,
  fireTimer,
  startInstance,
  type InstanceState,
} from '../../workflows/core/runtime.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';

const T = '{ zh: 甲, en: A }';
const staff: Actor = { id: 'sam', roles: ['staff'] };
const head: Actor = { id: 'hana', roles: ['head'] };

/** Build a procedure from a states/events body (roles staff and head declared). */
function procedure(body: string, extra = ''): CompiledProcedure {
  const text = `id: t
version: 1.0.0
title: ${T}
description: ${T}
clauses: ['4.2.2']
roles: { staff: ${T}, head: ${T} }
${extra}
${body}`;
  const { ir, diagnostics } = validateProcedureText(text, 't.yaml');
  if (!ir) throw new Error(diagnostics.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`).join('\n'));
  return compileProcedure(ir);
}

function run(proc: CompiledProcedure, input: Record<string, Json> = {}, now = 0): InstanceState {
  return startInstance(proc, input, staff, now).state;
}

function send(
  proc: CompiledProcedure,
  s: InstanceState,
  type: string,
  actor: Actor,
  data?: Record<string, Json>,
  now = 1000,
) {
  return applyEvent(proc, s, { type, actor, ...(data ? { data } : {}) }, now);
}

describe('compileProcedure', () => {
  it('is deterministic: the same IR gives the same machine config', () => {
    const a = procedure(`events: { GO: { title: ${T} } }
initial: a
states:
  a: { title: ${T}, on: { GO: { target: b, roles: staff } } }
  b: { title: ${T}, type: final }`);
    const b = compileProcedure(a.ir);
    expect(JSON.stringify(b.machine.config)).toBe(JSON.stringify(a.machine.config));
  });

  it('compiles a procedure once: the same IR and calendar give the one compiled procedure', () => {
    const text = `events: { GO: { title: ${T} } }
initial: a
states:
  a: { title: ${T}, on: { GO: { target: b, roles: staff } } }
  b: { title: ${T}, type: final }`;
    const a = procedure(text);
    // Equal content, another object (a workflow's input is decoded afresh for every run).
    expect(compileProcedure(structuredClone(a.ir))).toBe(a);
    // A calendar, or another one, is another compiled procedure; a changed IR too.
    const calendar = {
      id: 'cn',
      timezone: 'Asia/Shanghai',
      offsetMinutes: 480,
      weekend: [6, 7],
      covers: { from: '2026-01-01', to: '2026-12-31' },
      holidays: {},
      workdays: {},
    };
    const withCalendar = compileProcedure(a.ir, { calendar });
    expect(withCalendar).not.toBe(a);
    expect(withCalendar.calendar).toEqual(calendar);
    expect(compileProcedure(a.ir, { calendar: structuredClone(calendar) })).toBe(withCalendar);
    expect(compileProcedure(a.ir, { calendar: { ...calendar, weekend: [7] } })).not.toBe(withCalendar);
    expect(compileProcedure({ ...a.ir, version: '1.0.1' })).not.toBe(a);
    // Bounded: after MAX_COMPILED others, the first is compiled anew (the same machine config).
    for (let i = 0; i < MAX_COMPILED; i++) compileProcedure({ ...a.ir, version: `2.0.${i}` });
    const again = compileProcedure(structuredClone(a.ir));
    expect(again).not.toBe(a);
    expect(JSON.stringify(again.machine.config)).toBe(JSON.stringify(a.machine.config));
  });

  it('nested states: targets enter ancestors and initial children; parent transitions apply to children', () => {
    const p = procedure(`events: { GO: { title: ${T} }, NEXT: { title: ${T} }, CANCEL: { title: ${T} } }
initial: idle
states:
  idle: { title: ${T}, on: { GO: { target: work, roles: staff } } }
  work:
    title: ${T}
    initial: one
    on: { CANCEL: { target: cancelled, roles: head } }
    states:
      one: { title: ${T}, on: { NEXT: { target: two, roles: staff } } }
      two: { title: ${T}, on: { NEXT: { target: cancelled, roles: staff } } }
  cancelled: { title: ${T}, type: final }`);
    let s = run(p);
    s = send(p, s, 'GO', staff).state;
    expect(s.value).toEqual({ work: 'one' });
    s = send(p, s, 'NEXT', staff).state;
    expect(s.value).toEqual({ work: 'two' });
    const cancelled = send(p, s, 'CANCEL', head);
    expect(cancelled.state.value).toBe('cancelled');
    expect(cancelled.state.done).toBe(true);
    expect(cancelled.record).toMatchObject({ from: ['work.two'], to: ['cancelled'] });
  });

  it('parallel states: each region moves on its own; the view lists both leaves', () => {
    const p = procedure(`events: { A: { title: ${T} }, B: { title: ${T} } }
type: parallel
states:
  left:
    title: ${T}
    initial: todo
    states:
      todo: { title: ${T}, on: { A: { target: done, roles: staff } } }
      done: { title: ${T}, type: final }
  right:
    title: ${T}
    initial: todo
    states:
      todo: { title: ${T}, on: { B: { target: done, roles: head } } }
      done: { title: ${T}, type: final }`);
    let s = run(p);
    expect(describeInstance(p, s).leaves).toEqual(['left.todo', 'right.todo']);
    expect(describeInstance(p, s).available).toEqual({ head: ['B'], staff: ['A'] });
    s = send(p, s, 'A', staff).state;
    expect(s.value).toEqual({ left: 'done', right: 'todo' });
    expect(s.done).toBe(false);
    s = send(p, s, 'B', head).state;
    expect(s.done).toBe(true); // every region final → the parallel root is done
  });

  it('final states take no events', () => {
    const p = procedure(`events: { GO: { title: ${T} } }
initial: a
states:
  a: { title: ${T}, on: { GO: { target: b, roles: staff } } }
  b: { title: ${T}, type: final }`);
    const s = send(p, run(p), 'GO', staff).state;
    expect(explainRejection(p, s, { type: 'GO', actor: staff }, 0)?.code).toBe('INSTANCE_FINISHED');
  });

  it('guards: CEL over data, ctx, actor; the first enabled transition wins', () => {
    const p = procedure(
      `events:
  DECIDE:
    title: ${T}
    data: { type: object, required: [days], properties: { days: { type: integer } } }
initial: open
states:
  open:
    title: ${T}
    on:
      DECIDE:
        - { target: short, roles: head, guard: 'data.days <= ctx.limit' }
        - { target: long, roles: head, guard: 'data.days > ctx.limit && "head" in actor.roles' }
  short: { title: ${T}, type: final }
  long: { title: ${T}, type: final }`,
      `context: { limit: { type: integer, default: 7 } }`,
    );
    expect(send(p, run(p), 'DECIDE', head, { days: 3 }).state.value).toBe('short');
    expect(send(p, run(p), 'DECIDE', head, { days: 30 }).state.value).toBe('long');
    expect(explainRejection(p, run(p), { type: 'DECIDE', actor: head, data: {} }, 0)?.code).toBe(
      'INVALID_DATA',
    );
  });

  it('delays: after-transitions become timers with deadlines, cancelled on leaving the state', () => {
    const p = procedure(`events: { DONE: { title: ${T} } }
initial: waiting
states:
  waiting:
    title: ${T}
    sla: PT4H
    on: { DONE: { target: finished, roles: staff } }
    after:
      - { delay: P2D, target: late }
  late: { title: ${T}, type: final }
  finished: { title: ${T}, type: final }`);
    const s = run(p, {}, 1_000);
    expect(s.timers).toHaveLength(1);
    expect(s.timers[0]!.dueAt).toBe(1_000 + 2 * 86_400_000);
    expect(describeInstance(p, s).dueAt).toBe(1_000 + 4 * 3_600_000);
    const fired = fireTimer(p, s, s.timers[0]!.id, 2 * 86_400_000 + 1_000);
    expect(fired?.state.value).toBe('late');
    expect(fired?.record.event).toBe('after P2D');
    const left = send(p, s, 'DONE', staff).state;
    expect(left.timers).toEqual([]);
    expect(fireTimer(p, left, s.timers[0]!.id, 3 * 86_400_000)).toBeUndefined();
  });

  it('assign, record, notify and start: context updates and effects in order', () => {
    const p = procedure(
      `events:
  APPROVE: { title: ${T}, data: { type: object, properties: { n: { type: integer } } } }
initial: open
states:
  open:
    title: ${T}
    on:
      APPROVE:
        target: done
        roles: head
        actions:
          - assign: { approver: actor.id, n: data.n + 1 }
          - record: { record: log, fields: { who: ctx.approver, n: ctx.n } }
          - notify: { to: client, message: ${T} }
          - start: { procedure: other, input: { client: ctx.client } }
  done: { title: ${T}, type: final }`,
      `context:
  client: { type: string }
  approver: { type: string }
  n: { type: integer }`,
    );
    const step = send(p, run(p, { client: 'acme' }), 'APPROVE', head, { n: 41 });
    expect(step.state.context).toMatchObject({ approver: 'hana', n: 42, client: 'acme' });
    expect(step.effects).toEqual([
      { kind: 'record', record: 'log', fields: { who: 'hana', n: 42 } },
      { kind: 'notify', to: 'client', message: { zh: '甲', en: 'A' } },
      { kind: 'start', procedure: 'other', input: { client: 'acme' } },
    ]);
  });

  it('separation of duties: the actor of SUBMIT may not APPROVE, whatever their roles', () => {
    const p = procedure(
      `events: { SUBMIT: { title: ${T} }, APPROVE: { title: ${T} } }
initial: draft
states:
  draft: { title: ${T}, on: { SUBMIT: { target: submitted, roles: [staff, head] } } }
  submitted: { title: ${T}, on: { APPROVE: { target: approved, roles: head } } }
  approved: { title: ${T}, type: final }`,
      `duties: [{ event: APPROVE, distinct_from: [SUBMIT] }]`,
    );
    const both: Actor = { id: 'hana', roles: ['staff', 'head'] };
    const s = send(p, run(p), 'SUBMIT', both).state;
    expect(explainRejection(p, s, { type: 'APPROVE', actor: both }, 0)?.code).toBe('DUTY_CONFLICT');
    // The machine itself refuses it too (the browser simulator relies on this).
    const snapshot = p.machine.resolveState({ value: s.value, context: s.context });
    expect(snapshot.can({ type: 'APPROVE', actor: both })).toBe(false);
    expect(snapshot.can({ type: 'APPROVE', actor: { id: 'other', roles: ['head'] } })).toBe(true);
    expect(send(p, s, 'APPROVE', { id: 'other', roles: ['head'] }).state.value).toBe('approved');
  });

  it('roles: an actor without an allowed role is refused, with the allowed roles named', () => {
    const p = procedure(`events: { GO: { title: ${T} } }
initial: a
states:
  a: { title: ${T}, on: { GO: { target: b, roles: head } } }
  b: { title: ${T}, type: final }`);
    const r = explainRejection(p, run(p), { type: 'GO', actor: staff }, 0);
    expect(r).toMatchObject({ code: 'ROLE_NOT_ALLOWED' });
    expect(r?.message).toContain('allowed roles: head');
  });

  it('start input is checked against the declared context fields', () => {
    const p = procedure(
      `events: { GO: { title: ${T} } }
initial: a
states:
  a: { title: ${T}, on: { GO: { target: b, roles: head } } }
  b: { title: ${T}, type: final }`,
      `context: { client: { type: string, required: true } }`,
    );
    expect(() => run(p, {})).toThrow(/missing required field "client"/);
    expect(() => run(p, { client: 'x', extra: 1 })).toThrow(/unknown field "extra"/);
  });
});

describe('unstorable text', () => {
  it('refuses event data and start input that the records cannot hold (NUL, broken UTF-16)', () => {
    const p = procedure(
      `events: { GO: { title: ${T}, data: { type: object, properties: { note: { type: string } } } } }
initial: a
states:
  a: { title: ${T}, on: { GO: { target: b, roles: staff } } }
  b: { title: ${T}, type: final }`,
      `context: { note: { type: string } }`,
    );
    const s = run(p);
    expect(explainRejection(p, s, { type: 'GO', actor: staff, data: { note: 'a\u0000b' } }, 0)).toMatchObject(
      {
        code: 'INVALID_DATA',
        message: expect.stringContaining('/note contains a NUL character') as string,
      },
    );
    expect(explainRejection(p, s, { type: 'GO', actor: staff, data: { note: 'x\uD800' } }, 0)?.code).toBe(
      'INVALID_DATA',
    );
    expect(explainRejection(p, s, { type: 'GO', actor: staff, data: { note: '好 😀' } }, 0)).toBeUndefined();
    expect(() => run(p, { note: '\u0000' })).toThrow(/NUL character/);
  });
});
