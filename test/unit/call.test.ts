/**
 * Called procedures (`call:`): schema and checker (within a definition and against the callee,
 * positioned), compiler + pure runtime (the outcome events), verifier (each outcome possible) — on
 * the fixtures `test/fixtures/call/{loan_application,credit_check}.yaml` and variants of them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileProcedure } from '../../workflows/core/compile.ts';
import {
  calledWorkflowId,
  callEventType,
  callOutcomeEvent,
  neededCalls,
  parseCallEvent,
} from '../../workflows/core/call.ts';
import type { Actor, ProcedureIR } from '../../workflows/core/ir.ts';
import {
  applySystemEvent,
  describeInstance,
  explainRejection,
  leafPaths,
  startInstance,
} from '../../workflows/core/runtime.ts';
import { SYSTEM_ACTOR } from '../../workflows/core/machine-context.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';
import { verifyProcedure } from '../../workflows/core/verify.ts';
import { assessDrafts } from '../../worker/drafts.ts';
import { DIAGNOSTIC_TEXT } from '../../workflows/core/diagnostic-texts.ts';

const CALLER = readFileSync('test/fixtures/call/loan_application.yaml', 'utf8');
const CALLEE = readFileSync('test/fixtures/call/credit_check.yaml', 'utf8');

const irOf = (text: string, file = 'x.yaml'): ProcedureIR => {
  const r = validateProcedureText(text, file);
  if (!r.ir) throw new Error(JSON.stringify(r.diagnostics, null, 2));
  return r.ir;
};
/** Diagnostics of the pair (caller variant, callee), as `CODE line:col` of the caller's file. */
const pairCodes = (caller: string, callee = CALLEE): string[] =>
  assessDrafts(
    [
      { yaml: caller, file: 'loan.yaml' },
      { yaml: callee, file: 'credit.yaml' },
    ],
    new Map(),
    { prove: false },
  ).diagnostics.map((d) => `${d.code} ${d.file}:${d.line}:${d.column}`);
const lineOf = (text: string, needle: string): number =>
  text.split('\n').findIndex((l) => l.includes(needle)) + 1;

const officer: Actor = { id: 'olga', roles: ['officer'] };

describe('call: schema and checker', () => {
  it('the fixtures are valid together, and the caller alone names an unknown procedure', () => {
    expect(pairCodes(CALLER)).toEqual([]);
    const alone = assessDrafts([{ yaml: CALLER, file: 'loan.yaml' }], new Map(), { prove: false });
    const line = lineOf(CALLER, 'procedure: credit_check');
    expect(alone.diagnostics.map((d) => `${d.code} ${d.line}:${d.column}`)).toEqual([
      `PROC_UNKNOWN_PROCEDURE ${line}:18`,
    ]);
  });

  it('on_done must name exactly the callee final states (unknown and unhandled, positioned)', () => {
    const text = CALLER.replace('        rejected:\n', '        refused:\n');
    expect(pairCodes(text)).toEqual([
      `PROC_CALL_UNKNOWN_OUTCOME loan.yaml:${lineOf(text, 'refused:')}:9`,
      `PROC_CALL_UNHANDLED_OUTCOME loan.yaml:${lineOf(text, 'on_done:')}:7`,
    ]);
  });

  it('output: an unknown callee field, a field this procedure lacks, a type that does not fit', () => {
    const unknownTheirs = CALLER.replace('output: { grade: grade }', 'output: { grade: score }');
    expect(pairCodes(unknownTheirs)).toEqual([
      `PROC_CALL_OUTPUT_FIELD loan.yaml:${lineOf(unknownTheirs, 'output:')}:28`,
    ]);
    const unknownMine = CALLER.replace('output: { grade: grade }', 'output: { mark: grade }');
    expect(validateProcedureText(unknownMine, 'loan.yaml').diagnostics.map((d) => d.code)).toEqual([
      'PROC_CALL_OUTPUT_FIELD',
    ]);
    const mistyped = CALLER.replace('output: { grade: grade }', 'output: { checks: grade }');
    expect(pairCodes(mistyped)).toEqual([
      `PROC_CALL_OUTPUT_TYPE loan.yaml:${lineOf(mistyped, 'output:')}:29`,
    ]);
    // The callee's grade may be any of a, b, c; a caller that only takes a and b is refused.
    const narrower = CALLER.replace(
      'grade: { type: string, title: { en: Grade }, schema: { enum: [a, b, c] } }',
      'grade: { type: string, title: { en: Grade }, schema: { enum: [a, b] } }',
    );
    expect(pairCodes(narrower)).toEqual([
      `PROC_CALL_OUTPUT_TYPE loan.yaml:${lineOf(narrower, 'output:')}:28`,
    ]);
  });

  it("the input is checked against the callee's start schema (the start action's rules)", () => {
    const missing = CALLER.replace(
      'input: { applicant: ctx.applicant, amount: ctx.amount }',
      'input: { amount: ctx.amount }',
    );
    expect(pairCodes(missing)).toEqual([`PROC_START_INPUT_MISMATCH loan.yaml:${lineOf(missing, 'call:')}:5`]);
    const wrong = CALLER.replace('applicant: ctx.applicant,', 'applicant: ctx.checks,');
    expect(pairCodes(wrong)).toEqual([`PROC_START_INPUT_MISMATCH loan.yaml:${lineOf(wrong, 'input:')}:27`]);
    const extra = CALLER.replace('amount: ctx.amount }', 'amount: ctx.amount, colour: ctx.applicant }');
    expect(pairCodes(extra)).toEqual([`PROC_START_INPUT_MISMATCH loan.yaml:${lineOf(extra, 'input:')}:62`]);
  });

  it('within the definition: input reads only ctx, output only under on_done, a call on an atomic state', () => {
    const data = CALLER.replace('amount: ctx.amount }', 'amount: data.amount }');
    expect(validateProcedureText(data, 'l.yaml').diagnostics.map((d) => d.code)).toEqual([
      'PROC_UNKNOWN_VARIABLE',
    ]);
    const failedOutput = CALLER.replace(
      '      on_failed:\n        target: manual_review\n',
      '      on_failed:\n        target: manual_review\n        output: { grade: grade }\n',
    );
    const d = validateProcedureText(failedOutput, 'l.yaml').diagnostics;
    expect(d.map((x) => `${x.code} ${x.line}`)).toEqual([
      `PROC_CALL_MISPLACED ${lineOf(failedOutput, 'output: { grade: grade }\n'.trim()) + 7}`,
    ]);
    // A call's outcome needs a target, and its callee's on_done at least one entry (schema).
    const noTarget = CALLER.replace(
      '      on_cancelled:\n        target: manual_review\n',
      '      on_cancelled:\n',
    );
    expect(validateProcedureText(noTarget, 'l.yaml').diagnostics.map((x) => x.code)).toContain('PROC_SCHEMA');
    expect(DIAGNOSTIC_TEXT.PROC_CALL_UNKNOWN_OUTCOME.zh).toBeTruthy();
  });

  it('a call on a compound state is refused at the call key', () => {
    const text = `
id: t
version: 1.0.0
languages: [en]
title: { en: T }
description: { en: T }
roles: { staff: { en: Staff } }
events: { GO: { title: { en: Go } } }
initial: a
states:
  a:
    title: { en: A }
    initial: x
    states:
      x: { title: { en: X }, on: { GO: { target: b, roles: staff } } }
    call:
      procedure: other
      on_done: { ok: { target: b } }
      on_failed: { target: b }
      on_cancelled: { target: b }
  b: { title: { en: B }, type: final }
`;
    expect(
      validateProcedureText(text, 't.yaml').diagnostics.map((d) => `${d.code} ${d.line}:${d.column}`),
    ).toEqual(['PROC_CALL_MISPLACED 16:5']);
  });
});

describe('call: compiler and pure runtime', () => {
  const proc = compileProcedure(irOf(CALLER));
  const start = () => startInstance(proc, { applicant: 'ann', amount: 500 }, officer, 1000);

  it('the calling state needs its call with the input evaluated; people only send its own events', () => {
    const s = start().state;
    expect(leafPaths(proc, s.value)).toEqual(['checking']);
    expect(neededCalls(proc.nodes, s.value, s.context, s.done)).toEqual([
      { path: 'checking', procedure: 'credit_check', input: { applicant: 'ann', amount: 500 } },
    ]);
    expect(describeInstance(proc, s).available).toEqual({ officer: ['WITHDRAW'] });
    expect(parseCallEvent('$call/checking/done/approved')).toEqual({
      state: 'checking',
      outcome: 'approved',
    });
    expect(parseCallEvent('$call/checking/cancelled')).toEqual({ state: 'checking', outcome: 'cancelled' });
    expect(parseCallEvent('APPROVE')).toBeUndefined();
    expect(calledWorkflowId('loan-1', 'checking', 0, 'credit_check')).toBe(
      'credit_check-called-by-loan-1-checking-0',
    );
  });

  it('done in approved: the output is copied, then the actions run; the record names the engine event', () => {
    const s = start().state;
    const event = callOutcomeEvent(
      proc.nodes.get('checking')!,
      'cc-1',
      { kind: 'done', state: 'approved', context: { applicant: 'ann', amount: 500, grade: 'b' } },
      2000,
    );
    expect(event.type).toBe(callEventType('checking', { done: 'approved' }));
    const step = applySystemEvent(proc, s, event, SYSTEM_ACTOR, 2000)!;
    expect(leafPaths(proc, step.state.value)).toEqual(['offer']);
    expect(step.state.context).toMatchObject({ grade: 'b', outcome: 'offered', checks: 1 });
    expect(step.record).toMatchObject({
      event: '$call/checking/done/approved',
      from: ['checking'],
      to: ['offer'],
      data: { workflowId: 'cc-1', procedure: 'credit_check', outcome: 'approved', output: { grade: 'b' } },
    });
  });

  it('failed, cancelled, and a final state the call does not expect (counted as failed)', () => {
    const s = start().state;
    const node = proc.nodes.get('checking')!;
    for (const [result, type] of [
      [{ kind: 'failed', reason: 'start input rejected' }, '$call/checking/failed'],
      [{ kind: 'cancelled' }, '$call/checking/cancelled'],
      [{ kind: 'done', state: 'withdrawn', context: {} }, '$call/checking/failed'],
    ] as const) {
      const event = callOutcomeEvent(node, 'cc-1', result, 3000);
      expect(event.type).toBe(type);
      const step = applySystemEvent(proc, s, event, SYSTEM_ACTOR, 3000)!;
      expect(leafPaths(proc, step.state.value)).toEqual(['manual_review']);
      expect(step.state.context.outcome).toBe('review');
    }
  });

  it('a person cannot send an outcome event; RETRY re-enters the calling state (a new call)', () => {
    const s = start().state;
    expect(explainRejection(proc, s, { type: '$call/checking/cancelled', actor: officer }, 0)?.code).toBe(
      'UNKNOWN_EVENT',
    );
    const failed = applySystemEvent(
      proc,
      s,
      callOutcomeEvent(proc.nodes.get('checking')!, 'cc-1', { kind: 'cancelled' }, 1),
      SYSTEM_ACTOR,
      1,
    )!;
    expect(leafPaths(proc, failed.state.value)).toEqual(['manual_review']);
  });
});

describe('call: verifier', () => {
  it('proves the invariants with every outcome of the callee possible', () => {
    const r = verifyProcedure(irOf(CALLER));
    expect(r.invariants.map((i) => [i.id, i.holds])).toEqual([
      ['signed_only_after_offer', true],
      ['offer_only_when_checked', true],
      ['always_ends', true],
    ]);
  });

  it('finds the path through an outcome that breaks an invariant (cancelled straight to the offer)', () => {
    const text = CALLER.replace(
      '      on_cancelled:\n        target: manual_review\n',
      '      on_cancelled:\n        target: offer\n',
    );
    const r = verifyProcedure(irOf(text));
    const broken = r.invariants.find((i) => i.id === 'offer_only_when_checked')!;
    expect(broken.holds).toBe(false);
    expect(broken.counterexample?.map((s) => s.event)).toEqual(['$start', '$call/checking/cancelled']);
  });

  it('an output field takes any value of its domain: an invariant on it is not proved from the callee', () => {
    const text = CALLER.replace(
      'invariants:\n',
      "invariants:\n  - id: grade_a_only\n    kind: never_when\n    state: offer\n    when: ctx.grade == 'c'\n    description: { en: Only grade a }\n",
    );
    const r = verifyProcedure(irOf(text));
    const inv = r.invariants.find((i) => i.id === 'grade_a_only')!;
    expect(inv.holds).toBe(false);
    // `output` assigns the field: the invariant is not reported as reading a never-assigned one.
    expect(r.warnings.filter((w) => w.invariant === 'grade_a_only')).toEqual([]);
    expect(inv.counterexample?.at(-1)).toMatchObject({
      event: '$call/checking/done/approved',
      to: ['offer'],
    });
  });
});
