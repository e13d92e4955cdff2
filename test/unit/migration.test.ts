/**
 * Migration of running instances, pure: the plan (states, context, timers), the `migrate` rule
 * (refusals and the `$migrate` step), the proof's reachable set, the `migrate:` check. Instances are
 * driven with the real runtime (`startInstance` / `applyEvent`), so their states are real ones.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileProcedure } from '../../workflows/core/compile.ts';
import { checkProcedure } from '../../workflows/core/check.ts';
import { hashProcedure } from '../../workflows/core/hash.ts';
import type { Json, ProcedureIR } from '../../workflows/core/ir.ts';
import { loadProcedure } from '../../workflows/core/load.ts';
import { planMigration } from '../../workflows/core/migration.ts';
import { resolveMigration } from '../../workflows/core/migration-step.ts';
import { applyEvent, fireTimer, startInstance, type InstanceState } from '../../workflows/core/runtime.ts';
import { formatProblems } from '../../workflows/core/schemas.ts';
import { reachableSet } from '../../workflows/core/verify/reachable.ts';

const FIXTURES = path.join(import.meta.dirname, '../fixtures');
function load(file: string, edit: (t: string) => string = (t) => t): ProcedureIR {
  const r = loadProcedure(edit(readFileSync(path.join(FIXTURES, file), 'utf8')), file);
  if (!r.ir) throw new Error(JSON.stringify(r.diagnostics));
  return r.ir;
}
const V1 = load('migration/v1/intake.yaml');
const V2 = load('migration/v2/intake.yaml');
const p1 = compileProcedure(V1);
const p2 = compileProcedure(V2);
const staff = { id: 'sam', roles: ['project_staff'] };
const qm = { id: 'quin', roles: ['quality_manager'] };
const admin = { id: 'ada', roles: ['admin'] };
const problems2 = (ctx: Record<string, Json>) => {
  const p = p2.schemas.startInputProblems(ctx);
  return p.length ? formatProblems(p) : undefined;
};

/** A v1 instance driven through `events` (as quin, after SUBMIT as sam). */
function v1(context: Record<string, Json>, events: string[]): InstanceState {
  let s = startInstance(p1, context, staff, 1000).state;
  for (const [i, type] of events.entries())
    s = applyEvent(p1, s, { type, actor: type === 'SUBMIT' ? staff : qm }, 2000 + i).state;
  return s;
}

describe('planMigration', () => {
  it('keeps a state of the same path, maps named ones, adds defaults and drops removed fields', () => {
    const draft = planMigration(V1, V2, v1({ client: 'acme', note: 'x' }, []), 5000, problems2);
    expect(draft.plan).toMatchObject({
      class: 'moves',
      from: ['draft'],
      to: ['draft'],
      added: ['checked'],
      dropped: ['note'],
    });
    expect(draft.state?.context).toMatchObject({ client: 'acme', priority: 'normal', checked: false });
    expect(draft.state?.context).not.toHaveProperty('note');
    const sub = planMigration(V1, V2, v1({ client: 'acme' }, ['SUBMIT']), 5000, problems2);
    expect(sub.plan).toMatchObject({
      class: 'moves',
      to: ['review.pending'],
      mapped: { submitted: 'review.pending' },
    });
    expect(sub.state?.value).toEqual({ review: 'pending' });
    // The state keeps the entry time of the state it comes from; its new parent too.
    expect(sub.state?.enteredAt['review.pending']).toBe(2000);
    expect(sub.state?.enteredAt.review).toBe(2000);
  });

  it('classifies: an unmapped state needs a mapping, a context the new schema refuses cannot move', () => {
    const hold = planMigration(V1, V2, v1({ client: 'acme' }, ['SUBMIT', 'HOLD']), 5000, problems2);
    expect(hold.plan).toMatchObject({ class: 'needs_mapping', code: 'UNMAPPED_STATE', from: ['on_hold'] });
    expect(hold.plan.message).toContain('migrate: { on_hold: <state> }');
    expect(hold.state).toBeUndefined();
    const urgent = planMigration(V1, V2, v1({ client: 'acme', priority: 'urgent' }, []), 5000, problems2);
    expect(urgent.plan).toMatchObject({ class: 'cannot_move', code: 'CONTEXT_INVALID' });
    expect(urgent.plan.message).toContain('/priority: must be one of "normal", "high"');
  });

  it('refuses a mapping to an unknown state, two leaves of one compound state, a final state', () => {
    const sub = v1({ client: 'acme' }, ['SUBMIT']);
    const unknown = { ...V2, migrate: { submitted: 'review.nowhere' } };
    expect(planMigration(V1, unknown, sub, 0, problems2).plan).toMatchObject({
      class: 'needs_mapping',
      code: 'UNKNOWN_TARGET',
    });
    const final = { ...V2, migrate: { submitted: 'approved' } };
    expect(planMigration(V1, final, sub, 0, problems2).plan).toMatchObject({ code: 'FINAL_TARGET' });
    const root = { ...V2, migrate: { submitted: 'review' } };
    // A compound target is entered at its initial state.
    expect(planMigration(V1, root, sub, 0, problems2).plan).toMatchObject({
      class: 'moves',
      to: ['review.pending'],
    });
  });

  it('gives new states timers due from entry and keeps the deadline of a timer still pending', () => {
    const review = load('engine/review.yaml');
    const pr = compileProcedure(review);
    let s = startInstance(pr, { client: 'acme' }, staff, 0).state;
    s = applyEvent(pr, s, { type: 'SUBMIT', data: { purpose: 'audit' }, actor: staff }, 100).state;
    // The PT2S reminder fires (and re-enters submitted): both timers pending again from 2100.
    s = fireTimer(pr, s, s.timers[0]!.id, 2100)!.state;
    const next = load('engine/review.yaml', (t) => t.replace('version: 1.0.0', 'version: 1.1.0'));
    const pc = compileProcedure(next);
    const planned = planMigration(review, next, s, 3000, () => undefined);
    expect(planned.plan.class).toBe('moves');
    // Same ids and deadlines as the runtime gave (the timer ids are XState's send ids).
    expect(planned.state?.timers.map((t) => [t.id, t.dueAt]).sort()).toEqual(
      s.timers.map((t) => [t.id, t.dueAt]).sort(),
    );
    // And the new machine takes them: the PT4S timer expires the request.
    const t4 = planned.state!.timers.find((t) => t.id.includes('PT4S'))!;
    expect(fireTimer(pc, planned.state!, t4.id, t4.dueAt)?.state.value).toBe('expired');
  });
});

describe('resolveMigration (the migrate update)', () => {
  const hash2 = hashProcedure(V2);
  const current = (state: InstanceState) => ({ ir: V1, hash: hashProcedure(V1), state });
  const compile = () => p2;

  it('moves an instance: the $migrate record names both versions, and events of v2 are then accepted', () => {
    const s = v1({ client: 'acme', note: 'n' }, ['SUBMIT']);
    const out = resolveMigration(
      current(s),
      { ir: V2, hash: hash2, seq: s.seq, actor: admin },
      compile,
      9000,
    );
    if (!('step' in out)) throw new Error(out.refused.message);
    expect(out.step.record).toMatchObject({
      seq: s.seq + 1,
      event: '$migrate',
      from: ['submitted'],
      to: ['review.pending'],
      data: {
        fromVersion: '1.0.0',
        toVersion: '2.0.0',
        toHash: hash2,
        dropped: ['note'],
        added: ['checked'],
      },
    });
    const after = applyEvent(p2, out.step.state, { type: 'CHECK', actor: qm }, 9500).state;
    expect(after.context.checked).toBe(true);
    expect(applyEvent(p2, after, { type: 'APPROVE', actor: qm }, 9600).state.value).toBe('approved');
  });

  it('refuses a non-admin, a wrong hash, a stale plan and the same version, changing nothing', () => {
    const s = v1({ client: 'acme' }, ['SUBMIT']);
    const code = (input: Parameters<typeof resolveMigration>[1], cur = current(s)) => {
      const out = resolveMigration(cur, input, compile, 0);
      return 'refused' in out ? out.refused.code : 'moved';
    };
    expect(code({ ir: V2, hash: hash2, seq: s.seq, actor: qm })).toBe('BAD_MIGRATION');
    expect(code({ ir: V2, hash: 'sha256:0', seq: s.seq, actor: admin })).toBe('BAD_MIGRATION');
    expect(code({ ir: V2, hash: hash2, seq: s.seq - 1, actor: admin })).toBe('STATE_CHANGED');
    expect(code({ ir: V2, hash: hash2, seq: s.seq, actor: admin }, { ir: V2, hash: hash2, state: s })).toBe(
      'SAME_VERSION',
    );
    const hold = v1({ client: 'acme' }, ['SUBMIT', 'HOLD']);
    expect(code({ ir: V2, hash: hash2, seq: hold.seq, actor: admin }, current(hold))).toBe('UNMAPPED_STATE');
  });
});

describe('reachableSet (the new proof covers the migrated configuration)', () => {
  it('covers an escalated high-priority request, not an escalated normal one', () => {
    const reach = reachableSet(V2);
    expect(reach.exhaustive).toBe(true);
    expect(reach.covers({ review: 'escalated' }, { client: 'acme', priority: 'high', checked: false })).toBe(
      true,
    );
    expect(
      reach.covers({ review: 'escalated' }, { client: 'acme', priority: 'normal', checked: false }),
    ).toBe(false);
    expect(reach.covers({ review: 'pending' }, { client: 'acme', priority: 'normal', checked: true })).toBe(
      true,
    );
    // The start input may set `checked`; nothing ever makes the priority "urgent".
    expect(reach.covers('draft', { client: 'acme', priority: 'normal', checked: true })).toBe(true);
    expect(reach.covers('draft', { client: 'acme', priority: 'urgent', checked: true })).toBe(false);
  });
});

describe('checkProcedure: migrate targets', () => {
  it('refuses a target that is no state or a final state, positioned at the entry', () => {
    const text = readFileSync(path.join(FIXTURES, 'migration/v2/intake.yaml'), 'utf8').replace(
      'escalated: review.escalated',
      'escalated: review.escalatd\n  on_hold: approved',
    );
    const r = loadProcedure(text, 'intake.yaml');
    const found = checkProcedure(r.ir!, { file: 'intake.yaml', positions: r.positions }).map((d) => [
      d.code,
      d.line,
      d.pointer,
    ]);
    expect(found).toContainEqual(['PROC_UNKNOWN_STATE', 26, '/migrate/escalated']);
    expect(found).toContainEqual(['PROC_BAD_MIGRATION', 27, '/migrate/on_hold']);
  });
});
