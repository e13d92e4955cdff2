/**
 * `on_done` (a compound/parallel state's completion) and `always` (eventless transitions): schema,
 * checker, compiler + pure runtime, verifier — on small definitions and the two fixtures
 * (`test/fixtures/parallel-review/purchase_review.yaml`, `test/fixtures/eventless/expense_routing.yaml`).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileProcedure, MAX_EVENTLESS_STEPS } from '../../workflows/core/compile.ts';
import type { Actor, ProcedureIR } from '../../workflows/core/ir.ts';
import {
  applyEvent,
  describeInstance,
  explainRejection,
  leafPaths,
  startInstance,
  type InstanceState,
} from '../../workflows/core/runtime.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';
import { eventlessLoopDiagnostics, verifyProcedure } from '../../workflows/core/verify.ts';
import { assessDraft } from '../../worker/drafts.ts';

const HEAD = `
id: t
version: 1.0.0
title: { zh: 测, en: Test }
description: { zh: 测, en: Test }
roles: { staff: { zh: 员工, en: Staff } }
context:
  n: { type: integer, default: 0 }
  ok: { type: boolean, default: false }
events:
  GO: { title: { zh: 走, en: Go } }
  BACK: { title: { zh: 回, en: Back } }
`;

const validate = (body: string) => validateProcedureText(HEAD + body, 't.yaml');
const irOf = (text: string, file: string): ProcedureIR => {
  const r = validateProcedureText(text, file);
  if (!r.ir) throw new Error(JSON.stringify(r.diagnostics, null, 2));
  return r.ir;
};
const fixture = (path: string): ProcedureIR => irOf(readFileSync(path, 'utf8'), path);
const codes = (body: string) => validate(body).diagnostics.map((d) => `${d.code} ${d.line}:${d.column}`);

const requester: Actor = { id: 'rita', roles: ['requester'] };
const finance: Actor = { id: 'fred', roles: ['finance'] };
const legal: Actor = { id: 'lea', roles: ['legal'] };

describe('on_done and always: schema and checker', () => {
  it('refuses on_done on a final state (schema) and where a state can never be done (checker), positioned', () => {
    expect(
      codes(`
initial: a
states:
  a:
    title: { zh: 甲, en: A }
    on_done: { target: b }
    on: { GO: { target: b, roles: staff } }
  b: { title: { zh: 乙, en: B }, type: final, always: { target: a } }
`),
    ).toEqual(['PROC_SCHEMA 20:46']);
    expect(
      codes(`
initial: a
states:
  a:
    title: { zh: 甲, en: A }
    on_done: { target: c }
    on: { GO: { target: b, roles: staff } }
  b:
    title: { zh: 乙, en: B }
    initial: x
    on_done: { target: c }
    states:
      x: { title: { zh: 子, en: X }, on: { GO: { target: c, roles: staff } } }
  p:
    title: { zh: 并, en: P }
    type: parallel
    on_done: { target: c }
    states:
      r1: { title: { zh: 一, en: R1 }, initial: x, states: { x: { title: { zh: 子, en: X }, type: final } } }
      r2: { title: { zh: 二, en: R2 }, initial: x, states: { x: { title: { zh: 子, en: X }, on: { GO: { target: c, roles: staff } } } } }
  c: { title: { zh: 丙, en: C }, type: final }
`),
    ).toEqual([
      'PROC_ON_DONE_NEVER 18:5',
      'PROC_ON_DONE_NEVER 23:5',
      'PROC_UNREACHABLE_STATE 26:3',
      'PROC_ON_DONE_NEVER 29:5',
    ]);
  });

  it('checks targets of on_done and always, and lets their expressions read only ctx', () => {
    const r = validate(`
initial: a
states:
  a:
    title: { zh: 甲, en: A }
    always:
      - { target: bb, guard: data.x == 1 }
      - { target: b, guard: actor.id == 'x', actions: [{ assign: { n: now } }] }
    on: { GO: { target: b, roles: staff } }
  b: { title: { zh: 乙, en: B }, type: final }
`);
    expect(r.diagnostics.map((d) => [d.code, d.pointer])).toEqual([
      ['PROC_UNKNOWN_TARGET', '/states/a/always/0/target'],
      ['PROC_UNKNOWN_VARIABLE', '/states/a/always/0/guard'],
      ['PROC_UNKNOWN_VARIABLE', '/states/a/always/1/guard'],
      ['PROC_UNKNOWN_VARIABLE', '/states/a/always/1/actions/0/assign/n'],
    ]);
    expect(r.diagnostics[0]?.message).toContain('did you mean "b"');
  });

  it('an atomic state whose only way out is an always is not "no way out"; definitions without them keep their IR', () => {
    const r = validate(`
initial: a
states:
  a: { title: { zh: 甲, en: A }, always: { target: b } }
  b: { title: { zh: 乙, en: B }, type: final }
`);
    expect(r.diagnostics).toEqual([]);
    expect(r.ir?.root.states['a']?.always?.[0]).toMatchObject({ target: 'b', pointer: '/states/a/always/0' });
    expect('onDone' in (r.ir?.root.states['b'] ?? {})).toBe(false);
    expect('always' in (r.ir?.root.states['b'] ?? {})).toBe(false);
  });
});

describe('on_done: the parallel review joins by itself', () => {
  const ir = fixture('test/fixtures/parallel-review/purchase_review.yaml');
  const proc = compileProcedure(ir);
  const send = (
    s: InstanceState,
    type: string,
    actor: Actor,
    data?: Record<string, never | string | number>,
  ) => applyEvent(proc, s, { type, actor, ...(data ? { data } : {}) }, 1000);

  it('moves to ordering in the step that completes the second region, with on_done actions and effects', () => {
    let s = startInstance(proc, {}, requester, 0).state;
    s = send(s, 'SUBMIT', requester, { item: 'laptop', amount: 900 }).state;
    s = send(s, 'COMMENT', requester, { text: 'urgent' }).state;
    expect(leafPaths(proc, s.value)).toEqual(['review.finance.pending', 'review.legal.pending']);
    s = send(s, 'APPROVE_TERMS', legal).state;
    expect(leafPaths(proc, s.value)).toEqual(['review.finance.pending', 'review.legal.approved']);
    const step = send(s, 'APPROVE_BUDGET', finance);
    expect(step.record).toMatchObject({
      event: 'APPROVE_BUDGET',
      from: ['review.finance.pending', 'review.legal.approved'],
      to: ['ordering'],
    });
    expect(step.state.context).toMatchObject({ outcome: 'approved', comments: 1 });
    expect(step.effects).toEqual([expect.objectContaining({ kind: 'notify', to: 'buyer' })]);
    expect(describeInstance(proc, step.state).available).toEqual({ buyer: ['ORDER'] });
  });

  it('keeps the amount limit and separation of duties inside the regions', () => {
    let s = startInstance(proc, {}, requester, 0).state;
    s = send(s, 'SUBMIT', requester, { item: 'server', amount: 50000 }).state;
    expect(explainRejection(proc, s, { type: 'APPROVE_BUDGET', actor: finance }, 1)).toMatchObject({
      code: 'GUARD_FALSE',
      message: 'APPROVE_BUDGET refused: condition not met: ctx.amount <= 10000.0',
    });
    const both: Actor = { id: 'bo', roles: ['cfo', 'legal'] };
    s = send(s, 'APPROVE_BUDGET', both).state;
    expect(explainRejection(proc, s, { type: 'APPROVE_TERMS', actor: both }, 1)).toMatchObject({
      code: 'DUTY_CONFLICT',
    });
  });

  it('is proved: no flags, yet only approved purchases reach ordering, by two different people', () => {
    const result = verifyProcedure(ir);
    expect(result.loops).toEqual([]);
    expect(result.exhaustive).toBe(true);
    expect(result.invariants.filter((r) => !r.holds)).toEqual([]);
  });

  it('the verifier takes on_done only when every region is final (a missing assignment breaks the proof)', () => {
    const text = readFileSync('test/fixtures/parallel-review/purchase_review.yaml', 'utf8');
    // Without the join's assignment, "only approved purchases reach ordering" fails at the join.
    // (`outcome` given at start: a field nobody can preset starts absent, and the proof would hold.)
    const broken = irOf(
      text
        .replace(`        - assign: { outcome: "'approved'" }\n`, '')
        .replace(
          'schema: { enum: [approved, rejected] } }',
          'schema: { enum: [approved, rejected] }, input: true }',
        ),
      'broken.yaml',
    );
    const r = verifyProcedure(broken).invariants.find((i) => i.id === 'approved_means_ordering');
    expect(r?.holds).toBe(false);
    expect(r?.counterexample?.map((s) => s.to.join('+'))).toEqual([
      'draft',
      'review.finance.pending+review.legal.pending',
      expect.stringMatching(/approved/),
      'ordering',
    ]);
  });
});

describe('always: routing by the context', () => {
  const ir = fixture('test/fixtures/eventless/expense_routing.yaml');
  const proc = compileProcedure(ir);
  const start = (amount: number) => startInstance(proc, { amount }, { id: 'c', roles: ['claimant'] }, 0);

  it('routes at the start by the amount', () => {
    expect(leafPaths(proc, start(50).state.value)).toEqual(['approved']);
    expect(start(50).state.done).toBe(true);
    expect(leafPaths(proc, start(5000).state.value)).toEqual(['manager_review']);
    expect(start(50000).state).toMatchObject({ value: 'director_review', context: { route: 'director' } });
    expect('_eventless' in start(50000).state.context).toBe(false);
  });

  it('routes again after a revision, in the same step as the event', () => {
    let s = start(50000).state;
    s = applyEvent(proc, s, { type: 'RETURN', actor: { id: 'd', roles: ['director'] } }, 1).state;
    const step = applyEvent(
      proc,
      s,
      { type: 'RESUBMIT', actor: { id: 'c', roles: ['claimant'] }, data: { amount: 2000 } },
      2,
    );
    expect(step.record).toMatchObject({ from: ['revising'], to: ['manager_review'] });
    expect(step.state.context).toMatchObject({ amount: 2000, route: 'manager', revisions: 1 });
  });

  it('is proved, and cannot loop', () => {
    const result = verifyProcedure(ir);
    expect(result.loops).toEqual([]);
    expect(result.invariants.filter((r) => !r.holds)).toEqual([]);
  });
});

describe('eventless loops', () => {
  const looping = `
initial: a
states:
  a:
    title: { zh: 甲, en: A }
    on: { GO: { target: b, roles: staff } }
  b:
    title: { zh: 乙, en: B }
    always: { target: c, guard: '!ctx.ok', actions: [{ assign: { n: ctx.n + 1 } }] }
    on: { BACK: { target: a, roles: staff } }
  c:
    title: { zh: 丙, en: C }
    always: { target: b }
    on: { BACK: { target: a, roles: staff } }
`;

  it('the verifier finds the cycle and reports it at its first transition, positioned', () => {
    const text = HEAD + looping;
    const loaded = validateProcedureText(text, 't.yaml');
    const result = verifyProcedure(loaded.ir!);
    expect(result.loops).toEqual([
      { pointers: ['/states/b/always/0', '/states/c/always/0'], states: [expect.stringMatching(/^[bc]$/)] },
    ]);
    const [d] = eventlessLoopDiagnostics(result, 't.yaml', loaded.positions);
    expect(d).toMatchObject({
      code: 'PROC_EVENTLESS_LOOP',
      line: 21,
      column: 5,
      pointer: '/states/b/always/0',
    });
    expect(d?.message).toContain('/states/b/always/0 → /states/c/always/0');
  });

  it('a definition that can loop is not deployable: the draft pipeline refuses it, positioned', () => {
    const a = assessDraft(HEAD + looping, 't.yaml', new Map());
    expect(a.valid).toBe(false);
    expect(a.diagnostics).toEqual([
      expect.objectContaining({ code: 'PROC_EVENTLESS_LOOP', line: 21, column: 5, severity: 'error' }),
    ]);
  });

  it('a guard its own actions make false ends the cycle: no loop', () => {
    const fixed = looping.replace(`assign: { n: ctx.n + 1 }`, `assign: { ok: 'true' }`);
    expect(verifyProcedure(validate(fixed).ir!).loops).toEqual([]);
  });

  it('the runtime caps the microsteps of one step, so even a looping definition cannot hang', () => {
    const proc = compileProcedure(validate(looping).ir!);
    let s = startInstance(proc, {}, { id: 's', roles: ['staff'] }, 0).state;
    s = applyEvent(proc, s, { type: 'GO', actor: { id: 's', roles: ['staff'] } }, 1).state;
    // Each b → c is counted; c → b too: the cap stops the macrostep.
    expect(s.context['n']).toBe(MAX_EVENTLESS_STEPS / 2);
    expect('_eventless' in s.context).toBe(false);
    // The next step starts a fresh count.
    s = applyEvent(proc, s, { type: 'BACK', actor: { id: 's', roles: ['staff'] } }, 2).state;
    s = applyEvent(proc, s, { type: 'GO', actor: { id: 's', roles: ['staff'] } }, 3).state;
    expect(s.context['n']).toBe(MAX_EVENTLESS_STEPS);
  });
});
