/**
 * The stalled view's "next reminder" (`worker/sla-rows.ts`) sees the points of every active state,
 * a compound parent's counted from the parent's own entry. staged_review's `review` reminds after
 * an hour and escalates after two from entering the review; its stages remind after 20 and 45
 * minutes from entering the stage. A row carries the leaves' entry (`CustodiaStateSince`) and, for
 * the states with plans entered before it, their entry times (memo `CustodiaSlaSince`).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../worker/definitions.ts';
import { REPO_ROOT } from '../../worker/settings.ts';
import { slaOfRow } from '../../worker/sla-rows.ts';
import type { InstanceRow } from '../../workflows/contract.ts';
import { compileProcedure } from '../../workflows/core/compile.ts';
import { applyEvent, describeInstance, startInstance } from '../../workflows/core/runtime.ts';
import { slaPoints } from '../../workflows/core/sla.ts';
import { rowEnteredAt, slaSinceOf, slaSinceOfMemo } from '../../workflows/core/sla-since.ts';

const def = loadDefinitions([path.join(REPO_ROOT, 'test/fixtures/sla-parent')], REPO_ROOT, {
  verify: false,
}).definitions.get('staged_review')!;
const MIN = 60_000;
const t0 = Date.UTC(2026, 11, 7, 1, 0);
const iso = (ms: number): string => new Date(ms).toISOString();

/** A running row in `leaf`, entered at `since`; `slaSince`: earlier entries of states with plans. */
const row = (leaf: string, since: number, slaSince?: Record<string, number>): InstanceRow => ({
  workflowId: 'staged_review-1',
  status: 'RUNNING',
  procedure: 'staged_review',
  version: '1.0.0',
  state: [leaf],
  awaiting: ['reviewer'],
  stateSince: iso(since),
  overdue: false,
  ...(slaSince
    ? { slaSince: Object.fromEntries(Object.entries(slaSince).map(([k, v]) => [k, iso(v)])) }
    : {}),
});

describe('the stalled view’s next reminder with a compound parent’s plan', () => {
  it('counts the parent’s points from the parent’s entry, before the leaf’s', () => {
    // Review entered at t0, second stage at t0 + 30 min.
    const r = row('review.second_look', t0 + 30 * MIN, { review: t0 });
    expect(slaOfRow(r, def, t0 + 40 * MIN)?.next).toEqual({
      kind: 'remind',
      state: 'review',
      at: iso(t0 + 60 * MIN),
    });
    // Past the review's reminder: the stage's own (30 + 45 min), then the review's escalation.
    expect(slaOfRow(r, def, t0 + 70 * MIN)?.next).toMatchObject({
      state: 'review.second_look',
      at: iso(t0 + 75 * MIN),
    });
    expect(slaOfRow(r, def, t0 + 80 * MIN)?.next).toEqual({
      kind: 'escalate',
      state: 'review',
      to: 'quality_manager',
      at: iso(t0 + 120 * MIN),
    });
  });

  it('sees a parent entered with its leaf (no earlier entry): its points count from the row’s entry', () => {
    // First stage since t0: its own reminder (20 min) is past, the review's (60 min) is next.
    expect(slaOfRow(row('review.first_look', t0), def, t0 + 30 * MIN)?.next).toEqual({
      kind: 'remind',
      state: 'review',
      at: iso(t0 + 60 * MIN),
    });
  });
});

describe('what the workflow keeps for the row (memo CustodiaSlaSince)', () => {
  const proc = compileProcedure(def.ir);
  const staff = { id: 'sam', roles: ['project_staff'] };
  const rita = { id: 'rita', roles: ['reviewer'] };

  it('keeps the parent’s earlier entry, and the row rebuilt from it has every point of the instance', () => {
    const started = startInstance(proc, { client: 'acme' }, staff, t0).state;
    // Parent and leaf entered together: nothing to keep.
    expect(slaSinceOf(proc, started)).toEqual({});
    const second = applyEvent(proc, started, { type: 'NEXT', actor: rita }, t0 + 30 * MIN).state;
    const memo = slaSinceOf(proc, second);
    expect(memo).toEqual({ review: t0 });
    const view = describeInstance(proc, second, t0 + 31 * MIN);
    const rebuilt = { ...second, enteredAt: rowEnteredAt(view.leaves, view.stateSince, memo) };
    expect(slaPoints(proc, rebuilt)).toEqual(slaPoints(proc, second));
    // Finished: nothing to keep.
    const done = applyEvent(proc, second, { type: 'APPROVE', actor: rita }, t0 + 40 * MIN).state;
    expect(slaSinceOf(proc, done)).toEqual({});
  });

  it('reads the memo defensively: numbers within a date’s range, anything else ignored', () => {
    expect(slaSinceOfMemo({ review: t0 })).toEqual({ review: iso(t0) });
    expect(slaSinceOfMemo({ review: 'x', big: 1e300 })).toBeUndefined();
    expect(slaSinceOfMemo([t0])).toBeUndefined();
    expect(slaSinceOfMemo(undefined)).toBeUndefined();
    // A memo entry for a state that is not active is not a point of the row.
    expect(rowEnteredAt(['review.second_look'], t0, { other: 1 })).toEqual({
      review: t0,
      'review.second_look': t0,
    });
  });
});
