/**
 * A migration never ends a running called instance (`core/migration-calls.ts`): a move that would
 * leave a calling state whose call runs, drop that call, or make the state call another procedure
 * is refused (`CALL_RUNNING`, class `cannot_move`) by the plan — the dry run and the `migrate`
 * update alike; a move that keeps the state and its callee keeps the call. screened_request 1.0.0's
 * `checking` calls credit_check; 1.1.0 keeps that call; 2.0.0 calls score_check instead.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileProcedure } from '../../workflows/core/compile.ts';
import { hashProcedure } from '../../workflows/core/hash.ts';
import type { Json, ProcedureIR } from '../../workflows/core/ir.ts';
import { loadProcedure } from '../../workflows/core/load.ts';
import { planMigration } from '../../workflows/core/migration.ts';
import { resolveMigration } from '../../workflows/core/migration-step.ts';
import { applyEvent, startInstance, type InstanceState } from '../../workflows/core/runtime.ts';
import { formatProblems } from '../../workflows/core/schemas.ts';

const FIXTURES = path.join(import.meta.dirname, '../fixtures/migration-calls');
function load(file: string, edit: (t: string) => string = (t) => t): ProcedureIR {
  const r = loadProcedure(edit(readFileSync(path.join(FIXTURES, file), 'utf8')), file);
  if (!r.ir) throw new Error(JSON.stringify(r.diagnostics));
  return r.ir;
}
const V1 = load('v1/screened_request.yaml');
const V1B = load('v1b/screened_request.yaml');
const V2 = load('v2/screened_request.yaml');
/** 1.2.0: `checking` is mapped back to `review` (the calling state is left). */
const LEFT = load('v1b/screened_request.yaml', (t) =>
  t
    .replace('version: 1.1.0', 'version: 1.2.0')
    .replace('initial: review', 'migrate: { checking: review }\ninitial: review'),
);
/** 1.3.0: `checking` keeps its path but calls nothing any more. */
const NO_CALL: ProcedureIR = (() => {
  const ir = structuredClone(V1B);
  ir.version = '1.3.0';
  delete ir.root.states['checking']!.call;
  return ir;
})();

const staff = { id: 'sam', roles: ['project_staff'] };
const ann = { id: 'ann', roles: ['approver'] };
const admin = { id: 'ada', roles: ['admin'] };
const p1 = compileProcedure(V1);
const problemsOf = (ir: ProcedureIR) => {
  const proc = compileProcedure(ir);
  return (ctx: Record<string, Json>) => {
    const p = proc.schemas.startInputProblems(ctx);
    return p.length ? formatProblems(p) : undefined;
  };
};

/** An instance of 1.0.0 in `checking` (its call to credit_check started on entry). */
function checking(): InstanceState {
  const s = startInstance(p1, { client: 'acme', applicant: 'Li', amount: 5 }, staff, 1000).state;
  return applyEvent(p1, s, { type: 'APPROVE', actor: ann }, 2000).state;
}
const running = [{ state: 'checking', procedure: 'credit_check', workflowId: 'credit_check-called-1' }];

describe('a migration and the calls that run', () => {
  it('refuses a move that would make a calling state call another procedure while its call runs', () => {
    const out = planMigration(V1, V2, checking(), 5000, problemsOf(V2), running);
    expect(out.state).toBeUndefined();
    expect(out.plan).toMatchObject({ class: 'cannot_move', code: 'CALL_RUNNING', from: ['checking'] });
    expect(out.plan.message).toContain('credit_check-called-1');
    expect(out.plan.message).toContain('score_check');
    expect(out.plan.zh).toContain('credit_check-called-1');
    // With no call running (it ended, or the instance is elsewhere) the same move is allowed.
    expect(planMigration(V1, V2, checking(), 5000, problemsOf(V2), []).plan.class).toBe('moves');
  });

  it('refuses a move that leaves the calling state, or drops its call, while the call runs', () => {
    const left = planMigration(V1, LEFT, checking(), 5000, problemsOf(LEFT), running);
    expect(left.plan).toMatchObject({ class: 'cannot_move', code: 'CALL_RUNNING', to: ['review'] });
    expect(left.plan.message).toContain('leaves checking');
    const dropped = planMigration(V1, NO_CALL, checking(), 5000, problemsOf(NO_CALL), running);
    expect(dropped.plan).toMatchObject({ class: 'cannot_move', code: 'CALL_RUNNING' });
    expect(dropped.plan.message).toContain('calls nothing');
  });

  it('keeps a running call whose state and callee the new version keeps', () => {
    const kept = planMigration(V1, V1B, checking(), 5000, problemsOf(V1B), running);
    expect(kept.plan).toMatchObject({ class: 'moves', to: ['checking'] });
    // Same entry time: the workflow's calls see the same state, and the call runs on.
    expect(kept.state?.enteredAt['checking']).toBe(2000);
  });

  it('is the migrate update’s rule too (validator and handler)', () => {
    const state = checking();
    const current = { ir: V1, hash: hashProcedure(V1), state, calls: running };
    const input = (ir: ProcedureIR) => ({ ir, hash: hashProcedure(ir), seq: state.seq, actor: admin });
    const refused = resolveMigration(current, input(V2), (ir) => compileProcedure(ir), 5000);
    expect(refused).toMatchObject({ refused: { code: 'CALL_RUNNING' } });
    const moved = resolveMigration(current, input(V1B), (ir) => compileProcedure(ir), 5000);
    expect('step' in moved && moved.step.record.event).toBe('$migrate');
    // No call running: the move to 2.0.0 goes ahead (the workflow then starts score_check).
    const idle = resolveMigration({ ...current, calls: [] }, input(V2), (ir) => compileProcedure(ir), 5000);
    expect('step' in idle).toBe(true);
  });
});
