/**
 * The definition language on the real Temporal server: a parallel review joined by `on_done`
 * (`test/fixtures/parallel-review/purchase_review.yaml`, no flags, no "complete" button) and routing
 * by `always` (`test/fixtures/eventless/expense_routing.yaml`, at the start and after a revision).
 * Both run through the generic `procedure` workflow and its update validator.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSnapshot, instanceResult } from '../../worker/instances.ts';
import { REPO_ROOT } from '../../worker/config.ts';
import { startHarness, type Harness } from '../integration/harness.ts';
import { recordHistory } from '../integration/record-history.ts';
import { expectRefused, send } from './scenario.ts';

const rita = { id: 'rita', roles: ['requester'] };
const fred = { id: 'fred', roles: ['finance'] };
const cora = { id: 'cora', roles: ['cfo'] };
const lea = { id: 'lea', roles: ['legal'] };
const bob = { id: 'bob', roles: ['buyer'] };
const claimant = { id: 'cid', roles: ['claimant'] };
const mia = { id: 'mia', roles: ['manager'] };
const dan = { id: 'dan', roles: ['director'] };

let h: Harness;
beforeAll(async () => {
  h = await startHarness([
    path.join(REPO_ROOT, 'test/fixtures/parallel-review'),
    path.join(REPO_ROOT, 'test/fixtures/eventless'),
  ]);
});
afterAll(async () => {
  await h?.close();
});

describe('on_done: finance and legal review in parallel, joined when both approve', () => {
  it('the approval that completes the second region moves the purchase to ordering by itself', async () => {
    const id = await h.start('purchase_review', {}, rita);
    let r = await send(h, id, { type: 'SUBMIT', actor: rita, data: { item: 'laptop', amount: 900 } });
    expect(r.leaves).toEqual(['review.finance.pending', 'review.legal.pending']);
    r = await send(h, id, { type: 'COMMENT', actor: lea, data: { text: 'standard terms?' } });
    expect(r.leaves).toEqual(['review.finance.pending', 'review.legal.pending']);
    r = await send(h, id, { type: 'APPROVE_BUDGET', actor: fred });
    expect(r.leaves).toEqual(['review.finance.approved', 'review.legal.pending']);
    r = await send(h, id, { type: 'APPROVE_TERMS', actor: lea });
    expect(r).toMatchObject({ state: 'ordering', available: [] });
    const snap = await getSnapshot(h.client, id);
    expect(snap.available).toEqual({ buyer: ['ORDER'] });
    expect(snap.log.at(-1)).toMatchObject({
      event: 'APPROVE_TERMS',
      from: ['review.finance.approved', 'review.legal.pending'],
      to: ['ordering'],
    });
    expect(snap.context).toMatchObject({ outcome: 'approved', comments: 1 });
    r = await send(h, id, { type: 'ORDER', actor: bob });
    expect(r).toMatchObject({ state: 'ordered', done: true });
    expect((await instanceResult(h.client, id)).context).toMatchObject({
      item: 'laptop',
      outcome: 'approved',
    });
    await recordHistory(h.client, id, 'language-on-done-purchase-review');
  });

  it('above the limit only the CFO approves the budget; the requester and a second approver are kept out', async () => {
    const id = await h.start('purchase_review', {}, rita);
    await send(h, id, { type: 'SUBMIT', actor: rita, data: { item: 'server', amount: 50000 } });
    await expectRefused(
      h,
      id,
      { type: 'APPROVE_BUDGET', actor: fred },
      'GUARD_FALSE',
      'ctx.amount <= 10000.0',
    );
    const both = { id: 'cora', roles: ['cfo', 'legal'] };
    await send(h, id, { type: 'APPROVE_BUDGET', actor: cora });
    await expectRefused(
      h,
      id,
      { type: 'APPROVE_TERMS', actor: both },
      'DUTY_CONFLICT',
      'cora sent APPROVE_BUDGET',
    );
    await expectRefused(
      h,
      id,
      { type: 'APPROVE_TERMS', actor: { id: 'rita', roles: ['legal'] } },
      'DUTY_CONFLICT',
    );
    expect((await send(h, id, { type: 'APPROVE_TERMS', actor: lea })).state).toBe('ordering');
  });

  it('a rejection in one region leaves the review at once', async () => {
    const id = await h.start('purchase_review', {}, rita);
    await send(h, id, { type: 'SUBMIT', actor: rita, data: { item: 'desk', amount: 300 } });
    await send(h, id, { type: 'APPROVE_BUDGET', actor: fred });
    const r = await send(h, id, { type: 'REJECT', actor: lea });
    expect(r).toMatchObject({ state: 'rejected', done: true });
  });
});

describe('always: an expense claim routes itself by its amount', () => {
  it('routes at the start: small claims are approved at once, large ones go to the director', async () => {
    const small = await h.start('expense_routing', { amount: 80 }, claimant);
    const done = await instanceResult(h.client, small);
    expect(done.context).toMatchObject({ amount: 80, route: 'auto' });
    const large = await h.start('expense_routing', { amount: 25000 }, claimant);
    const snap = await getSnapshot(h.client, large);
    expect(snap.leaves).toEqual(['director_review']);
    expect(snap.context).toMatchObject({ route: 'director' });
    await expectRefused(h, large, { type: 'APPROVE', actor: mia }, 'ROLE_NOT_ALLOWED', 'director');
  });

  it('routes again after a revision, in the same step as the resubmission', async () => {
    const id = await h.start('expense_routing', { amount: 25000 }, claimant);
    await send(h, id, { type: 'RETURN', actor: dan });
    let r = await send(h, id, { type: 'RESUBMIT', actor: claimant, data: { amount: 4000 } });
    expect(r.state).toBe('manager_review');
    const snap = await getSnapshot(h.client, id);
    expect(snap.log.at(-1)).toMatchObject({ event: 'RESUBMIT', from: ['revising'], to: ['manager_review'] });
    expect(snap.context).toMatchObject({ amount: 4000, route: 'manager', revisions: 1 });
    r = await send(
      h,
      id,
      { type: 'RETURN', actor: mia },
      { type: 'RESUBMIT', actor: claimant, data: { amount: 10 } },
    );
    expect(r).toMatchObject({ state: 'approved', done: true });
    await instanceResult(h.client, id);
    await recordHistory(h.client, id, 'language-always-expense-routing');
  });
});
