/**
 * The records an assessor asks for (5.2, 4.1.4, 4.5.1, 3.2.3) on the real Temporal server: the
 * NDA register (`client_agreement`) that custody checks, the Certification Contract register
 * (`certification_contract`) that site assignments check, both through the `lookup` action —
 * the outcome is the engine's event, visible in the instance's log — and the periodic review of
 * the procedure (`procedure_review`).
 */
import proto from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSnapshot, instanceResult } from '../../worker/instances.ts';
import { scheduleId, syncSchedules } from '../../worker/schedules.ts';
import { listInstances } from '../../worker/visibility.ts';
import { eventually, type Harness } from '../integration/harness.ts';
import { recordHistory } from '../integration/record-history.ts';
import { expectRefused, notified, recordsNamed, startScenarioHarness } from './scenario.ts';
import { fileContract, fileNda, send } from './registers.ts';

const rita = { id: 'rita', roles: ['application_reviewer'] };
const ada = { id: 'ada', roles: ['quality_administrator'] };
const quinn = { id: 'quinn', roles: ['quality_manager'] };
const gina = { id: 'gina', roles: ['general_manager'] };

const receipt = {
  items: [{ item_id: 'S1', kind: 'sample', description: 'prototype controller, sealed box' }],
  confidentiality_requirements: 'never photographed without written consent',
  storage_requirements: 'locked cabinet',
};
const assignment = (contract_ref: string, activities: string[]) => ({
  contract_ref,
  site_address: 'Plant 2, 8 Industrial Road, Suzhou',
  activities,
  team: ['lee'],
  lead: 'lee',
  planned_start: '2026-09-02',
  planned_end: '2026-09-03',
});

const { EventType } = proto.temporal.api.enums.v1;

let h: Harness;
beforeAll(async () => {
  h = await startScenarioHarness(
    'client_agreement',
    'certification_contract',
    'sample_custody',
    'site_assignment',
    'procedure_review',
    'violation_case',
  );
});
afterAll(async () => {
  await h?.close();
});

/** A lot of `client` received into quarantine. */
async function inQuarantine(client: string): Promise<string> {
  const id = await h.start('sample_custody', { client, lot_ref: `LOT-${client}` }, rita);
  await send(h, id, { type: 'RECORD_RECEIPT', actor: rita, data: receipt });
  return id;
}

describe('registers the procedure checks (5.2)', () => {
  it('[4.1.4] custody with no NDA on file for the client is refused visibly: the lot stays in quarantine', async () => {
    // Another client's NDA is on file: a lookup sees only the instance's own client's rows.
    await fileNda(h, 'other-client');
    const id = await inQuarantine('no-nda-client');
    const after = await send(h, id, { type: 'CHECK_NDA', actor: ada });
    expect(after.leaves).toEqual(['quarantine']);
    const snap = await getSnapshot(h.client, id);
    expect(snap.context).toMatchObject({ nda_on_file: false });
    // The refusal is the engine's event in the instance's log, and a custody-log row.
    expect(snap.log.at(-1)).toMatchObject({
      event: 'NDA_MISSING',
      actor: { id: '$custodia' },
      data: { reason: 'none' },
    });
    const log = await recordsNamed(h, id, 'custody_log', 2);
    expect(log.at(-1)?.fields).toMatchObject({ event: 'nda_missing', nda_missing_reason: 'none' });
    await notified(h, id, 'application_reviewer', 'holds no agreement with this client valid today');
    // Nothing leaves quarantine.
    await expectRefused(
      h,
      id,
      { type: 'HAND_OUT', actor: ada, data: { receiver: 'pat', items: ['S1'], purpose: 'testing' } },
      'CANNOT_TAKE',
      'HAND_OUT cannot be sent in state quarantine',
    );
    // Once the client's NDA is filed, the same check lets the lot into custody.
    await fileNda(h, 'no-nda-client', { reference: 'NDA-late' });
    expect((await send(h, id, { type: 'CHECK_NDA', actor: ada })).leaves).toEqual(['custody.in_store']);
    expect((await getSnapshot(h.client, id)).context).toMatchObject({
      nda_on_file: true,
      nda_ref: 'NDA-late',
    });
    // The lookup's outcome is an update to this same instance: its commit must not hold the
    // workflow task (a local activity does, so the outcome waited for the task's heartbeat, ~8 s).
    // Commits carrying a lookup run as the regular activity; the others stay local (no activity task).
    const events = (await h.client.workflow.getHandle(id).fetchHistory()).events ?? [];
    const scheduled = events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);
    expect(scheduled.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)).toEqual([
      'commitTransition',
      'commitTransition',
    ]);
    await recordHistory(h.client, id, 'registers-lookup-nda-custody');
  });

  it('[4.1.4] an expired NDA is refused, and so is one a correction ended early; a person cannot claim an NDA is valid', async () => {
    await fileNda(h, 'expired-client', {
      reference: 'NDA-old',
      valid_from: '2019-01-01',
      valid_until: '2020-12-31',
    });
    const id = await inQuarantine('expired-client');
    await expectRefused(
      h,
      id,
      {
        type: 'NDA_VALID',
        actor: { id: 'ada', roles: ['registry'] },
        data: { reference: 'NDA-fake', valid_until: '2099-12-31' },
      },
      'CANNOT_TAKE',
      'NDA_VALID cannot be sent in state quarantine',
    );
    expect((await send(h, id, { type: 'CHECK_NDA', actor: ada })).leaves).toEqual(['quarantine']);
    const refused = await getSnapshot(h.client, id);
    expect(refused.context).toMatchObject({ nda_on_file: false });
    expect(refused.log.at(-1)).toMatchObject({ event: 'NDA_MISSING', data: { reason: 'expired' } });

    // A valid agreement ended early: the row is never edited; a correction (a new row) ends it.
    const agreement = await fileNda(h, 'ended-client', { reference: 'NDA-ended' });
    const [row] = await h.running.store.recordsOf(agreement);
    await h.running.store.correctRecord({
      name: 'nda_register',
      workflowId: agreement,
      seq: row!.seq,
      idx: row!.idx,
      fields: { valid_until: '2021-06-30' },
      reason: 'terminated by the client on 2021-06-30',
      by: 'quinn',
    });
    const lot = await inQuarantine('ended-client');
    expect((await send(h, lot, { type: 'CHECK_NDA', actor: ada })).leaves).toEqual(['quarantine']);
    expect((await getSnapshot(h.client, lot)).log.at(-1)).toMatchObject({
      event: 'NDA_MISSING',
      data: { reason: 'expired' },
    });
  });

  it('[4.5.1] a site assignment outside the contract’s registered scope is refused; within it, the scope comes from the register', async () => {
    await fileContract(h, 'scoped-client', { reference: 'CC-77', scope: ['document_review'] });
    const id = await h.start('site_assignment', { client: 'scoped-client' }, rita);
    // Sampling is not in the contract: refused, back to planning, with the reason logged.
    const refused = await send(h, id, {
      type: 'ASSIGN',
      actor: rita,
      data: assignment('CC-77', ['document_review', 'product_sampling']),
    });
    expect(refused.leaves).toEqual(['planning']);
    expect((await getSnapshot(h.client, id)).context).toMatchObject({ contract_refusal: 'outside_scope' });
    const log = await recordsNamed(h, id, 'site_log');
    expect(log[0]?.fields).toMatchObject({ event: 'assignment_refused', reason: 'outside_scope' });
    await notified(h, id, 'application_reviewer', 'go beyond what the Certification Contract provides for');
    // A contract reference the client has not registered: refused as missing.
    await send(h, id, { type: 'ASSIGN', actor: rita, data: assignment('CC-none', ['document_review']) });
    expect((await getSnapshot(h.client, id)).context).toMatchObject({ contract_refusal: 'none' });
    // Within the scope: assigned, and the collection checks use the registered scope.
    expect(
      (await send(h, id, { type: 'ASSIGN', actor: rita, data: assignment('CC-77', ['document_review']) }))
        .leaves,
    ).toEqual(['assigned']);
    expect((await getSnapshot(h.client, id)).context).toMatchObject({
      activities_in_scope: ['document_review'],
      planned_activities: ['document_review'],
      contract_valid_until: '2099-12-31',
    });
  });

  it('[3.2.3][3.2.2][3.1.1] the periodic review of the procedure runs to its end, revised when changes are needed', async () => {
    const id = await h.start('procedure_review', { trigger: 'by_hand' }, quinn);
    await send(h, id, {
      type: 'RECORD_INPUTS',
      actor: quinn,
      data: {
        period_from: '2026-01-01',
        period_to: '2026-12-31',
        cases_reviewed: 3,
        supervision_reports: 12,
        changes_in_requirements: 'CNAS-CL01 revised: visitors to sign undertakings',
      },
    });
    await expectRefused(
      h,
      id,
      { type: 'CONCLUDE', actor: gina, data: { conclusion: 'effective', findings: 'fine' } },
      'ROLE_NOT_ALLOWED',
      'allowed roles: quality_manager',
    );
    expect(
      (
        await send(h, id, {
          type: 'CONCLUDE',
          actor: quinn,
          data: { conclusion: 'changes_needed', findings: 'visitor undertakings missing from 4.4' },
        })
      ).leaves,
    ).toEqual(['revising']);
    await send(
      h,
      id,
      {
        type: 'RECORD_REVISION',
        actor: quinn,
        data: { revision_ref: 'external_visit 2.0.0', summary: 'undertaking step' },
      },
      { type: 'ACKNOWLEDGE', actor: gina, data: { resources: 'training budget for Q1' } },
    );
    const final = await instanceResult(h.client, id);
    expect(final.context).toMatchObject({
      conclusion: 'changes_needed',
      revision_recorded: true,
      acknowledged_by: 'gina',
    });
    const [row] = await recordsNamed(h, id, 'procedure_review_log');
    expect(row?.fields).toMatchObject({
      trigger: 'by_hand',
      conclusion: 'changes_needed',
      revision_ref: 'external_visit 2.0.0',
      reviewed_by: 'quinn',
      acknowledged_by: 'gina',
    });
  });

  it('[3.2.3] the periodic review is started by its schedule (yearly), as a scheduled review', async () => {
    const def = h.definitions.get('procedure_review')!;
    expect(def.ir.schedule).toMatchObject({ cron: '0 9 15 1 *', timezone: 'Asia/Shanghai' });
    expect((await syncSchedules(h.client, [def], h.config.taskQueue)).created).toEqual([
      scheduleId('procedure_review'),
    ]);
    const handle = h.client.schedule.getHandle(scheduleId('procedure_review'));
    try {
      await handle.trigger();
      const row = await eventually(async () =>
        (await listInstances(h.client, { procedure: 'procedure_review' })).find((r) =>
          r.state.includes('gathering'),
        ),
      );
      expect(row).toMatchObject({ awaiting: ['quality_manager'] });
      expect((await getSnapshot(h.client, row.workflowId)).context).toMatchObject({ trigger: 'scheduled' });
    } finally {
      await handle.delete();
    }
  });
});
