/**
 * Scenarios of the routine confidentiality supervision (`definitions/supervision.yaml`), clauses
 * 4.6.2, 3.2.1, 3.2.2 and 3.1.1 (a finding opens a violation case, 4.6.3; a decision may order
 * confidentiality training), on the real Temporal server. Instances are started by hand here (the
 * monthly Temporal Schedule is covered by test/integration/schedules.int.test.ts). The timer
 * scenario runs a copy of the shipped definition whose durations only are scaled to seconds
 * (`shortenTimers`): structure, guards and actions are the shipped ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSnapshot, instanceResult } from '../../worker/instances.ts';
import type { EventInput } from '../../workflows/core/ir.ts';
import type { Harness } from '../integration/harness.ts';
import {
  definitionOf,
  expectRefused,
  linkedInstance,
  notified,
  recordsNamed,
  send,
  shortenTimers,
  startDefinition,
  startScenarioHarness,
  type ShortenedDefinition,
} from './scenario.ts';

const quinn = { id: 'quinn', roles: ['quality_manager'] };
const gus = { id: 'gus', roles: ['general_manager'] };
const ada = { id: 'ada', roles: ['quality_administrator'] };

const AREAS = ['custody', 'file_access', 'disclosure', 'results_dispatch', 'visitors', 'site_conduct'];
const start = { period: '2024-05', plan: 'sample 5 records per area; interview 2 project staff' };
const check = (area: string, result = 'conforming'): EventInput => ({
  type: 'CHECK_AREA',
  actor: quinn,
  data: { area, records_examined: `${area} records of May`, sample_size: 5, result },
});
const finding = {
  area: 'custody',
  client: 'acme',
  description: 'handover of lot LOT-31 not signed by the receiver',
  clauses: ['4.1.3'],
  evidence: 'custody log entry 2024-05-14',
};

let h: Harness;
let short: ShortenedDefinition;
beforeAll(async () => {
  h = await startScenarioHarness('supervision', 'violation_case', 'confidentiality_training');
  short = shortenTimers(definitionOf(h, 'supervision'));
});
afterAll(async () => {
  await h?.close();
});

describe('supervision — routine confidentiality check (4.6.2, 3.2.1, 3.2.2, 3.1.1)', () => {
  it('[4.6.2][3.2.1][3.2.2][3.1.1] a clean check: every area checked by the Quality Manager, reported to and decided by the General Manager', async () => {
    const id = await h.start('supervision', { frequency: 'monthly' }, quinn);
    let r = await send(h, id, { type: 'START_CHECK', actor: quinn, data: start });
    expect(r.leaves).toEqual(AREAS.map((a) => `in_progress.${a}.pending`));
    r = await send(h, id, ...AREAS.slice(0, -1).map((a) => check(a)));
    expect(r.leaves).toEqual([
      ...AREAS.slice(0, -1).map((a) => `in_progress.${a}.checked`),
      'in_progress.site_conduct.pending',
    ]);
    // The last area checked completes the checklist (on_done): on to the report, no button.
    expect((await send(h, id, check('site_conduct'))).state).toBe('reporting');
    r = await send(h, id, {
      type: 'SUBMIT_REPORT',
      actor: quinn,
      data: { summary: 'all areas conforming', conclusion: 'no_problems' },
    });
    expect(r.state).toBe('gm_review');
    await notified(h, id, 'general_manager', 'The confidentiality check report awaits your review');
    r = await send(h, id, {
      type: 'ACKNOWLEDGE_REPORT',
      actor: gus,
      data: { decisions: 'keep current resources; quinn stays responsible', training_needed: false },
    });
    expect(r).toMatchObject({ state: 'closed', done: true });

    const final = await instanceResult(h.client, id);
    expect(final.context).toMatchObject({
      frequency: 'monthly',
      period: '2024-05',
      supervisor: 'quinn',
      conclusion: 'no_problems',
      problems_found: false,
      acknowledged_by: 'gus',
    });
    expect(final.children).toEqual([]);
    const log = await recordsNamed(h, id, 'supervision_log', 9);
    expect(log.map((l) => l.fields.event)).toEqual([
      'started',
      ...AREAS.map(() => 'area_checked'),
      'report',
      'acknowledged',
    ]);
  });

  it('[3.2.2][4.6.3][3.2.1] a problem is reported to the General Manager at once and opens a violation case; the report must say so', async () => {
    const id = await h.start('supervision', { frequency: 'monthly' }, quinn);
    await send(h, id, { type: 'START_CHECK', actor: quinn, data: start }, check('custody', 'problems_found'));
    const r = await send(h, id, ...AREAS.slice(1).map((a) => check(a)));
    // Every area checked, but the problem seen is not yet recorded as a finding: no report yet.
    expect(r.state).toBe('recording_findings');
    await expectRefused(
      h,
      id,
      { type: 'SUBMIT_REPORT', actor: quinn, data: { summary: 'x', conclusion: 'problems_reported' } },
      'CANNOT_TAKE',
      'events possible now: RECORD_FINDING',
    );
    expect((await send(h, id, { type: 'RECORD_FINDING', actor: quinn, data: finding })).state).toBe(
      'reporting',
    );
    await notified(h, id, 'general_manager', 'The confidentiality check found a problem');
    const { child } = await linkedInstance(h, id);
    expect(child).toMatchObject({
      procedure: 'violation_case',
      leaves: ['reported'],
      context: {
        client: 'acme',
        source_workflow: 'supervision',
        reason: '监督检查发现的问题 / Problem found in supervision (custody)',
      },
    });
    await expectRefused(
      h,
      id,
      { type: 'SUBMIT_REPORT', actor: quinn, data: { summary: 'all fine', conclusion: 'no_problems' } },
      'GUARD_FALSE',
      "condition not met: (data.conclusion == 'problems_reported') == ctx.problems_found",
    );
    await send(h, id, {
      type: 'SUBMIT_REPORT',
      actor: quinn,
      data: { summary: 'one custody problem', conclusion: 'problems_reported', recommendations: 'retrain' },
    });
    // The General Manager orders training: a confidentiality_training instance starts.
    await send(h, id, {
      type: 'ACKNOWLEDGE_REPORT',
      actor: gus,
      data: { decisions: 'retrain custody staff; ada responsible', training_needed: true },
    });
    const training = await linkedInstance(h, id, 'confidentiality_training');
    expect(training.child).toMatchObject({
      leaves: ['planning'],
      context: {
        source_workflow: 'supervision',
        reason: '监督检查 / Supervision 2024-05: retrain custody staff; ada responsible',
      },
    });
    expect((await instanceResult(h.client, id)).context).toMatchObject({
      conclusion: 'problems_reported',
      problems_found: true,
    });
  });

  it('[4.6.2][3.2.1][3.1.1] only the Quality Manager checks, each area once; only the General Manager decides', async () => {
    const id = await h.start('supervision', {}, quinn);
    await expectRefused(
      h,
      id,
      { type: 'START_CHECK', actor: ada, data: start },
      'ROLE_NOT_ALLOWED',
      'allowed roles: quality_manager',
    );
    await send(h, id, { type: 'START_CHECK', actor: quinn, data: start }, check('visitors'));
    await expectRefused(
      h,
      id,
      { ...check('disclosure'), actor: gus },
      'ROLE_NOT_ALLOWED',
      'allowed roles: quality_manager',
    );
    await expectRefused(h, id, check('visitors'), 'GUARD_FALSE', "condition not met: data.area == 'custody'");
    await expectRefused(h, id, check('kitchen'), 'INVALID_DATA', '/area: must be one of');
    await expectRefused(
      h,
      id,
      { type: 'RECORD_FINDING', actor: ada, data: finding },
      'ROLE_NOT_ALLOWED',
      'allowed roles: quality_manager',
    );
    await send(h, id, ...AREAS.filter((a) => a !== 'visitors').map((a) => check(a)));
    await send(h, id, {
      type: 'SUBMIT_REPORT',
      actor: quinn,
      data: { summary: 'clean', conclusion: 'no_problems' },
    });
    await expectRefused(
      h,
      id,
      { type: 'ACKNOWLEDGE_REPORT', actor: quinn, data: { decisions: 'ok', training_needed: false } },
      'ROLE_NOT_ALLOWED',
      'allowed roles: general_manager',
    );
    expect((await getSnapshot(h.client, id)).leaves).toEqual(['gm_review']);
  });

  it('[3.2.2][4.6.3][3.1.1] text too long for the linked case or training is refused at the finding / decision, never a linked start that fails unseen', async () => {
    const id = await h.start('supervision', { frequency: 'monthly' }, quinn);
    await send(h, id, { type: 'START_CHECK', actor: quinn, data: start }, check('custody', 'problems_found'));
    // description + ' — ' + evidence is the case's description (at most 4000 characters):
    // each part is limited so that the sum fits.
    await expectRefused(
      h,
      id,
      { type: 'RECORD_FINDING', actor: quinn, data: { ...finding, description: 'd'.repeat(2001) } },
      'INVALID_DATA',
      '/description: must NOT have more than 2000 characters',
    );
    await expectRefused(
      h,
      id,
      { type: 'RECORD_FINDING', actor: quinn, data: { ...finding, evidence: 'e'.repeat(1991) } },
      'INVALID_DATA',
      '/evidence: must NOT have more than 1990 characters',
    );
    expect((await getSnapshot(h.client, id)).children).toEqual([]);
    // At the limits, the case is opened with the whole text.
    const longest = { ...finding, description: 'd'.repeat(2000), evidence: 'e'.repeat(1990) };
    await send(h, id, { type: 'RECORD_FINDING', actor: quinn, data: longest });
    const { child } = await linkedInstance(h, id);
    expect(child).toMatchObject({ procedure: 'violation_case', leaves: ['reported'] });
    expect(child.context['description']).toHaveLength(3993);
    await send(h, id, ...AREAS.slice(1).map((a) => check(a)));
    await send(h, id, {
      type: 'SUBMIT_REPORT',
      actor: quinn,
      data: { summary: 'one problem', conclusion: 'problems_reported' },
    });
    // The decisions go into the training's reason (at most 2000 characters).
    await expectRefused(
      h,
      id,
      {
        type: 'ACKNOWLEDGE_REPORT',
        actor: gus,
        data: { decisions: 'x'.repeat(1801), training_needed: true },
      },
      'INVALID_DATA',
      '/decisions: must NOT have more than 1800 characters',
    );
    expect((await getSnapshot(h.client, id)).leaves).toEqual(['gm_review']);
  });

  it('[4.6.2][3.2.2] a check not started, or not finished, in time is escalated to the General Manager (durations scaled)', async () => {
    const id = await startDefinition(h, short, { frequency: 'monthly' }, quinn);
    await notified(h, id, 'general_manager', 'has not started within 7 days');
    await notified(h, id, 'quality_manager', 'has not started within 7 days');
    await send(h, id, { type: 'START_CHECK', actor: quinn, data: start }, check('custody'));
    await notified(h, id, 'general_manager', 'is not finished 7 days after it started');
    const snap = await getSnapshot(h.client, id);
    expect(snap.leaves).toContain('in_progress.custody.checked');
    // sla escalations: not started (P7D) to the QM and the GM at once (level 1), not finished (P7D) to the GM.
    expect(
      snap.log.filter((l) => l.event === '$sla').map((l) => [l.data?.state, l.data?.roles, l.data?.level]),
    ).toEqual([
      ['scheduled', ['quality_manager'], 1],
      ['scheduled', ['general_manager'], 1],
      ['in_progress', ['general_manager'], 1],
    ]);
  });
});
