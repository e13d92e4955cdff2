/**
 * Scenarios of company staff at a client's certification site (`definitions/site_assignment.yaml`),
 * clauses 4.5.1–4.5.3 (with 3.5.1, 4.1.1 for collected material, and 4.6.3 for a violation), on
 * the real Temporal server. The timer scenario runs a copy of the shipped definition whose
 * durations only are scaled to seconds (`shortenTimers`): structure, guards and actions are the
 * shipped ones.
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
  shortenTimers,
  startDefinition,
  startScenarioHarness,
  type ShortenedDefinition,
} from './scenario.ts';
import { fileContract, send } from './registers.ts';

const rita = { id: 'rita', roles: ['application_reviewer'] };
const quinn = { id: 'quinn', roles: ['quality_manager'] };
const lee = { id: 'lee', roles: ['project_staff'] };
const pat = { id: 'pat', roles: ['project_staff'] };
const sam = { id: 'sam', roles: ['project_staff'] };
/** A team lead who is also an application reviewer: may not accept her own report. */
const lia = { id: 'lia', roles: ['project_staff', 'application_reviewer'] };

const assignment = {
  contract_ref: 'CC-2024-12',
  site_address: 'Acme plant, 8 Industrial Road, Suzhou',
  activities: ['surveillance_inspection', 'records_review'],
  team: ['lee', 'pat'],
  lead: 'lee',
  planned_start: '2024-09-02',
  planned_end: '2024-09-03',
};
const arrive = { arrived_on: '2024-09-02', members_present: ['lee', 'pat'], rules_briefed: true };
const leave = { left_on: '2024-09-03', activities_performed: ['surveillance_inspection'], declaration: true };
const report = {
  report_ref: 'SR-2024-12',
  summary: 'surveillance done, no nonconformity',
  materials_collected: 'none',
  deviations: 'none',
};
const extra = {
  kind: 'take_documents',
  activity: 'take a copy of the 2024 test plan',
  reason: 'needed for review',
};
const permission = {
  granted_by: 'Li Wei',
  position: 'quality director',
  instrument: 'signed site note SN-3',
};
const items = [{ item_id: 'S9', kind: 'sample', description: 'two controllers from line A, sealed bag' }];
const collected = {
  basis: 'contract_scope',
  items,
  handed_over_by: 'Li Wei',
  client_receipt_ref: 'HN-44',
  sealed: true,
  seal_ref: 'SEAL-7',
};

let h: Harness;
let short: ShortenedDefinition;
beforeAll(async () => {
  h = await startScenarioHarness(
    'site_assignment',
    'sample_custody',
    'violation_case',
    'certification_contract',
  );
  // The Certification Contract register (4.5.1, 5.2): the scope an assignment is checked against.
  for (const client of ['acme', 'globex'])
    await fileContract(h, client, { reference: 'CC-2024-12', scope: assignment.activities });
  short = shortenTimers(definitionOf(h, 'site_assignment'));
});
afterAll(async () => {
  await h?.close();
});

const toSite: EventInput[] = [
  { type: 'ASSIGN', actor: rita, data: assignment },
  { type: 'ARRIVE_ON_SITE', actor: lee, data: arrive },
];

/** An assignment whose team is on the client's site. */
async function onSite(client = 'acme', scope?: string[]): Promise<string> {
  // A contract of exactly this scope, registered for the client (its reference names the scope).
  const contract_ref = scope ? `CC-${scope.join('+')}` : assignment.contract_ref;
  if (scope) await fileContract(h, client, { reference: contract_ref, scope });
  const id = await h.start('site_assignment', { client }, rita);
  const steps = scope
    ? [{ ...toSite[0]!, data: { ...assignment, contract_ref, activities: scope } }, toSite[1]!]
    : toSite;
  await send(h, id, ...steps);
  return id;
}

describe('site_assignment — company staff at a client site (4.5)', () => {
  it('[4.5.1][3.5.1] assigned within the contract’s scope, on site, left with a declaration, report accepted by another person', async () => {
    const id = await h.start('site_assignment', { client: 'acme' }, rita);
    expect((await send(h, id, { type: 'ASSIGN', actor: rita, data: assignment })).state).toBe('assigned');
    await notified(h, id, 'project_staff', 'do only what the contract provides for');
    expect((await send(h, id, { type: 'ARRIVE_ON_SITE', actor: lee, data: arrive })).leaves).toEqual([
      'on_site.working',
    ]);
    expect((await send(h, id, { type: 'LEAVE_SITE', actor: lee, data: leave })).state).toBe('reporting');
    expect((await send(h, id, { type: 'SUBMIT_SITE_REPORT', actor: lee, data: report })).state).toBe(
      'report_review',
    );
    expect(await send(h, id, { type: 'ACCEPT_REPORT', actor: rita, data: {} })).toMatchObject({
      state: 'closed',
      done: true,
    });
    const final = await instanceResult(h.client, id);
    expect(final.context).toMatchObject({
      contract_ref: 'CC-2024-12',
      activities_in_scope: ['surveillance_inspection', 'records_review'],
      lead: 'lee',
      assigned_by: 'rita',
      report_by: 'lee',
      reviewed_by: 'rita',
      client_permission_recorded: false,
    });
    const log = await recordsNamed(h, id, 'site_log', 5);
    expect(log.map((l) => l.fields.event)).toEqual([
      'assigned',
      'arrived',
      'left_site',
      'report_submitted',
      'report_accepted',
    ]);
  });

  it('[4.5.1] refuses an activity beyond the contract until the client’s permission is recorded', async () => {
    const id = await onSite();
    await expectRefused(
      h,
      id,
      { type: 'REQUEST_EXTRA_ACTIVITY', actor: sam, data: extra },
      'GUARD_FALSE',
      'condition not met: actor.id in ctx.team',
    );
    await send(h, id, { type: 'REQUEST_EXTRA_ACTIVITY', actor: pat, data: extra });
    expect((await getSnapshot(h.client, id)).leaves).toEqual(['on_site.awaiting_permission']);
    await expectRefused(
      h,
      id,
      { type: 'COMPLETE_EXTRA_ACTIVITY', actor: pat, data: { outcome: 'copied', within_permission: true } },
      'CANNOT_TAKE',
      'COMPLETE_EXTRA_ACTIVITY cannot be sent in state on_site.awaiting_permission',
    );
    await expectRefused(
      h,
      id,
      { type: 'COLLECT_MATERIAL', actor: pat, data: { ...collected, basis: 'client_permission' } },
      'GUARD_FALSE',
      "'take_sample' in ctx.permitted_kinds",
    );
    await expectRefused(h, id, { type: 'LEAVE_SITE', actor: lee, data: leave }, 'CANNOT_TAKE');
    await expectRefused(
      h,
      id,
      { type: 'RECORD_CLIENT_PERMISSION', actor: pat, data: { granted_by: 'Li Wei', position: 'QA' } },
      'INVALID_DATA',
      'missing required field "instrument"',
    );
    expect(
      (await send(h, id, { type: 'RECORD_CLIENT_PERMISSION', actor: pat, data: permission })).leaves,
    ).toEqual(['on_site.extra_activity']);
    const [perm] = await recordsNamed(h, id, 'permission_log');
    expect(perm!.fields).toMatchObject({
      activity: extra.activity,
      kind: 'take_documents',
      granted_by: 'Li Wei',
      instrument: 'signed site note SN-3',
      recorded_by: 'pat',
    });
    await expectRefused(
      h,
      id,
      {
        type: 'COMPLETE_EXTRA_ACTIVITY',
        actor: pat,
        data: { outcome: 'copied more', within_permission: false },
      },
      'INVALID_DATA',
      '/within_permission',
    );
    await send(h, id, {
      type: 'COMPLETE_EXTRA_ACTIVITY',
      actor: pat,
      data: { outcome: 'copy taken', within_permission: true },
    });
    expect((await getSnapshot(h.client, id)).context.client_permission_recorded).toBe(false);

    // Refused by the client: back to work within the contract, nothing done.
    await send(
      h,
      id,
      {
        type: 'REQUEST_EXTRA_ACTIVITY',
        actor: pat,
        data: { ...extra, kind: 'photograph', activity: 'photograph line B' },
      },
      { type: 'RECORD_CLIENT_REFUSAL', actor: pat, data: { refused_by: 'Li Wei' } },
    );
    const snap = await getSnapshot(h.client, id);
    expect(snap.leaves).toEqual(['on_site.working']);
    expect(snap.context.client_permission_recorded).toBe(false);
  });

  it('[4.5.1] leaving the site, every activity declared is in the contract’s scope or permitted by the client', async () => {
    const id = await onSite();
    const beyond = { ...leave, activities_performed: ['surveillance_inspection', 'product_sampling'] };
    const scopeCheck =
      'data.activities_performed.all(a, a in ctx.activities_in_scope || a in ctx.permitted_activities)';
    // product_sampling is not in the contract's scope and the client has not permitted it.
    await expectRefused(h, id, { type: 'LEAVE_SITE', actor: lee, data: beyond }, 'GUARD_FALSE', scopeCheck);

    // A permission that names no site activity does not permit one.
    await send(
      h,
      id,
      { type: 'REQUEST_EXTRA_ACTIVITY', actor: pat, data: extra },
      { type: 'RECORD_CLIENT_PERMISSION', actor: pat, data: permission },
      {
        type: 'COMPLETE_EXTRA_ACTIVITY',
        actor: pat,
        data: { outcome: 'copy taken', within_permission: true },
      },
    );
    await expectRefused(h, id, { type: 'LEAVE_SITE', actor: lee, data: beyond }, 'GUARD_FALSE', scopeCheck);

    // The client permits product sampling: recorded, and now it may be declared — nothing else beyond.
    await send(
      h,
      id,
      {
        type: 'REQUEST_EXTRA_ACTIVITY',
        actor: pat,
        data: {
          kind: 'take_sample',
          activity: 'sample two controllers from line B',
          reason: 'suspected deviation',
        },
      },
      {
        type: 'RECORD_CLIENT_PERMISSION',
        actor: pat,
        data: { ...permission, instrument: 'signed site note SN-4', contract_activity: 'product_sampling' },
      },
      {
        type: 'COMPLETE_EXTRA_ACTIVITY',
        actor: pat,
        data: { outcome: 'two samples taken', within_permission: true },
      },
    );
    expect((await getSnapshot(h.client, id)).context.permitted_activities).toEqual(['product_sampling']);
    const perms = await recordsNamed(h, id, 'permission_log', 2);
    expect(perms.map((p) => p.fields.contract_activity)).toEqual(['', 'product_sampling']);
    await expectRefused(
      h,
      id,
      {
        type: 'LEAVE_SITE',
        actor: lee,
        data: { ...leave, activities_performed: ['product_sampling', 'witness_testing'] },
      },
      'GUARD_FALSE',
      scopeCheck,
    );
    expect((await send(h, id, { type: 'LEAVE_SITE', actor: lee, data: beyond })).state).toBe('reporting');
    // assigned, arrived, 2 × (extra activity requested, done), left_site.
    const log = await recordsNamed(h, id, 'site_log', 7);
    const left = log.find((l) => l.fields.event === 'left_site');
    expect(left!.fields).toMatchObject({
      activities_performed: ['surveillance_inspection', 'product_sampling'],
      with_client_permission: ['product_sampling'],
      declared_by: 'lee',
    });
  });

  it('[4.5.1][4.1.1][3.5.2] material collected in the company’s name enters custody: a sample_custody instance for the client', async () => {
    const id = await onSite('initech', ['surveillance_inspection', 'product_sampling']);
    await expectRefused(
      h,
      id,
      { type: 'COLLECT_MATERIAL', actor: sam, data: collected },
      'GUARD_FALSE',
      'actor.id in ctx.team',
    );
    await expectRefused(
      h,
      id,
      { type: 'COLLECT_MATERIAL', actor: pat, data: { ...collected, sealed: false } },
      'INVALID_DATA',
      '/sealed',
    );
    const r = await send(h, id, { type: 'COLLECT_MATERIAL', actor: pat, data: collected });
    expect(r.leaves).toEqual(['on_site.working']);
    const { child } = await linkedInstance(h, id, 'sample_custody');
    expect(child).toMatchObject({
      procedure: 'sample_custody',
      leaves: ['received'],
      context: {
        client: 'initech',
        lot_ref: 'CC-surveillance_inspection+product_sampling',
        items,
        nda_on_file: false,
      },
    });
    await notified(h, id, 'application_reviewer', 'record their receipt');
  });

  it('[4.5.1] the basis is checked against the contract’s scope and the kind of the client’s permission', async () => {
    // The contract provides for a document review only: no sample "within the contract's scope".
    const id = await onSite('acme', ['document_review']);
    await expectRefused(h, id, { type: 'COLLECT_MATERIAL', actor: pat, data: collected }, 'GUARD_FALSE');
    const designDocs = [{ item_id: 'D4', kind: 'document', description: 'internal design documents' }];
    // An interview permitted by the client does not let documents be taken on that basis.
    await send(
      h,
      id,
      {
        type: 'REQUEST_EXTRA_ACTIVITY',
        actor: pat,
        data: { kind: 'interview', activity: 'interview the line manager', reason: 'process question' },
      },
      { type: 'RECORD_CLIENT_PERMISSION', actor: pat, data: permission },
      {
        type: 'COMPLETE_EXTRA_ACTIVITY',
        actor: pat,
        data: { outcome: 'interviewed', within_permission: true },
      },
    );
    const byPermission = { ...collected, basis: 'client_permission', items: designDocs };
    await expectRefused(h, id, { type: 'COLLECT_MATERIAL', actor: pat, data: byPermission }, 'GUARD_FALSE');
    // Within the contract, a document review does cover documents.
    expect(
      (await send(h, id, { type: 'COLLECT_MATERIAL', actor: pat, data: { ...collected, items: designDocs } }))
        .leaves,
    ).toEqual(['on_site.working']);
    // A take_sample permission covers samples (and only by that basis).
    await send(
      h,
      id,
      {
        type: 'REQUEST_EXTRA_ACTIVITY',
        actor: pat,
        data: { kind: 'take_sample', activity: 'take two prototypes', reason: 'type test' },
      },
      { type: 'RECORD_CLIENT_PERMISSION', actor: pat, data: permission },
      { type: 'COMPLETE_EXTRA_ACTIVITY', actor: pat, data: { outcome: 'taken', within_permission: true } },
    );
    await expectRefused(h, id, { type: 'COLLECT_MATERIAL', actor: pat, data: byPermission }, 'GUARD_FALSE');
    const r = await send(h, id, {
      type: 'COLLECT_MATERIAL',
      actor: pat,
      data: { ...collected, basis: 'client_permission', client_receipt_ref: 'HN-45' },
    });
    expect(r.leaves).toEqual(['on_site.working']);
    expect((await getSnapshot(h.client, id)).context.permitted_kinds).toEqual(['interview', 'take_sample']);
  });

  it('[4.5.2][4.6.3] personal photographing or copying is never an event; reporting it opens a violation case', async () => {
    const id = await onSite();
    await expectRefused(
      h,
      id,
      { type: 'PERSONAL_PHOTOGRAPH', actor: pat },
      'UNKNOWN_EVENT',
      'site_assignment has no event PERSONAL_PHOTOGRAPH',
    );
    const r = await send(h, id, {
      type: 'REPORT_PERSONAL_COPY',
      actor: lee,
      data: {
        person: 'pat',
        act: 'photograph',
        circumstances: 'phone photo of a drawing',
        copies_recovered: true,
      },
    });
    expect(r.leaves).toEqual(['on_site.working']);
    const { child } = await linkedInstance(h, id);
    expect(child).toMatchObject({
      leaves: ['reported'],
      context: {
        client: 'acme',
        source_workflow: 'site_assignment',
        description: 'pat (photograph): phone photo of a drawing',
      },
    });
    await notified(h, id, 'quality_manager', 'copied client information at a site in a personal capacity');
  });

  it('[4.5.3][4.6.3] soliciting samples or documents in a personal capacity: reporting it opens a violation case', async () => {
    const id = await onSite('globex');
    await send(h, id, { type: 'LEAVE_SITE', actor: lee, data: leave });
    const r = await send(h, id, {
      type: 'REPORT_SOLICITATION',
      actor: quinn,
      data: { person: 'pat', requested: 'a spare controller', circumstances: 'client complained afterwards' },
    });
    expect(r.state).toBe('reporting');
    const { child } = await linkedInstance(h, id);
    expect(child.context).toMatchObject({
      client: 'globex',
      reason:
        '以个人名义向客户索取样品/资料 / Soliciting samples or documents from the client in a personal capacity',
    });
  });

  it('[4.5.1] refuses a lead outside the team, an arrival or departure by the wrong person, and a report accepted by its author', async () => {
    const id = await h.start('site_assignment', { client: 'acme' }, rita);
    await expectRefused(
      h,
      id,
      { type: 'ASSIGN', actor: rita, data: { ...assignment, lead: 'sam' } },
      'GUARD_FALSE',
      'condition not met: data.lead in data.team',
    );
    await expectRefused(
      h,
      id,
      { type: 'ASSIGN', actor: lee, data: assignment },
      'ROLE_NOT_ALLOWED',
      'allowed roles: application_reviewer, quality_manager',
    );
    await expectRefused(
      h,
      id,
      {
        type: 'ASSIGN',
        actor: rita,
        data: { ...assignment, activities: ['product_sampling', 'shopping'] },
      },
      'INVALID_DATA',
      '/activities/1: must be one of',
    );
    await send(h, id, {
      type: 'ASSIGN',
      actor: rita,
      data: { ...assignment, team: ['lia', 'pat'], lead: 'lia' },
    });
    await expectRefused(
      h,
      id,
      { type: 'ARRIVE_ON_SITE', actor: sam, data: arrive },
      'GUARD_FALSE',
      'actor.id in ctx.team && data.members_present.all(m, m in ctx.team)',
    );
    await send(h, id, {
      type: 'ARRIVE_ON_SITE',
      actor: pat,
      data: { ...arrive, members_present: ['lia', 'pat'] },
    });
    await expectRefused(
      h,
      id,
      { type: 'LEAVE_SITE', actor: pat, data: leave },
      'GUARD_FALSE',
      'condition not met: actor.id == ctx.lead',
    );
    await expectRefused(
      h,
      id,
      { type: 'LEAVE_SITE', actor: lia, data: { ...leave, declaration: false } },
      'INVALID_DATA',
      '/declaration',
    );
    await send(
      h,
      id,
      { type: 'LEAVE_SITE', actor: lia, data: leave },
      { type: 'SUBMIT_SITE_REPORT', actor: lia, data: report },
    );
    await expectRefused(
      h,
      id,
      { type: 'ACCEPT_REPORT', actor: lia, data: {} },
      'DUTY_CONFLICT',
      'The author of the site report may not accept it',
    );
    expect(
      (await send(h, id, { type: 'RETURN_REPORT', actor: quinn, data: { reason: 'add the records list' } }))
        .state,
    ).toBe('reporting');
  });

  it('[4.5.1] a permission left unanswered and an overlong stay on site are chased (durations scaled)', async () => {
    const id = await startDefinition(h, short, { client: 'acme' }, rita);
    await send(h, id, ...toSite, { type: 'REQUEST_EXTRA_ACTIVITY', actor: pat, data: extra });
    await notified(
      h,
      id,
      'project_staff',
      'No client permission for the activity beyond the contract after 1 day',
    );
    await notified(h, id, 'quality_manager', 'Work at the client');
    const snap = await getSnapshot(h.client, id);
    expect(snap.leaves).toEqual(['on_site.awaiting_permission']);
    // Both by sla escalations: the permission (P1D, to project staff) and the stay (P7D, to the QM).
    expect(snap.log.filter((l) => l.event === '$sla').map((l) => [l.data?.state, l.data?.roles])).toEqual(
      expect.arrayContaining([
        ['on_site.awaiting_permission', ['project_staff']],
        ['on_site', ['quality_manager']],
      ]),
    );
  });
});
