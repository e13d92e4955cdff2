/**
 * Scenarios of confidentiality training and undertakings
 * (`definitions/confidentiality_training.yaml`), clauses 3.1.1, 3.6.1 and 4.6.1, on the real
 * Temporal server. The timer scenario runs a copy of the shipped definition whose durations only
 * are scaled to seconds (`shortenTimers`): structure, guards and actions are the shipped ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSnapshot, instanceResult } from '../../worker/instances.ts';
import type { EventInput, Json } from '../../workflows/core/ir.ts';
import { eventually, type Harness } from '../integration/harness.ts';
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

const gus = { id: 'gus', roles: ['general_manager'] };
const quinn = { id: 'quinn', roles: ['quality_manager'] };
const ada = { id: 'ada', roles: ['quality_administrator'] };
const pat = { id: 'pat', roles: ['project_staff'] };
const cora = { id: 'cora', roles: ['committee_member'] };

const plan = {
  topic: 'Confidentiality and proprietary rights 2024',
  responsible: 'ada',
  responsible_name: 'Ada Wu',
  resources: 'slides v3, trainer quinn, 2 h, meeting room',
  due_date: '2024-10-31',
};
const participants: { [key: string]: Json }[] = [
  { person: 'pat', name: 'Pat Li', category: 'staff' },
  { person: 'cora', name: 'Cora Zhou', category: 'committee_member' },
  { person: 'carl', name: 'Carl Xu', category: 'contractor', organisation: 'Xu Testing Ltd' },
];
const enrol = { participants, materials_ref: 'TRN-2024-1' };
const undertaking = (person: string, role: string) => ({
  person,
  role,
  date: '2024-10-10',
  training_completed: true,
  undertaking_signed: true,
});

let h: Harness;
let short: ShortenedDefinition;
beforeAll(async () => {
  h = await startScenarioHarness('confidentiality_training');
  short = shortenTimers(definitionOf(h, 'confidentiality_training'));
});
afterAll(async () => {
  await h?.close();
});

const toTraining: EventInput[] = [
  { type: 'PLAN_TRAINING', actor: gus, data: plan },
  { type: 'ENROL_PARTICIPANTS', actor: ada, data: enrol },
];

describe('confidentiality_training — training and undertakings (3.1.1, 3.6.1, 4.6.1)', () => {
  it('[3.1.1][3.6.1][4.6.1] the General Manager names the person responsible; staff, committee members and contractors are trained and each signs; closed when all have signed', async () => {
    const id = await h.start('confidentiality_training', { reason: 'yearly' }, gus);
    expect((await send(h, id, { type: 'PLAN_TRAINING', actor: gus, data: plan })).state).toBe('preparing');
    await notified(h, id, 'quality_manager', 'named the person responsible');
    expect((await send(h, id, { type: 'ENROL_PARTICIPANTS', actor: ada, data: enrol })).leaves).toEqual([
      'training.collecting',
    ]);
    await send(
      h,
      id,
      {
        type: 'RECORD_SESSION',
        actor: ada,
        data: {
          held_on: '2024-10-08',
          trainer: 'quinn',
          attendees: ['pat', 'cora', 'carl'],
          content: 'rules 4.1–4.6',
        },
      },
      // Signed by the person…
      { type: 'RECORD_ACKNOWLEDGEMENT', actor: pat, data: undertaking('pat', 'staff') },
      { type: 'RECORD_ACKNOWLEDGEMENT', actor: cora, data: undertaking('cora', 'committee_member') },
      // …or recorded by the person responsible from a signed paper undertaking.
      {
        type: 'RECORD_ACKNOWLEDGEMENT',
        actor: ada,
        data: { ...undertaking('carl', 'contractor'), undertaking_ref: 'UND-0091' },
      },
    );
    expect(
      await send(h, id, { type: 'CLOSE_TRAINING', actor: quinn, data: { summary: 'all signed' } }),
    ).toMatchObject({
      state: 'closed',
      done: true,
    });
    await notified(h, id, 'general_manager', 'every participant has signed the undertaking');

    const final = await instanceResult(h.client, id);
    expect(final.context).toMatchObject({
      planned_by: 'gus',
      responsible: 'ada',
      participant_ids: ['pat', 'cora', 'carl'],
      acknowledged: ['pat', 'cora', 'carl'],
      closed_by: 'quinn',
    });
    const register = await recordsNamed(h, id, 'undertaking_register', 3);
    expect(register.map((r) => [r.fields.person, r.fields.role, r.fields.recorded_by])).toEqual([
      ['pat', 'staff', 'pat'],
      ['cora', 'committee_member', 'cora'],
      ['carl', 'contractor', 'ada'],
    ]);
    expect(register[2]!.fields).toMatchObject({ undertaking_ref: 'UND-0091', topic: plan.topic });
  });

  it('[3.6.1][4.6.1] never closed while an undertaking is missing; one per person, in the enrolled role, by the person or the responsible', async () => {
    const id = await h.start('confidentiality_training', {}, gus);
    await send(h, id, ...toTraining, {
      type: 'RECORD_ACKNOWLEDGEMENT',
      actor: pat,
      data: undertaking('pat', 'staff'),
    });
    await expectRefused(
      h,
      id,
      { type: 'CLOSE_TRAINING', actor: quinn, data: {} },
      'GUARD_FALSE',
      'condition not met: size(ctx.acknowledged) > 0 && ctx.participant_ids.all(p, p in ctx.acknowledged)',
    );
    await expectRefused(
      h,
      id,
      { type: 'RECORD_ACKNOWLEDGEMENT', actor: pat, data: undertaking('pat', 'staff') },
      'GUARD_FALSE',
      '!(data.person in ctx.acknowledged)',
    );
    await expectRefused(
      h,
      id,
      { type: 'RECORD_ACKNOWLEDGEMENT', actor: pat, data: undertaking('cora', 'committee_member') },
      'GUARD_FALSE',
      "(data.person == actor.id || actor.id == ctx.responsible || 'quality_administrator' in actor.roles)",
    );
    await expectRefused(
      h,
      id,
      { type: 'RECORD_ACKNOWLEDGEMENT', actor: cora, data: undertaking('cora', 'staff') },
      'GUARD_FALSE',
      'p.category == data.role',
    );
    await expectRefused(
      h,
      id,
      { type: 'RECORD_ACKNOWLEDGEMENT', actor: ada, data: undertaking('dan', 'staff') },
      'GUARD_FALSE',
      'data.person in ctx.participant_ids',
    );
    await expectRefused(
      h,
      id,
      {
        type: 'RECORD_ACKNOWLEDGEMENT',
        actor: cora,
        data: { ...undertaking('cora', 'committee_member'), undertaking_signed: false },
      },
      'INVALID_DATA',
      '/undertaking_signed',
    );
    await send(h, id, {
      type: 'RECORD_ACKNOWLEDGEMENT',
      actor: cora,
      data: undertaking('cora', 'committee_member'),
    });
    // carl's contract ended: removed (recorded), and the training can close.
    await expectRefused(
      h,
      id,
      { type: 'EXCUSE_PARTICIPANT', actor: ada, data: { person: 'pat', reason: 'left_the_company' } },
      'GUARD_FALSE',
      '!(data.person in ctx.acknowledged)',
    );
    await send(h, id, {
      type: 'EXCUSE_PARTICIPANT',
      actor: ada,
      data: { person: 'carl', reason: 'contract_ended' },
    });
    expect(await send(h, id, { type: 'CLOSE_TRAINING', actor: ada, data: {} })).toMatchObject({
      state: 'closed',
      done: true,
    });
    const log = await recordsNamed(h, id, 'training_log', 4);
    expect(log.map((l) => l.fields.event)).toEqual(['planned', 'enrolled', 'participant_removed', 'closed']);
  });

  it('[3.6.1][4.6.1] never closed as "all signed" with no undertaking: excusing every participant leaves nothing to close', async () => {
    const id = await h.start('confidentiality_training', {}, gus);
    await send(
      h,
      id,
      ...toTraining,
      ...participants.map((p): EventInput => ({
        type: 'EXCUSE_PARTICIPANT',
        actor: ada,
        data: { person: p.person!, reason: 'contract_ended' },
      })),
    );
    expect((await getSnapshot(h.client, id)).context).toMatchObject({
      participant_ids: [],
      acknowledged: [],
    });
    await expectRefused(
      h,
      id,
      { type: 'CLOSE_TRAINING', actor: quinn, data: { summary: 'nobody left' } },
      'GUARD_FALSE',
      'condition not met: size(ctx.acknowledged) > 0',
    );
    // A new participant signs: now the training can close, with one undertaking on file.
    await send(
      h,
      id,
      { type: 'ADD_PARTICIPANT', actor: ada, data: { person: 'dan', name: 'Dan Ma', category: 'staff' } },
      { type: 'RECORD_ACKNOWLEDGEMENT', actor: ada, data: undertaking('dan', 'staff') },
    );
    expect(await send(h, id, { type: 'CLOSE_TRAINING', actor: quinn, data: {} })).toMatchObject({
      state: 'closed',
      done: true,
    });
    const register = await recordsNamed(h, id, 'undertaking_register');
    expect(register.map((r) => r.fields.person)).toEqual(['dan']);
  });

  it('[3.1.1] only the General Manager plans or cancels; only the person responsible enrols', async () => {
    const id = await h.start('confidentiality_training', {}, gus);
    await expectRefused(
      h,
      id,
      { type: 'PLAN_TRAINING', actor: quinn, data: plan },
      'ROLE_NOT_ALLOWED',
      'allowed roles: general_manager',
    );
    const { resources: _r, ...noResources } = plan;
    await expectRefused(
      h,
      id,
      { type: 'PLAN_TRAINING', actor: gus, data: noResources },
      'INVALID_DATA',
      'missing required field "resources"',
    );
    await send(h, id, { type: 'PLAN_TRAINING', actor: gus, data: plan });
    await expectRefused(
      h,
      id,
      { type: 'ENROL_PARTICIPANTS', actor: quinn, data: enrol },
      'GUARD_FALSE',
      'condition not met: actor.id == ctx.responsible',
    );
    await expectRefused(
      h,
      id,
      {
        type: 'ENROL_PARTICIPANTS',
        actor: ada,
        data: { ...enrol, participants: [...participants, participants[0]!] },
      },
      'GUARD_FALSE',
      'size(data.participants.filter(q, q.person == p.person)) == 1',
    );
    await expectRefused(
      h,
      id,
      { type: 'CANCEL', actor: quinn, data: { reason: 'busy' } },
      'ROLE_NOT_ALLOWED',
      'allowed roles: general_manager',
    );
    expect(
      await send(h, id, { type: 'CANCEL', actor: gus, data: { reason: 'merged with the yearly training' } }),
    ).toMatchObject({
      state: 'cancelled',
      done: true,
    });
  });

  it('[3.1.1][3.6.1] an unplanned training and unsigned undertakings are chased, then escalated (durations scaled)', async () => {
    const unplanned = await startDefinition(h, short, {}, gus);
    const id = await startDefinition(h, short, {}, gus);
    await send(h, id, ...toTraining);
    await notified(
      h,
      id,
      'quality_administrator',
      'Some participants have not yet signed the confidentiality undertaking',
    );
    await notified(
      h,
      id,
      'general_manager',
      'have not signed the undertaking 30 days after the training started',
    );
    // Weekly reminders (P7D, scaled) re-enter `collecting` again and again until everyone has signed.
    const snap = await eventually(async () => {
      const s = await getSnapshot(h.client, id);
      return s.log.filter((l) => l.event === `after ${short.durations['P7D']}`).length >= 2 && s;
    });
    expect(snap.leaves).toEqual(['training.collecting']);
    await notified(h, unplanned, 'general_manager', 'has awaited your plan for more than 14 days');
    expect((await getSnapshot(h.client, unplanned)).leaves).toEqual(['planning']);
  });
});
