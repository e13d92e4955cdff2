/**
 * Scenarios of external persons in the work areas (`definitions/external_visit.yaml`), clauses
 * 4.4.1–4.4.4 (with 4.2.1, and 4.6.3 for a violation), on the real Temporal server. Timer
 * scenarios run a copy of the shipped definition whose durations only are scaled to seconds
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

const hal = { id: 'hal', roles: ['project_staff'] };
const gail = { id: 'gail', roles: ['general_affairs_head'] };
const gina = { id: 'gina', roles: ['general_affairs_head'] };
const quinn = { id: 'quinn', roles: ['quality_manager'] };
const ada = { id: 'ada', roles: ['quality_administrator'] };
const eve = { id: 'eve', roles: ['application_reviewer'] };
const pat = { id: 'pat', roles: ['project_staff'] };
/** Head of General Affairs and Quality Manager at once: may give only one of the two approvals. */
const boss = { id: 'boss', roles: ['general_affairs_head', 'quality_manager'] };

const request = {
  organisation: 'CNAS',
  visit_kind: 'verification',
  purpose: 'witness assessment of the certification process',
  visitors: [
    { name: 'Zhao Lei', position: 'lead assessor' },
    { name: 'Qian Mei', position: 'technical expert' },
  ],
  visit_date: '2024-06-10',
  areas_requested: ['meeting_room', 'office'],
};
const approval = { permitted_zones: ['meeting_room', 'office'], escort: 'eve', escort_name: 'Eve Chen' };
const row = (zone: string) => ({ zone, concealed: true, method: 'locked_away' });
const concealment = { zones: [row('meeting_room'), row('office')] };
const checkIn = {
  visitors_present: ['Zhao Lei', 'Qian Mei'],
  identity_checked: true,
  rules_briefed: true,
  badge_numbers: 'V-07, V-08',
};
const checkOut = { all_left: true, badges_returned: true, materials_taken: 'none' };

let h: Harness;
let short: ShortenedDefinition;
beforeAll(async () => {
  h = await startScenarioHarness('external_visit', 'violation_case');
  short = shortenTimers(definitionOf(h, 'external_visit'));
});
afterAll(async () => {
  await h?.close();
});

const toReady: EventInput[] = [
  { type: 'REQUEST_VISIT', actor: hal, data: request },
  { type: 'APPROVE', actor: gail, data: approval },
  { type: 'CONFIRM_CONCEALMENT', actor: ada, data: concealment },
];
const toOnSite: EventInput[] = [...toReady, { type: 'CHECK_IN', actor: eve, data: checkIn }];

/** A visit with its visitors on site, escorted by eve. */
async function onSite(): Promise<string> {
  const id = await h.start('external_visit', {}, hal);
  await send(h, id, ...toOnSite);
  return id;
}

describe('external_visit — external persons in the work areas (4.4)', () => {
  it('[4.4.1][4.4.2] approved with a named escort and zones, every zone concealed, escorted in, handed over and checked out', async () => {
    const id = await h.start('external_visit', {}, hal);
    expect((await send(h, id, { type: 'REQUEST_VISIT', actor: hal, data: request })).state).toBe(
      'awaiting_approval',
    );
    await notified(h, id, 'general_affairs_head', 'A request for an external visit awaits approval');
    expect((await send(h, id, { type: 'APPROVE', actor: gail, data: approval })).state).toBe('concealment');
    await notified(h, id, 'quality_administrator', 'put other clients');
    expect((await send(h, id, { type: 'CONFIRM_CONCEALMENT', actor: ada, data: concealment })).state).toBe(
      'ready',
    );
    expect((await send(h, id, { type: 'CHECK_IN', actor: eve, data: checkIn })).leaves).toEqual([
      'on_site.escorted',
    ]);
    expect(
      (await send(h, id, { type: 'HAND_OVER_ESCORT', actor: eve, data: { to: 'pat', reason: 'meeting' } }))
        .leaves,
    ).toEqual(['on_site.handover_pending']);
    await expectRefused(
      h,
      id,
      { type: 'CHECK_OUT', actor: eve, data: checkOut },
      'CANNOT_TAKE',
      'CHECK_OUT cannot be sent in state on_site.handover_pending',
    );
    await send(h, id, { type: 'ACCEPT_ESCORT', actor: pat, data: { briefed: true } });
    await expectRefused(
      h,
      id,
      { type: 'CHECK_OUT', actor: eve, data: checkOut },
      'GUARD_FALSE',
      'condition not met: actor.id == ctx.escort',
    );
    expect(await send(h, id, { type: 'CHECK_OUT', actor: pat, data: checkOut })).toMatchObject({
      state: 'checked_out',
      done: true,
    });

    const final = await instanceResult(h.client, id);
    expect(final.context).toMatchObject({
      client: 'CNAS',
      requested_by: 'hal',
      approved: true,
      approved_by: 'gail',
      escort_named: true,
      escort: 'pat',
      quality_approval_required: false,
      concealment_complete: true,
      concealment_by: 'ada',
    });
    const log = await recordsNamed(h, id, 'visitor_log', 7);
    expect(log.map((l) => l.fields.event)).toEqual([
      'requested',
      'approved',
      'concealment_checked',
      'checked_in',
      'escort_handover',
      'escort_taken_over',
      'checked_out',
    ]);
    expect(log[3]!.fields).toMatchObject({ escort: 'eve', permitted_zones: ['meeting_room', 'office'] });
  });

  it('[4.4.1][4.4.4] testing or certification areas also need the Quality Manager, a different person from the first approver', async () => {
    const id = await h.start('external_visit', {}, hal);
    const restricted = { ...approval, permitted_zones: ['meeting_room', 'testing_area'] };
    await send(
      h,
      id,
      {
        type: 'REQUEST_VISIT',
        actor: hal,
        data: { ...request, areas_requested: ['meeting_room', 'testing_area'] },
      },
      { type: 'APPROVE', actor: boss, data: restricted },
    );
    const snap = await getSnapshot(h.client, id);
    expect(snap.leaves).toEqual(['awaiting_quality_approval']);
    expect(snap.context).toMatchObject({ approved: false, quality_approval_required: true });
    await expectRefused(
      h,
      id,
      { type: 'CONFIRM_CONCEALMENT', actor: ada, data: concealment },
      'CANNOT_TAKE',
      'CONFIRM_CONCEALMENT cannot be sent in state awaiting_quality_approval',
    );
    await expectRefused(
      h,
      id,
      { type: 'APPROVE_RESTRICTED_AREAS', actor: boss, data: {} },
      'DUTY_CONFLICT',
      'boss sent APPROVE',
      'the two approvals come from different people',
    );
    await expectRefused(
      h,
      id,
      { type: 'APPROVE_RESTRICTED_AREAS', actor: gail, data: {} },
      'ROLE_NOT_ALLOWED',
      'allowed roles: quality_manager',
    );
    const r = await send(h, id, {
      type: 'APPROVE_RESTRICTED_AREAS',
      actor: quinn,
      data: { conditions: 'no access to bench 3' },
    });
    expect(r.state).toBe('concealment');
    expect((await getSnapshot(h.client, id)).context).toMatchObject({
      approved: true,
      quality_approved: true,
      quality_approved_by: 'quinn',
    });
  });

  it('[4.4.1] refuses an approval by the requesting host, by another role, or without a named escort', async () => {
    const id = await h.start('external_visit', {}, gail);
    await send(h, id, { type: 'REQUEST_VISIT', actor: gail, data: request });
    await expectRefused(
      h,
      id,
      { type: 'APPROVE', actor: gail, data: approval },
      'DUTY_CONFLICT',
      'gail sent REQUEST_VISIT',
      'The host may not approve their own request',
    );
    await expectRefused(
      h,
      id,
      { type: 'APPROVE', actor: quinn, data: approval },
      'ROLE_NOT_ALLOWED',
      'allowed roles: general_affairs_head',
    );
    const { escort: _escort, ...noEscort } = approval;
    await expectRefused(
      h,
      id,
      { type: 'APPROVE', actor: gina, data: noEscort },
      'INVALID_DATA',
      'missing required field "escort"',
    );
    await expectRefused(
      h,
      id,
      { type: 'APPROVE', actor: gina, data: { ...approval, permitted_zones: ['roof'] } },
      'INVALID_DATA',
      '/permitted_zones/0: must be one of',
    );
    expect((await send(h, id, { type: 'APPROVE', actor: gina, data: approval })).state).toBe('concealment');
  });

  it('[4.4.1][4.4.2][4.2.1] refuses a check-in with no escort or no completed concealment checklist', async () => {
    const id = await h.start('external_visit', {}, hal);
    await send(h, id, { type: 'REQUEST_VISIT', actor: hal, data: request });
    await expectRefused(
      h,
      id,
      { type: 'CHECK_IN', actor: eve, data: checkIn },
      'CANNOT_TAKE',
      'CHECK_IN cannot be sent in state awaiting_approval',
    );
    await send(h, id, { type: 'APPROVE', actor: gail, data: approval });
    await expectRefused(
      h,
      id,
      { type: 'CHECK_IN', actor: eve, data: checkIn },
      'CANNOT_TAKE',
      'CHECK_IN cannot be sent in state concealment',
    );
    await expectRefused(
      h,
      id,
      { type: 'CONFIRM_CONCEALMENT', actor: ada, data: { zones: [row('meeting_room')] } },
      'GUARD_FALSE',
      'condition not met: ctx.permitted_zones.all(z, data.zones.exists(row, row.zone == z))',
    );
    await expectRefused(
      h,
      id,
      {
        type: 'CONFIRM_CONCEALMENT',
        actor: ada,
        data: { zones: [row('meeting_room'), { ...row('office'), concealed: false }] },
      },
      'INVALID_DATA',
      '/zones/1/concealed',
    );
    await send(h, id, { type: 'CONFIRM_CONCEALMENT', actor: ada, data: concealment });
    // Ready: only the named escort checks in, and only the visitors approved.
    await expectRefused(
      h,
      id,
      { type: 'CHECK_IN', actor: pat, data: checkIn },
      'GUARD_FALSE',
      'condition not met: actor.id == ctx.escort',
    );
    await expectRefused(
      h,
      id,
      { type: 'CHECK_IN', actor: eve, data: { ...checkIn, visitors_present: ['Zhao Lei', 'Sun Wu'] } },
      'GUARD_FALSE',
      'data.visitors_present.all(v, v in ctx.visitor_names)',
    );
    await expectRefused(
      h,
      id,
      { type: 'CHECK_IN', actor: eve, data: { ...checkIn, rules_briefed: false } },
      'INVALID_DATA',
      '/rules_briefed',
    );
    // An amended request starts the approval again: no check-in until it is re-approved and re-checked.
    await send(h, id, { type: 'AMEND_REQUEST', actor: hal, data: { ...request, visit_date: '2024-06-11' } });
    const snap = await getSnapshot(h.client, id);
    expect(snap.leaves).toEqual(['awaiting_approval']);
    expect(snap.context).toMatchObject({ approved: false, escort_named: false, concealment_complete: false });
    await expectRefused(h, id, { type: 'CHECK_IN', actor: eve, data: checkIn }, 'CANNOT_TAKE');
  });

  it('[4.4.3] photographs or copies only after a recorded permission, recorded by the escort', async () => {
    const id = await onSite();
    const photo = { kind: 'photograph', description: 'meeting room whiteboard', count: 2 };
    await expectRefused(
      h,
      id,
      { type: 'RECORD_PHOTO_COPY', actor: eve, data: photo },
      'GUARD_FALSE',
      'condition not met: ctx.copy_permitted && actor.id == ctx.escort',
    );
    const grant = { kinds: ['photograph'], scope: 'whiteboard in the meeting room' };
    await expectRefused(
      h,
      id,
      { type: 'GRANT_COPY_PERMISSION', actor: eve, data: grant },
      'ROLE_NOT_ALLOWED',
      'allowed roles: general_affairs_head, quality_manager',
    );
    await send(h, id, { type: 'GRANT_COPY_PERMISSION', actor: gail, data: grant });
    await expectRefused(h, id, { type: 'RECORD_PHOTO_COPY', actor: pat, data: photo }, 'GUARD_FALSE');
    await send(h, id, { type: 'RECORD_PHOTO_COPY', actor: eve, data: photo });
    const log = await recordsNamed(h, id, 'visitor_log', 6);
    expect(log.slice(4).map((l) => l.fields)).toEqual([
      expect.objectContaining({ event: 'copy_permission', granted_by: 'gail', kinds: ['photograph'] }),
      expect.objectContaining({ event: 'photo_copy', kind: 'photograph', count: 2, recorded_by: 'eve' }),
    ]);
  });

  it('[4.4.3][4.4.2] a permission per kind; another client’s material needs that client’s permission', async () => {
    const id = await onSite();
    await send(h, id, {
      type: 'GRANT_COPY_PERMISSION',
      actor: gail,
      data: { kinds: ['photograph'], scope: 'the visitor’s own prototype on the bench' },
    });
    // Granted photograph: copying 20 pages is refused.
    const report = { kind: 'copy', description: 'test report of another client', count: 20 };
    await expectRefused(h, id, { type: 'RECORD_PHOTO_COPY', actor: eve, data: report }, 'GUARD_FALSE');
    // Nor may another client's material be photographed without that client's permission.
    const theirs = { kind: 'photograph', description: 'globex sample', count: 1, owner_client: 'globex' };
    await expectRefused(h, id, { type: 'RECORD_PHOTO_COPY', actor: eve, data: theirs }, 'GUARD_FALSE');
    // The other client's permission is not optional when its material is named …
    await expectRefused(
      h,
      id,
      {
        type: 'GRANT_COPY_PERMISSION',
        actor: gail,
        data: { kinds: ['photograph'], scope: 'globex sample', owner_client: 'globex' },
      },
      'INVALID_DATA',
      'client_permission_ref',
    );
    // … and with it, that client's material may be photographed (still not copied).
    await send(h, id, {
      type: 'GRANT_COPY_PERMISSION',
      actor: gail,
      data: {
        kinds: ['photograph'],
        scope: 'globex sample',
        owner_client: 'globex',
        client_permission_ref: 'GLOBEX-L-12',
      },
    });
    await send(h, id, { type: 'RECORD_PHOTO_COPY', actor: eve, data: theirs });
    await expectRefused(
      h,
      id,
      { type: 'RECORD_PHOTO_COPY', actor: eve, data: { ...theirs, kind: 'copy' } },
      'GUARD_FALSE',
    );
    expect((await getSnapshot(h.client, id)).context).toMatchObject({
      permitted_kinds: ['photograph'],
      permitted_clients: ['globex'],
    });
  });

  it('[4.4.4][4.6.3] a visitor left alone opens a violation case for the visiting organisation', async () => {
    const id = await onSite();
    const r = await send(h, id, {
      type: 'REPORT_UNESCORTED',
      actor: pat,
      data: { zone: 'testing_area', minutes_alone: 10, circumstances: 'escort called away, visitor stayed' },
    });
    expect(r.leaves).toEqual(['on_site.escorted']);
    const { child } = await linkedInstance(h, id);
    expect(child).toMatchObject({
      procedure: 'violation_case',
      leaves: ['reported'],
      context: {
        client: 'CNAS',
        source_workflow: 'external_visit',
        reason: '外部人员无人陪同独自停留 / External visitor left alone',
      },
    });
    expect(child.context.description).toContain('testing_area');
    await notified(h, id, 'general_affairs_head', 'A visitor was left alone');
  });

  it('[4.4.3][4.6.3] photographs or copies taken without permission open a violation case', async () => {
    const id = await onSite();
    await send(h, id, {
      type: 'REPORT_UNPERMITTED_COPY',
      actor: eve,
      data: { kind: 'photograph', circumstances: 'photo of a sample label', material_recovered: true },
    });
    const { child } = await linkedInstance(h, id);
    expect(child.context).toMatchObject({ client: 'CNAS', description: 'photo of a sample label' });
    expect(await send(h, id, { type: 'CHECK_OUT', actor: eve, data: checkOut })).toMatchObject({
      done: true,
    });
  });

  it('[4.4.1] an undecided visit request is chased, then expires (durations scaled)', async () => {
    const id = await startDefinition(h, short, {}, hal);
    await send(h, id, { type: 'REQUEST_VISIT', actor: hal, data: request });
    await notified(h, id, 'general_affairs_head', 'has awaited approval for more than 2 days');
    const final = await instanceResult(h.client, id);
    expect(final.leaves).toEqual(['expired']);
    expect(final.log.map((l) => l.event)).toEqual([
      '$start',
      'REQUEST_VISIT',
      '$sla',
      `after ${short.durations['P14D']}`,
    ]);
    // The chase is the state's sla escalation (P2D, scaled); the expiry stays a timer.
    expect(final.log[2]).toMatchObject({
      actor: { id: 'sla' },
      data: { kind: 'escalate', state: 'awaiting_approval', roles: ['general_affairs_head'], level: 1 },
    });
  });

  it('[4.4.1][4.4.4] visitors still on site at the end of the day, and an escort handover not taken over, escalate (durations scaled)', async () => {
    const id = await startDefinition(h, short, {}, hal);
    await send(h, id, ...toOnSite, {
      type: 'HAND_OVER_ESCORT',
      actor: eve,
      data: { to: 'pat', reason: 'lunch' },
    });
    await notified(h, id, 'general_affairs_head', 'has not been taken over within 30 minutes');
    await notified(h, id, 'quality_manager', 'Visitors checked in 8 hours ago have not been checked out');
    await notified(
      h,
      id,
      'general_affairs_head',
      'Visitors checked in 8 hours ago have not been checked out',
    );
    expect((await getSnapshot(h.client, id)).leaves).toEqual(['on_site.handover_pending']);
    await send(h, id, { type: 'CANCEL_HANDOVER', actor: eve });
    expect(await send(h, id, { type: 'CHECK_OUT', actor: eve, data: checkOut })).toMatchObject({
      done: true,
    });
  });
});
