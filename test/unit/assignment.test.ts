/**
 * Assignment (`core/assignment.ts`, `core/assignment-rule.ts`): who may claim, release, delegate
 * and assign; the assignee's roles and duties; the acceptance rule "only the assignee sends";
 * `assignment: none | required`; assignments dropped when the state is left.
 */
import { describe, expect, it } from 'vitest';
import { compileProcedure, type CompiledProcedure } from '../../workflows/core/compile.ts';
import {
  applyAssignment,
  assigneeList,
  resolveAssignment,
  tasksOf,
  withoutStaleAssignees,
  type AssignInput,
} from '../../workflows/core/assignment.ts';
import { sourcePathOf } from '../../workflows/core/assignment-rule.ts';
import type { Actor } from '../../workflows/core/ir.ts';
import type { Rejection } from '../../workflows/core/rejections.ts';
import {
  applyEvent,
  availableTo,
  describeInstance,
  explainRejection,
  startInstance,
  type InstanceState,
} from '../../workflows/core/runtime.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';

const T = '{ zh: 甲, en: A }';
const sam: Actor = { id: 'sam', roles: ['staff'] };
const rita: Actor = { id: 'rita', roles: ['reviewer'] };
const remy: Actor = { id: 'remy', roles: ['reviewer'] };
const max: Actor = { id: 'max', roles: ['boss'] };

function compile(extra: { assigners?: string; reviewAssignment?: string } = {}): CompiledProcedure {
  const { ir, diagnostics } = validateProcedureText(
    `id: t
version: 1.0.0
title: ${T}
description: ${T}
roles: { staff: ${T}, reviewer: ${T}, boss: ${T} }
${extra.assigners ?? 'assigners: [boss]'}
events:
  SUBMIT: { title: ${T} }
  APPROVE: { title: ${T} }
  CHECK_A: { title: ${T} }
  CHECK_B: { title: ${T} }
  WITHDRAW: { title: ${T} }
duties: [{ event: APPROVE, distinct_from: [SUBMIT], message: { zh: 审批人不是申请人, en: The approver is not the submitter } }]
initial: draft
states:
  draft: { title: ${T}, on: { SUBMIT: { target: review, roles: [staff, reviewer] } } }
  review:
    title: ${T}
    ${extra.reviewAssignment ?? ''}
    on:
      APPROVE: { target: checks, roles: [reviewer, staff] }
  checks:
    type: parallel
    title: ${T}
    on: { WITHDRAW: { target: done, roles: [staff] } }
    states:
      a:
        title: ${T}
        initial: p
        states:
          p: { title: ${T}, assignment: none, on: { CHECK_A: { target: ok, roles: staff } } }
          ok: { title: ${T}, type: final }
      b:
        title: ${T}
        initial: p
        states:
          p: { title: ${T}, on: { CHECK_B: { target: ok, roles: reviewer } } }
          ok: { title: ${T}, type: final }
  done: { title: ${T}, type: final }
`,
    't.yaml',
  );
  if (!ir) throw new Error(JSON.stringify(diagnostics));
  return compileProcedure(ir);
}

const proc = compile();

function inReview(p = proc, by: Actor = sam): InstanceState {
  const started = startInstance(p, {}, sam, 0).state;
  return applyEvent(p, started, { type: 'SUBMIT', actor: by }, 1).state;
}

function assign(p: CompiledProcedure, s: InstanceState, input: AssignInput): InstanceState {
  const out = resolveAssignment(p, s, input);
  if ('rejection' in out) throw new Error(out.rejection.message);
  return applyAssignment(p, s, out.assignment, input.actor, 5).state;
}

function refusal(p: CompiledProcedure, s: InstanceState, input: AssignInput): Rejection {
  const out = resolveAssignment(p, s, input);
  if (!('rejection' in out)) throw new Error(`accepted: ${JSON.stringify(out.assignment)}`);
  return out.rejection;
}

describe('assign: who may do what', () => {
  it('a holder of an awaited role claims a free task; the state may be left out when one leaf awaits', () => {
    const s = inReview();
    const out = resolveAssignment(proc, s, { assignee: 'rita', actor: rita });
    expect(out).toEqual({ assignment: { state: 'review', from: null, to: 'rita', act: 'claim' } });
  });

  it('a second claim loses and is told who holds the task', () => {
    const s = assign(proc, inReview(), { assignee: 'rita', actor: rita });
    const r = refusal(proc, s, { assignee: 'remy', actor: remy });
    expect(r.code).toBe('ASSIGNMENT_CONFLICT');
    expect(r.message).toContain('already held by rita');
  });

  it('the assignee releases or delegates to another holder of the role; nobody else may', () => {
    const s = assign(proc, inReview(), { assignee: 'rita', actor: rita });
    expect(resolveAssignment(proc, s, { assignee: null, actor: rita })).toMatchObject({
      assignment: { act: 'unclaim', from: 'rita', to: null },
    });
    expect(
      resolveAssignment(proc, s, { assignee: 'remy', assigneeRoles: ['reviewer'], actor: rita }),
    ).toMatchObject({ assignment: { act: 'delegate', to: 'remy' } });
    expect(refusal(proc, s, { assignee: null, actor: remy }).code).toBe('ASSIGNMENT_NOT_ALLOWED');
    expect(refusal(proc, s, { assignee: 'sam', assigneeRoles: ['reviewer'], actor: remy }).code).toBe(
      'ASSIGNMENT_NOT_ALLOWED',
    );
  });

  it('an assigner assigns and reassigns; a non-assigner may not assign someone else', () => {
    const s = inReview();
    const r = refusal(proc, s, { assignee: 'remy', assigneeRoles: ['reviewer'], actor: rita });
    expect(r).toMatchObject({ code: 'ASSIGNMENT_NOT_ALLOWED' });
    expect(r.message).toContain('boss');
    const mine = assign(proc, s, { assignee: 'rita', actor: rita });
    expect(
      resolveAssignment(proc, mine, { assignee: 'remy', assigneeRoles: ['reviewer'], actor: max }),
    ).toMatchObject({ assignment: { act: 'assign', from: 'rita', to: 'remy' } });
  });

  it('`assigners:` must name declared roles (a positioned diagnostic)', () => {
    const { diagnostics } = validateProcedureText(
      `id: t\nversion: 1.0.0\ntitle: ${T}\ndescription: ${T}\nroles: { staff: ${T} }\nassigners: [staf]\n` +
        `events: { GO: { title: ${T} } }\ninitial: a\nstates:\n  a: { title: ${T}, assignment: required, on: { GO: { target: b, roles: staff } } }\n  b: { title: ${T}, type: final }\n`,
      't.yaml',
    );
    expect(diagnostics.map((d) => [d.code, d.pointer, d.line])).toEqual([
      ['PROC_UNKNOWN_ROLE', '/assigners/0', 6],
    ]);
    expect(diagnostics[0]?.message).toContain('did you mean "staff"');
  });

  it('default assigners are quality_manager and general_manager where declared', () => {
    const p = compile({ assigners: '' });
    expect(p.ir.assigners).toBeUndefined();
    // This procedure declares neither: nobody assigns others, claims still work.
    const s = inReview(p);
    expect(refusal(p, s, { assignee: 'rita', assigneeRoles: ['reviewer'], actor: max }).code).toBe(
      'ASSIGNMENT_NOT_ALLOWED',
    );
  });

  it('refuses an unqualified assignee, naming the roles the state awaits', () => {
    const r = refusal(proc, inReview(), { assignee: 'bea', assigneeRoles: ['boss'], actor: max });
    expect(r.code).toBe('ASSIGNEE_NOT_QUALIFIED');
    expect(r.message).toContain('reviewer, staff');
  });

  it('refuses an assignee barred by a separation-of-duties rule, naming the rule', () => {
    // rita submitted: she may not approve, so she may not hold the review.
    const s = inReview(proc, rita);
    const r = refusal(proc, s, { assignee: 'rita', actor: rita });
    expect(r.code).toBe('DUTY_CONFLICT');
    expect(r.message).toContain('The approver is not the submitter');
    expect(refusal(proc, s, { assignee: 'rita', assigneeRoles: ['reviewer'], actor: max }).code).toBe(
      'DUTY_CONFLICT',
    );
  });

  it('needs the assignee roles for someone else, and checks them with the authenticator', () => {
    const s = inReview();
    expect(refusal(proc, s, { assignee: 'remy', actor: max }).code).toBe('BAD_ASSIGNMENT');
    const out = resolveAssignment(
      proc,
      s,
      { assignee: 'remy', assigneeRoles: ['reviewer'], assigneeAssertion: 'x', actor: max },
      (actor) =>
        actor.id === 'remy'
          ? { code: 'BAD_ACTOR', message: 'signature does not verify', zh: '签名无法验证' }
          : undefined,
    );
    expect(out).toMatchObject({ rejection: { code: 'BAD_ASSIGNMENT' } });
  });

  it('parallel regions: the state must be named; `assignment: none` opts out', () => {
    let s = inReview();
    s = applyEvent(proc, s, { type: 'APPROVE', actor: remy }, 2).state;
    expect(tasksOf(proc, s).map((t) => [t.state, t.assignment, t.roles])).toEqual([
      ['checks.a.p', 'none', ['staff']],
      ['checks.b.p', 'optional', ['reviewer']],
    ]);
    // Only one leaf can be assigned, so it may still be left out.
    expect(resolveAssignment(proc, s, { assignee: 'rita', actor: rita })).toMatchObject({
      assignment: { state: 'checks.b.p' },
    });
    expect(refusal(proc, s, { state: 'checks.a.p', assignee: 'sam', actor: sam }).code).toBe(
      'ASSIGNMENT_NOT_ALLOWED',
    );
    expect(refusal(proc, s, { state: 'review', assignee: 'rita', actor: rita }).code).toBe('BAD_ASSIGNMENT');
  });

  it('refuses malformed input and finished instances', () => {
    const s = inReview();
    expect(refusal(proc, s, { assignee: '', actor: rita }).code).toBe('BAD_ASSIGNMENT');
    expect(refusal(proc, s, { assignee: 'rita', actor: { id: '', roles: [] } }).code).toBe('BAD_ACTOR');
    expect(refusal(proc, { ...s, done: true }, { assignee: 'rita', actor: rita }).code).toBe(
      'INSTANCE_FINISHED',
    );
  });
});

describe('the acceptance rule: only the assignee sends', () => {
  it('refuses a holder of the role who is not the assignee (NOT_ASSIGNEE), accepts the assignee', () => {
    const s = assign(proc, inReview(), { assignee: 'rita', actor: rita });
    const r = explainRejection(proc, s, { type: 'APPROVE', actor: remy }, 3);
    expect(r?.code).toBe('NOT_ASSIGNEE');
    expect(r?.message).toContain('assigned to rita');
    expect(explainRejection(proc, s, { type: 'APPROVE', actor: rita }, 3)).toBeUndefined();
    expect(availableTo(proc, s, remy, 3)).toEqual([]);
    expect(availableTo(proc, s, rita, 3)).toEqual(['APPROVE']);
    // The role is still awaited (the inbox lists the instance for the role).
    expect(describeInstance(proc, s).awaiting).toEqual(['reviewer', 'staff']);
    // A role that may not send is still told so first.
    expect(explainRejection(proc, s, { type: 'APPROVE', actor: max }, 3)?.code).toBe('ROLE_NOT_ALLOWED');
  });

  it('without an assignee any holder sends; `required` waits for one', () => {
    expect(explainRejection(proc, inReview(), { type: 'APPROVE', actor: remy }, 3)).toBeUndefined();
    const p = compile({ reviewAssignment: 'assignment: required' });
    const s = inReview(p);
    const r = explainRejection(p, s, { type: 'APPROVE', actor: remy }, 3);
    expect(r).toMatchObject({ code: 'NOT_ASSIGNEE' });
    expect(r?.message).toContain('must be assigned');
    const claimed = assign(p, s, { assignee: 'remy', actor: remy });
    expect(explainRejection(p, claimed, { type: 'APPROVE', actor: remy }, 3)).toBeUndefined();
  });

  it('events declared on an enclosing state are not governed by a leaf assignment', () => {
    let s = applyEvent(proc, inReview(), { type: 'APPROVE', actor: remy }, 2).state;
    s = assign(proc, s, { state: 'checks.b.p', assignee: 'rita', actor: rita });
    expect(explainRejection(proc, s, { type: 'WITHDRAW', actor: sam }, 3)).toBeUndefined();
    expect(explainRejection(proc, s, { type: 'CHECK_B', actor: remy }, 3)?.code).toBe('NOT_ASSIGNEE');
  });

  it('the machine guard applies it too (applyEvent refuses the non-assignee)', () => {
    const s = assign(proc, inReview(), { assignee: 'rita', actor: rita });
    expect(() => applyEvent(proc, s, { type: 'APPROVE', actor: remy }, 3)).toThrow(/assigned to rita/);
  });
});

describe('assignment records and their lifetime', () => {
  it('records old → new as a `$assign` entry with the next seq, state unchanged', () => {
    const s = inReview();
    const out = resolveAssignment(proc, s, { assignee: 'rita', actor: rita });
    if (!('assignment' in out)) throw new Error('refused');
    const { state, record } = applyAssignment(proc, s, out.assignment, rita, 7);
    expect(state.seq).toBe(s.seq + 1);
    expect(state.value).toEqual(s.value);
    expect(record).toMatchObject({
      seq: s.seq + 1,
      event: '$assign',
      actor: rita,
      from: ['review'],
      to: ['review'],
      data: { state: 'review', from: null, to: 'rita', act: 'claim' },
    });
    expect(assigneeList(state)).toEqual(['rita']);
  });

  it('is dropped when the state is left, kept otherwise', () => {
    const s = assign(proc, inReview(), { assignee: 'rita', actor: rita });
    expect(withoutStaleAssignees(proc, s)).toBe(s);
    const next = applyEvent(proc, s, { type: 'APPROVE', actor: rita }, 3).state;
    expect(assigneeList(withoutStaleAssignees(proc, next))).toEqual([]);
    // An instance that never had one is returned as it is.
    const plain = inReview();
    expect(withoutStaleAssignees(proc, plain)).toBe(plain);
  });

  it('finds the source state of a transition from its pointer', () => {
    expect(sourcePathOf('/states/checks/states/b/states/p/on/CHECK_B/0')).toBe('checks.b.p');
    expect(sourcePathOf('/on/X/0')).toBe('');
  });
});
