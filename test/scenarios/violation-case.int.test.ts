/**
 * Scenarios of a violation and its corrective action (`definitions/violation_case.yaml`), clauses
 * 4.6.3, 3.4.3, 3.2.2 (and 4.6.2 for the Quality Manager's investigation), on the real Temporal
 * server. The timer scenario runs a copy of the shipped definition whose durations only are scaled
 * to seconds (`shortenTimers`): structure, guards and actions are the shipped ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSnapshot, instanceResult } from '../../worker/instances.ts';
import type { Harness } from '../integration/harness.ts';
import { recordHistory } from '../integration/record-history.ts';
import {
  definitionOf,
  expectRefused,
  notified,
  recordsNamed,
  send,
  shortenTimers,
  startDefinition,
  startScenarioHarness,
  type ShortenedDefinition,
} from './scenario.ts';

const rita = { id: 'rita', roles: ['application_reviewer'] };
const quinn = { id: 'quinn', roles: ['quality_manager'] };
const gus = { id: 'gus', roles: ['general_manager'] };
const pat = { id: 'pat', roles: ['project_staff'] };

const opening = {
  client: 'acme',
  reason: 'report copied without permission',
  source_workflow: 'manual',
  description: 'a copy of test report TR-1 was found on a shared drive',
};
const contain = {
  act_stopped: true,
  measures: 'file removed from the shared drive; access log secured',
  copies_recovered: true,
};
const general = { root_cause: 'shared drive permissions too broad', severity: 'general' };
const plan = {
  actions: 'restrict the drive; retrain the team',
  owner: 'pat',
  due_date: '2024-07-01',
  effectiveness_criteria: 'no client file outside the restricted area at the next audit',
};
const implement = { what_was_done: 'permissions restricted; training held', completed_on: '2024-06-20' };

let h: Harness;
let short: ShortenedDefinition;
beforeAll(async () => {
  h = await startScenarioHarness('violation_case');
  short = shortenTimers(definitionOf(h, 'violation_case'));
});
afterAll(async () => {
  await h?.close();
});

/** An open case taken up to `implemented` by `implementer`. */
async function implementedCase(implementer: { id: string; roles: string[] }): Promise<string> {
  const id = await h.start('violation_case', opening, rita);
  await send(
    h,
    id,
    { type: 'CONTAIN', actor: rita, data: contain },
    { type: 'INVESTIGATE', actor: quinn, data: general },
    { type: 'DECIDE_NO_REFERRAL', actor: gus, data: { decision: 'first offence' } },
    { type: 'PLAN_ACTION', actor: quinn, data: plan },
    { type: 'IMPLEMENT', actor: implementer, data: implement },
  );
  return id;
}

describe('violation_case — violation and corrective action (4.6.3, 3.4.3, 3.2.2)', () => {
  it('[4.6.3][3.4.3][3.2.2] contained, investigated, corrected, and closed once someone other than the implementer verifies it', async () => {
    const id = await h.start('violation_case', opening, rita);
    expect((await send(h, id, { type: 'CONTAIN', actor: rita, data: contain })).state).toBe('contained');
    await notified(h, id, 'general_manager', 'the act was stopped');
    await notified(h, id, 'quality_manager', 'establish the root cause');
    expect((await send(h, id, { type: 'INVESTIGATE', actor: quinn, data: general })).state).toBe(
      'awaiting_decision',
    );
    await notified(h, id, 'general_manager', 'decide its severity');
    expect(
      (await send(h, id, { type: 'DECIDE_NO_REFERRAL', actor: gus, data: { decision: 'minor lapse' } }))
        .state,
    ).toBe('investigated');
    expect((await send(h, id, { type: 'PLAN_ACTION', actor: quinn, data: plan })).state).toBe(
      'action_planned',
    );
    expect((await send(h, id, { type: 'IMPLEMENT', actor: pat, data: implement })).state).toBe('implemented');
    const r = await send(h, id, {
      type: 'VERIFY',
      actor: quinn,
      data: { effective: true, evidence: 'audit of 2024-07-05: no file outside the area' },
    });
    expect(r).toMatchObject({ state: 'closed_effective', done: true });

    const final = await instanceResult(h.client, id);
    expect(final.context).toMatchObject({
      contained_by: 'rita',
      investigated_by: 'quinn',
      implemented_by: 'pat',
      verified_by: 'quinn',
      effective: true,
    });
    const register = await recordsNamed(h, id, 'violation_register', 2);
    expect(register[0]!.fields).toMatchObject({
      client: 'acme',
      reason: opening.reason,
      contained_by: 'rita',
      copies_recovered: true,
    });
    expect(register[1]!.fields).toMatchObject({
      root_cause: general.root_cause,
      proposed_severity: 'general',
    });
    const actions = await recordsNamed(h, id, 'corrective_action_log', 3);
    expect(
      actions.map((a) => a.fields.planned_by ?? a.fields.implemented_by ?? a.fields.verified_by),
    ).toEqual(['quinn', 'pat', 'quinn']);
  });

  it('[4.6.3] refuses a case closed (verified) by its own implementer', async () => {
    const id = await implementedCase(quinn);
    await expectRefused(
      h,
      id,
      { type: 'VERIFY', actor: quinn, data: { effective: true, evidence: 'I checked my own work' } },
      'DUTY_CONFLICT',
      'quinn sent IMPLEMENT',
      'The person who implemented the action may not verify it',
    );
    await expectRefused(
      h,
      id,
      { type: 'VERIFY', actor: pat, data: { effective: true, evidence: 'looks fine' } },
      'ROLE_NOT_ALLOWED',
      'allowed roles: quality_manager, general_manager',
    );
    const r = await send(h, id, {
      type: 'VERIFY',
      actor: gus,
      data: { effective: true, evidence: 'spot check' },
    });
    expect(r).toMatchObject({ state: 'closed_effective', done: true });
  });

  it('[4.6.3][3.2.3] an ineffective action goes back to planning; a verifier may not implement the next one', async () => {
    const id = await implementedCase(pat);
    const r = await send(h, id, {
      type: 'VERIFY',
      actor: quinn,
      data: { effective: false, evidence: 'the drive is still open to all staff' },
    });
    expect(r.state).toBe('investigated');
    await notified(h, id, 'general_manager', 'found not effective');
    await expectRefused(
      h,
      id,
      { type: 'VERIFY', actor: gus, data: { effective: true, evidence: 'x' } },
      'CANNOT_TAKE',
      'VERIFY cannot be sent in state investigated',
    );
    await send(h, id, { type: 'PLAN_ACTION', actor: quinn, data: { ...plan, actions: 'remove the drive' } });
    await expectRefused(
      h,
      id,
      { type: 'IMPLEMENT', actor: quinn, data: implement },
      'DUTY_CONFLICT',
      'A verifier of this case may not implement its corrective action',
    );
    await send(
      h,
      id,
      { type: 'IMPLEMENT', actor: pat, data: { ...implement, what_was_done: 'drive removed' } },
      { type: 'VERIFY', actor: quinn, data: { effective: true, evidence: 'drive gone' } },
    );
    const final = await instanceResult(h.client, id);
    expect(final.leaves).toEqual(['closed_effective']);
    expect(final.log.filter((l) => l.event === 'VERIFY').map((l) => l.to)).toEqual([
      ['investigated'],
      ['closed_effective'],
    ]);
  });

  it('[4.6.3][3.2.2] a serious case goes to the General Manager, who alone refers it for a penalty', async () => {
    const id = await h.start('violation_case', opening, rita);
    await send(h, id, { type: 'CONTAIN', actor: rita, data: contain });
    const r = await send(h, id, {
      type: 'INVESTIGATE',
      actor: quinn,
      data: {
        root_cause: 'deliberate leak to a competitor',
        severity: 'serious',
        clauses_breached: ['4.2.3'],
      },
    });
    expect(r.state).toBe('awaiting_decision');
    await notified(h, id, 'general_manager', 'decide its severity');
    const referral = {
      penalty_kind: 'judicial',
      authority: 'Public Security Bureau',
      decision: 'trade secrets infringed',
    };
    await expectRefused(
      h,
      id,
      { type: 'REFER', actor: quinn, data: referral },
      'ROLE_NOT_ALLOWED',
      'allowed roles: general_manager',
    );
    await expectRefused(
      h,
      id,
      { type: 'REFER', actor: gus, data: { penalty_kind: 'judicial', decision: 'x' } },
      'INVALID_DATA',
      'missing required field "authority"',
    );
    await expectRefused(
      h,
      id,
      { type: 'REFER', actor: gus, data: { ...referral, penalty_kind: 'fine' } },
      'INVALID_DATA',
      '/penalty_kind: must be one of "administrative", "judicial"',
    );
    // 4.6.3: the referral comes in addition to corrective action, never instead of it.
    expect(await send(h, id, { type: 'REFER', actor: gus, data: referral })).toMatchObject({
      state: 'investigated',
      done: false,
    });
    await notified(h, id, 'quality_manager', 'plan the corrective action as well');
    const [row] = await recordsNamed(h, id, 'referral_log');
    expect(row!.fields).toMatchObject({
      client: 'acme',
      penalty_kind: 'judicial',
      authority: 'Public Security Bureau',
      decided_by: 'gus',
      root_cause: 'deliberate leak to a competitor',
    });
    await send(
      h,
      id,
      { type: 'PLAN_ACTION', actor: quinn, data: plan },
      { type: 'IMPLEMENT', actor: pat, data: implement },
    );
    expect(
      await send(h, id, {
        type: 'VERIFY',
        actor: quinn,
        data: { effective: true, evidence: 'access revoked' },
      }),
    ).toMatchObject({ state: 'closed_effective', done: true });
    const final = await instanceResult(h.client, id);
    expect(final.context).toMatchObject({ severity: 'serious', referred: true, decided_by: 'gus' });
  });

  it('[4.6.3] the Quality Manager cannot lower a case alone: every classification is the General Manager’s', async () => {
    const id = await h.start('violation_case', opening, rita);
    await send(h, id, { type: 'CONTAIN', actor: rita, data: contain });
    // Proposed as general, the case still waits for the General Manager; nothing is planned before.
    expect((await send(h, id, { type: 'INVESTIGATE', actor: quinn, data: general })).state).toBe(
      'awaiting_decision',
    );
    await expectRefused(h, id, { type: 'PLAN_ACTION', actor: quinn, data: plan }, 'CANNOT_TAKE');
    await expectRefused(
      h,
      id,
      { type: 'DECIDE_NO_REFERRAL', actor: quinn, data: { decision: 'minor' } },
      'ROLE_NOT_ALLOWED',
      'allowed roles: general_manager',
    );
    // The General Manager sees it and may judge it serious after all.
    const r = await send(h, id, {
      type: 'REFER',
      actor: gus,
      data: { penalty_kind: 'administrative', authority: 'Market Regulation Bureau', decision: 'repeated' },
    });
    expect(r.state).toBe('investigated');
    const final = await getSnapshot(h.client, id);
    expect(final.context).toMatchObject({
      proposed_severity: 'general',
      severity: 'serious',
      referred: true,
    });
  });

  it('[4.6.3][3.4.3] copies not recovered: closing effective is refused until they are recovered or their loss is recorded', async () => {
    const id = await h.start('violation_case', opening, rita);
    await expectRefused(
      h,
      id,
      { type: 'CONTAIN', actor: rita, data: { ...contain, copies_recovered: false } },
      'INVALID_DATA',
      'outstanding',
    );
    await send(
      h,
      id,
      {
        type: 'CONTAIN',
        actor: rita,
        data: { ...contain, copies_recovered: false, outstanding: 'one USB copy with a former employee' },
      },
      { type: 'INVESTIGATE', actor: quinn, data: general },
      { type: 'DECIDE_NO_REFERRAL', actor: gus, data: { decision: 'first offence' } },
      { type: 'PLAN_ACTION', actor: quinn, data: plan },
      { type: 'IMPLEMENT', actor: pat, data: implement },
    );
    await expectRefused(
      h,
      id,
      { type: 'VERIFY', actor: quinn, data: { effective: true, evidence: 'looks fine' } },
      'GUARD_FALSE',
    );
    await send(h, id, {
      type: 'RECORD_COPIES_LOST',
      actor: quinn,
      data: { details: 'the USB copy was destroyed by the former employee; not verifiable' },
    });
    await notified(h, id, 'general_manager', 'the loss was recorded');
    expect(
      await send(h, id, { type: 'VERIFY', actor: quinn, data: { effective: true, evidence: 'checked' } }),
    ).toMatchObject({ state: 'closed_effective', done: true });
  });

  it('[4.6.3] the General Manager may decide not to refer: the case is then corrected internally', async () => {
    const id = await h.start('violation_case', opening, rita);
    await send(
      h,
      id,
      { type: 'CONTAIN', actor: rita, data: contain },
      { type: 'INVESTIGATE', actor: quinn, data: { root_cause: 'careless handling', severity: 'serious' } },
    );
    const r = await send(h, id, {
      type: 'DECIDE_NO_REFERRAL',
      actor: gus,
      data: { decision: 'first offence' },
    });
    expect(r.state).toBe('investigated');
    expect((await getSnapshot(h.client, id)).context).toMatchObject({
      proposed_severity: 'serious',
      severity: 'general',
      referred: false,
    });
    await notified(h, id, 'quality_manager', 'plan the corrective action');
    expect((await send(h, id, { type: 'PLAN_ACTION', actor: quinn, data: plan })).state).toBe(
      'action_planned',
    );
  });

  it('[3.4.3][4.6.2] the act is stopped first; only the Quality Manager records the investigation', async () => {
    const id = await h.start('violation_case', opening, rita);
    await expectRefused(
      h,
      id,
      { type: 'INVESTIGATE', actor: quinn, data: general },
      'CANNOT_TAKE',
      'INVESTIGATE cannot be sent in state reported',
      'CONTAIN',
    );
    await expectRefused(
      h,
      id,
      { type: 'CONTAIN', actor: rita, data: { ...contain, act_stopped: false } },
      'INVALID_DATA',
      '/act_stopped',
    );
    await expectRefused(
      h,
      id,
      { type: 'CONTAIN', actor: pat, data: contain },
      'ROLE_NOT_ALLOWED',
      'allowed roles: application_reviewer, quality_administrator, quality_manager',
    );
    await send(h, id, { type: 'CONTAIN', actor: rita, data: contain });
    await expectRefused(
      h,
      id,
      { type: 'INVESTIGATE', actor: rita, data: general },
      'ROLE_NOT_ALLOWED',
      'allowed roles: quality_manager',
    );
    await expectRefused(
      h,
      id,
      { type: 'INVESTIGATE', actor: quinn, data: { ...general, severity: 'minor' } },
      'INVALID_DATA',
      '/severity: must be one of "general", "serious"',
    );
    await expectRefused(h, id, { type: 'PLAN_ACTION', actor: quinn, data: plan }, 'CANNOT_TAKE');
  });

  it('[3.4.3][3.2.2] an overdue case escalates to the General Manager (durations scaled)', async () => {
    const id = await startDefinition(h, short, opening, rita);
    // Not contained within 24 h (scaled): the General Manager is told; the case stays open.
    await notified(h, id, 'general_manager', 'has not been contained within 24 hours');
    let snap = await getSnapshot(h.client, id);
    expect(snap.leaves).toEqual(['reported']);
    // The state's sla escalation (PT24H, scaled) with its own clauses.
    expect(snap.log.at(-1)).toMatchObject({
      event: '$sla',
      actor: { id: 'sla' },
      from: ['reported'],
      to: ['reported'],
      clauses: ['3.4.3', '3.2.2'],
      data: { kind: 'escalate', state: 'reported', roles: ['general_manager'], level: 1 },
    });
    // Contained, but no root cause within 10 working days (P10WD, scaled): escalated again.
    expect(short.durations['P10WD']).toBeDefined();
    await send(h, id, { type: 'CONTAIN', actor: rita, data: contain });
    await notified(h, id, 'general_manager', 'has not found the root cause within 10 working days');
    snap = await getSnapshot(h.client, id);
    expect(snap.leaves).toEqual(['contained']);
    expect(snap.log.at(-1)).toMatchObject({
      event: '$sla',
      from: ['contained'],
      clauses: ['3.2.2'],
      data: { kind: 'escalate', state: 'contained', roles: ['general_manager'], level: 1 },
    });
    expect(await send(h, id, { type: 'INVESTIGATE', actor: quinn, data: general })).toMatchObject({
      state: 'awaiting_decision',
    });
    // Replayed by test/integration/replay.int.test.ts: escalations with their own texts and clauses.
    await recordHistory(h.client, id, 'sla-message-violation-case');
  });
});
