/**
 * `checkTransition`, the one acceptance rule: its refusals in order, and that the machine's guard,
 * the validator's explanation and the per-role availability all agree with it.
 */
import { describe, expect, it } from 'vitest';
import { checkTransition } from '../../workflows/core/acceptance.ts';
import { compileProcedure, type CompiledProcedure } from '../../workflows/core/compile.ts';
import type { Actor, EventInput, TransitionIR } from '../../workflows/core/ir.ts';
import { REJECTION_CODES, isRejectionCode } from '../../workflows/core/rejections.ts';
import {
  applyEvent,
  availableTo,
  explainRejection,
  startInstance,
  type InstanceState,
} from '../../workflows/core/runtime.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';

const T = '{ zh: 甲, en: A }';
const sam: Actor = { id: 'sam', roles: ['staff'] };
const hana: Actor = { id: 'hana', roles: ['head'] };

/** SUBMIT (staff) then DECIDE (head, not the submitter): approve when data.ok, else a 2nd branch. */
const proc: CompiledProcedure = (() => {
  const { ir, diagnostics } = validateProcedureText(
    `id: t
version: 1.0.0
title: ${T}
description: ${T}
roles: { staff: ${T}, head: ${T} }
context: { days: { type: integer, default: 3 } }
events:
  SUBMIT: { title: ${T} }
  DECIDE:
    title: ${T}
    data: { type: object, properties: { ok: { type: boolean }, why: { type: string } }, required: [ok], additionalProperties: false }
duties: [{ event: DECIDE, distinct_from: [SUBMIT] }]
initial: draft
states:
  draft: { title: ${T}, on: { SUBMIT: { target: submitted, roles: [staff, head] } } }
  submitted:
    title: ${T}
    on:
      DECIDE:
        - { target: approved, roles: head, guard: "data.ok && ctx.days < 5" }
        - { target: draft, roles: head, data: { required: [why] } }
  approved: { title: ${T}, type: final }
`,
    't.yaml',
  );
  if (!ir) throw new Error(JSON.stringify(diagnostics));
  return compileProcedure(ir);
})();

const [approve, sendBack] = proc.ir.root.states.submitted!.on.DECIDE! as [TransitionIR, TransitionIR];

function submitted(by: Actor = sam): InstanceState {
  const started = startInstance(proc, {}, sam, 0).state;
  return applyEvent(proc, started, { type: 'SUBMIT', actor: by }, 1).state;
}

const decide = (actor: Actor, data: Record<string, unknown>) => ({
  type: 'DECIDE',
  actor,
  data: data as EventInput['data'],
  at: 2,
});

describe('checkTransition', () => {
  const s = submitted();

  it('accepts what every rule allows', () => {
    expect(checkTransition(proc, s.context, decide(hana, { ok: true }), approve)).toBeUndefined();
  });

  it('refuses, in order: role, separation of duties, data, guard', () => {
    const code = (actor: Actor, data: Record<string, unknown>, t = approve, state = s) =>
      checkTransition(proc, state.context, decide(actor, data), t)?.code;
    expect(code(sam, { nonsense: 1 })).toBe('ROLE_NOT_ALLOWED');
    const both: Actor = { id: 'hana', roles: ['staff', 'head'] };
    expect(code(both, { nonsense: 1 }, approve, submitted(both))).toBe('DUTY_CONFLICT');
    expect(code(hana, { nonsense: 1 })).toBe('INVALID_DATA');
    expect(code(hana, { ok: true, why: 'a\u0000b' })).toBe('INVALID_DATA');
    expect(code(hana, { ok: false })).toBe('GUARD_FALSE');
    // A transition's own data schema selects among branches: its failure is a condition not met.
    expect(code(hana, { ok: false }, sendBack)).toBe('GUARD_FALSE');
    expect(code(hana, { ok: false, why: 'late' }, sendBack)).toBeUndefined();
  });

  it('without the data, skips the schemas and counts a guard that reads data as possibly true', () => {
    const event = { type: 'DECIDE', actor: hana, at: 2 };
    expect(checkTransition(proc, s.context, event, approve, { withoutData: true })).toBeUndefined();
    expect(checkTransition(proc, s.context, event, sendBack, { withoutData: true })).toBeUndefined();
    expect(
      checkTransition(proc, s.context, { ...event, actor: sam }, approve, { withoutData: true })?.code,
    ).toBe('ROLE_NOT_ALLOWED');
  });

  it('the machine guard, the explanation and the availability agree with it', () => {
    const snapshot = proc.machine.resolveState({ value: s.value, context: s.context });
    const cases: [Actor, Record<string, unknown>][] = [
      [sam, { ok: true }],
      [hana, { ok: true }],
      [hana, { ok: false }],
      [hana, { ok: false, why: 'late' }],
      [hana, { wrong: 1 }],
    ];
    for (const [actor, data] of cases) {
      const event = decide(actor, data);
      const accepted = [approve, sendBack].some((t) => !checkTransition(proc, s.context, event, t));
      expect(snapshot.can(event)).toBe(accepted);
      expect(explainRejection(proc, s, event, 2) === undefined).toBe(accepted);
    }
    expect(availableTo(proc, s, hana, 2)).toEqual(['DECIDE']);
    expect(availableTo(proc, s, sam, 2)).toEqual([]);
  });
});

describe('explainRejection', () => {
  const s = submitted();

  it('names the furthest refusal among the candidates: the guard reasons of every branch', () => {
    const r = explainRejection(proc, s, decide(hana, { ok: false }), 2);
    expect(r?.code).toBe('GUARD_FALSE');
    expect(r?.message).toContain('condition not met: data.ok && ctx.days < 5');
    expect(r?.message).toContain('missing required field "why"');
  });

  it('refuses a malformed event as BAD_EVENT and a malformed actor as BAD_ACTOR', () => {
    expect(explainRejection(proc, s, null as unknown as EventInput, 2)?.code).toBe('BAD_EVENT');
    expect(explainRejection(proc, s, { actor: hana } as unknown as EventInput, 2)?.code).toBe('BAD_EVENT');
    expect(explainRejection(proc, s, { type: 'DECIDE' } as unknown as EventInput, 2)?.code).toBe('BAD_ACTOR');
  });

  it('applyEvent throws the explanation when the machine refuses', () => {
    expect(() => applyEvent(proc, s, { type: 'DECIDE', actor: sam, data: { ok: true } }, 2)).toThrow(
      expect.objectContaining({
        name: 'EventRejectedError',
        rejection: expect.objectContaining({ code: 'ROLE_NOT_ALLOWED' }),
      }),
    );
    expect(applyEvent(proc, s, { type: 'DECIDE', actor: hana, data: { ok: true } }, 2).state.value).toBe(
      'approved',
    );
  });

  it('every code it gives is one of the closed set', () => {
    expect(REJECTION_CODES).toContain('BAD_EVENT');
    expect(isRejectionCode('GUARD_FALSE')).toBe(true);
    expect(isRejectionCode('NOPE')).toBe(false);
  });
});
