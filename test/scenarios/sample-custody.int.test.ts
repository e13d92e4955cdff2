/**
 * Scenarios of sample and technical-document custody (`definitions/sample_custody.yaml`), clauses
 * 4.1.1–4.1.4 and 4.2.1 (with 3.4.1, and 4.6.3 for a loss), on the real Temporal server. The
 * timer scenario runs a copy of the shipped definition whose durations only are scaled to seconds
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
  shortenTimers,
  startDefinition,
  startScenarioHarness,
  type ShortenedDefinition,
} from './scenario.ts';
import { fileNda, send } from './registers.ts';

const rita = { id: 'rita', roles: ['application_reviewer'] };
const ada = { id: 'ada', roles: ['quality_administrator'] };
const amy = { id: 'amy', roles: ['quality_administrator'] };
const pat = { id: 'pat', roles: ['project_staff'] };
const pia = { id: 'pia', roles: ['project_staff'] };

const receipt = {
  items: [
    { item_id: 'S1', kind: 'sample', description: 'prototype controller, sealed box' },
    { item_id: 'D1', kind: 'document', description: 'circuit diagrams, 12 pages' },
  ],
  confidentiality_requirements: 'diagrams never copied; prototype never photographed without written consent',
  storage_requirements: 'locked cabinet, 15–25 °C',
};
const handover = (receiver: string) => ({ receiver, items: ['S1', 'D1'], purpose: 'type testing' });
const accept = { items_match: true };
const permission = (operation: string) => ({
  operation,
  items: ['S1'],
  granted_by: 'Li Wei',
  instrument: `letter P-${operation}`,
});
const handle = (operation: string) => ({ operation, items: ['S1'], purpose: 'test evidence' });
const returnAll = {
  receipt_ref: 'RCPT-31',
  collected_by: 'Li Wei',
  all_items_returned: true,
  returned_on: '2024-06-01',
};

let h: Harness;
let short: ShortenedDefinition;
beforeAll(async () => {
  h = await startScenarioHarness('sample_custody', 'violation_case', 'client_agreement');
  // The NDA register (4.1.4, 5.2): the clients whose lots leave quarantine have one on file.
  for (const client of ['acme', 'initech']) await fileNda(h, client);
  short = shortenTimers(definitionOf(h, 'sample_custody'));
});
afterAll(async () => {
  await h?.close();
});

const intoStore: EventInput[] = [
  { type: 'RECORD_RECEIPT', actor: rita, data: receipt },
  { type: 'CHECK_NDA', actor: ada },
];
const toPat: EventInput[] = [
  ...intoStore,
  { type: 'HAND_OUT', actor: ada, data: handover('pat') },
  { type: 'ACCEPT_HAND_OUT', actor: pat, data: accept },
];

/** A lot with project staff member pat. */
async function withPat(client = 'acme'): Promise<string> {
  const id = await h.start('sample_custody', { client, lot_ref: 'LOT-31' }, rita);
  await send(h, id, ...toPat);
  return id;
}

describe('sample_custody — custody and handover of samples and documents (4.1, 4.2.1)', () => {
  it('[4.1.1][4.1.4][4.1.2][4.1.3][3.4.1][3.4.2][3.3.2] requirements recorded, NDA on file, signed handovers, returned to the client against a receipt', async () => {
    const id = await h.start('sample_custody', { client: 'acme', lot_ref: 'LOT-31' }, rita);
    expect((await send(h, id, { type: 'RECORD_RECEIPT', actor: rita, data: receipt })).state).toBe(
      'quarantine',
    );
    expect((await send(h, id, { type: 'CHECK_NDA', actor: ada })).leaves).toEqual(['custody.in_store']);
    expect((await send(h, id, { type: 'HAND_OUT', actor: ada, data: handover('pat') })).leaves).toEqual([
      'custody.issue_pending',
    ]);
    expect((await send(h, id, { type: 'ACCEPT_HAND_OUT', actor: pat, data: accept })).leaves).toEqual([
      'custody.with_staff.working',
    ]);
    expect((await send(h, id, { type: 'TRANSFER', actor: pat, data: handover('pia') })).leaves).toEqual([
      'custody.transfer_pending',
    ]);
    await send(h, id, { type: 'ACCEPT_TRANSFER', actor: pia, data: accept });
    expect((await getSnapshot(h.client, id)).context.holder).toBe('pia');
    expect((await send(h, id, { type: 'HAND_BACK', actor: pia, data: handover('ada') })).leaves).toEqual([
      'custody.return_pending',
    ]);
    expect((await send(h, id, { type: 'ACCEPT_HAND_BACK', actor: ada, data: accept })).leaves).toEqual([
      'custody.in_store',
    ]);
    const r = await send(h, id, {
      type: 'RELEASE_FOR_RETURN',
      actor: ada,
      data: { reason: 'work_completed' },
    });
    expect(r.leaves).toEqual(['awaiting_retrieval.waiting']);
    await notified(h, id, 'client', 'please collect all samples and documents');
    await expectRefused(
      h,
      id,
      { type: 'RETURN', actor: rita, data: { ...returnAll, all_items_returned: false } },
      'INVALID_DATA',
      '/all_items_returned',
    );
    expect(await send(h, id, { type: 'RETURN', actor: rita, data: returnAll })).toMatchObject({
      state: 'returned',
      done: true,
    });

    const final = await instanceResult(h.client, id);
    expect(final.context).toMatchObject({
      received_by: 'rita',
      confidentiality_requirements: receipt.confidentiality_requirements,
      nda_on_file: true,
      nda_ref: 'NDA-acme',
      receipt_ref: 'RCPT-31',
    });
    const custody = await recordsNamed(h, id, 'custody_log', 10);
    expect(custody.map((c) => c.fields.event)).toEqual([
      'receipt',
      'nda_on_file',
      'handover',
      'handover_signed',
      'handover',
      'handover_signed',
      'handover',
      'handover_signed',
      'released_for_return',
      'returned',
    ]);
    const signed = custody.filter((c) => c.fields.event === 'handover_signed').map((c) => c.fields);
    expect(signed).toEqual([
      expect.objectContaining({ giver: 'ada', receiver: 'pat' }),
      expect.objectContaining({ giver: 'pat', receiver: 'pia' }),
      expect.objectContaining({ giver: 'pia', receiver: 'ada' }),
    ]);
  });

  it('[4.1.4][4.1.1][3.4.1] nothing leaves quarantine before the NDA is on file', async () => {
    // A start cannot claim an NDA or a permission: neither is an input field.
    await expect(
      h.start('sample_custody', { client: 'acme', nda_on_file: true, permit_copy: true }, rita),
    ).rejects.toThrow(/"nda_on_file", "permit_copy" are not input fields of sample_custody/);
    const id = await h.start('sample_custody', { client: 'acme' }, rita);
    await expectRefused(
      h,
      id,
      { type: 'RECORD_RECEIPT', actor: ada, data: receipt },
      'ROLE_NOT_ALLOWED',
      'allowed roles: application_reviewer',
    );
    const { confidentiality_requirements: _c, ...noRequirements } = receipt;
    await expectRefused(
      h,
      id,
      { type: 'RECORD_RECEIPT', actor: rita, data: noRequirements },
      'INVALID_DATA',
      'missing required field "confidentiality_requirements"',
    );
    await send(h, id, { type: 'RECORD_RECEIPT', actor: rita, data: receipt });
    expect((await getSnapshot(h.client, id)).context).toMatchObject({
      nda_on_file: false,
      permit_copy: false,
    });
    for (const event of [
      { type: 'HAND_OUT', actor: ada, data: handover('pat') },
      { type: 'HANDLE', actor: pat, data: handle('unpack') },
      { type: 'RELEASE_FOR_RETURN', actor: ada, data: { reason: 'work_completed' } },
    ])
      await expectRefused(h, id, event, 'CANNOT_TAKE', `${event.type} cannot be sent in state quarantine`);
    expect((await send(h, id, { type: 'CHECK_NDA', actor: rita })).leaves).toEqual(['custody.in_store']);
  });

  it('[4.1.3] every handover names a receiver other than the giver, and only that person signs for it', async () => {
    const id = await h.start('sample_custody', { client: 'acme' }, rita);
    await send(h, id, ...intoStore);
    await expectRefused(
      h,
      id,
      { type: 'HAND_OUT', actor: ada, data: handover('ada') },
      'GUARD_FALSE',
      'condition not met: data.receiver != actor.id',
    );
    await send(h, id, { type: 'HAND_OUT', actor: ada, data: handover('pat') });
    await expectRefused(
      h,
      id,
      { type: 'ACCEPT_HAND_OUT', actor: pia, data: accept },
      'GUARD_FALSE',
      'condition not met: actor.id == ctx.pending_receiver',
    );
    await expectRefused(
      h,
      id,
      { type: 'ACCEPT_HAND_OUT', actor: pat, data: { items_match: false } },
      'INVALID_DATA',
      '/items_match',
    );
    await send(h, id, { type: 'ACCEPT_HAND_OUT', actor: pat, data: accept });
    await expectRefused(
      h,
      id,
      { type: 'HAND_BACK', actor: pia, data: handover('ada') },
      'GUARD_FALSE',
      'condition not met: actor.id == ctx.holder && data.receiver != actor.id',
    );
    await expectRefused(
      h,
      id,
      { type: 'RELEASE_FOR_RETURN', actor: ada, data: { reason: 'work_completed' } },
      'CANNOT_TAKE',
      'RELEASE_FOR_RETURN cannot be sent in state custody.with_staff.working',
    );
  });

  it('[4.2.1] refuses a handling operation with no client permission for it', async () => {
    const id = await withPat();
    await expectRefused(
      h,
      id,
      { type: 'HANDLE', actor: pat, data: handle('photograph') },
      'GUARD_FALSE',
      'HANDLE refused: condition not met',
      "(data.operation == 'photograph' && ctx.permit_photograph && data.items.all(i, i in ctx.permitted_photograph))",
    );
    await send(h, id, { type: 'RECORD_PERMISSION', actor: rita, data: permission('photograph') });
    // A permission covers its operation only.
    await expectRefused(
      h,
      id,
      { type: 'HANDLE', actor: pat, data: handle('copy') },
      'GUARD_FALSE',
      'ctx.permit_copy',
    );
    await expectRefused(
      h,
      id,
      { type: 'HANDLE', actor: rita, data: handle('photograph') },
      'ROLE_NOT_ALLOWED',
      'allowed roles: project_staff',
    );
    expect((await send(h, id, { type: 'HANDLE', actor: pat, data: handle('photograph') })).leaves).toEqual([
      'custody.with_staff.handling',
    ]);
    await send(h, id, {
      type: 'FINISH_HANDLING',
      actor: pat,
      data: { outcome: '6 photos for the test report' },
    });
    // Withdrawn: refused again.
    await send(h, id, {
      type: 'REVOKE_PERMISSION',
      actor: rita,
      data: { operation: 'photograph', instrument: 'letter W-1' },
    });
    await expectRefused(
      h,
      id,
      { type: 'HANDLE', actor: pat, data: handle('photograph') },
      'GUARD_FALSE',
      'ctx.permit_photograph',
    );
    const permissions = await recordsNamed(h, id, 'permission_log', 2);
    expect(permissions.map((p) => p.fields)).toEqual([
      expect.objectContaining({ operation: 'photograph', items: ['S1'], granted_by: 'Li Wei' }),
      expect.objectContaining({ operation: 'photograph', revoked: true }),
    ]);
    const handling = await recordsNamed(h, id, 'handling_log', 2);
    expect(handling[0]!.fields).toMatchObject({ operation: 'photograph', by: 'pat', items: ['S1'] });
  });

  it('[4.2.1] a permission withdrawn during the operation stops it at once', async () => {
    const id = await withPat();
    await send(
      h,
      id,
      { type: 'RECORD_PERMISSION', actor: ada, data: permission('take_out') },
      { type: 'HANDLE', actor: pat, data: { ...handle('take_out'), destination: 'EMC lab, building 2' } },
    );
    const r = await send(h, id, {
      type: 'REVOKE_PERMISSION',
      actor: ada,
      data: { operation: 'take_out', instrument: 'phone note T-9, confirmed by letter' },
    });
    expect(r.leaves).toEqual(['custody.with_staff.working']);
    expect((await getSnapshot(h.client, id)).context).toMatchObject({
      permit_take_out: false,
      handling_operation: 'none',
    });
    await notified(h, id, 'project_staff', 'The client withdrew its permission: stop the operation now');
  });

  it('[4.1.2] disposal only on the client’s written instruction, by another person than who recorded it, witnessed', async () => {
    const id = await h.start('sample_custody', { client: 'acme' }, rita);
    await send(h, id, ...intoStore, {
      type: 'RELEASE_FOR_RETURN',
      actor: ada,
      data: { reason: 'work_completed' },
    });
    const disposal = { disposed_on: '2024-07-01', witness: 'quinn', record_ref: 'DSP-4' };
    await expectRefused(
      h,
      id,
      { type: 'DISPOSE', actor: amy, data: disposal },
      'CANNOT_TAKE',
      'DISPOSE cannot be sent in state awaiting_retrieval.waiting',
    );
    // A partial return keeps the rest in custody.
    await send(h, id, {
      type: 'PARTIAL_RETURN',
      actor: ada,
      data: { receipt_ref: 'RCPT-P1', collected_by: 'Li Wei', items: ['D1'] },
    });
    expect((await getSnapshot(h.client, id)).leaves).toEqual(['awaiting_retrieval.waiting']);
    await send(h, id, {
      type: 'RECORD_DISPOSAL_INSTRUCTION',
      actor: ada,
      data: { instruction_ref: 'INS-7', signed_by_client: 'Li Wei', method: 'destroy' },
    });
    await expectRefused(
      h,
      id,
      { type: 'DISPOSE', actor: ada, data: disposal },
      'DUTY_CONFLICT',
      'The person who recorded the disposal instruction may not carry out the disposal',
    );
    await expectRefused(
      h,
      id,
      { type: 'DISPOSE', actor: amy, data: { ...disposal, witness: 'amy' } },
      'GUARD_FALSE',
      'condition not met: data.witness != actor.id',
    );
    expect(await send(h, id, { type: 'DISPOSE', actor: amy, data: disposal })).toMatchObject({
      state: 'disposed',
      done: true,
    });
    const custody = await recordsNamed(h, id, 'custody_log', 6);
    expect(custody.at(-1)!.fields).toMatchObject({
      event: 'disposed',
      instruction_ref: 'INS-7',
      disposed_by: 'amy',
      witness: 'quinn',
    });
  });

  it('[4.1.2][4.6.3] a loss reported while the items are with project staff opens a violation case for the client; the rest of the lot stays in custody', async () => {
    const id = await withPat('initech');
    const r = await send(h, id, {
      type: 'REPORT_LOSS',
      actor: pat,
      data: { items: ['D1'], circumstances: 'diagram pages 3–4 missing after the lab move' },
    });
    // Loss is per item: S1 is still in custody with pat, and custody goes on.
    expect(r).toMatchObject({ leaves: ['custody.with_staff.working'], done: false });
    expect((await getSnapshot(h.client, id)).context).toMatchObject({ lost_items: ['D1'], holder: 'pat' });
    const { child } = await linkedInstance(h, id);
    expect(child).toMatchObject({
      procedure: 'violation_case',
      leaves: ['reported'],
      context: {
        client: 'initech',
        source_workflow: 'sample_custody',
        description: 'diagram pages 3–4 missing after the lab move',
      },
    });
    await notified(h, id, 'general_manager', 'Client samples or documents were lost or leaked');
    await notified(h, id, 'quality_manager', 'a violation case was opened');
    // A lost item is not handled any more, and only an item of the lot can be reported lost.
    await send(h, id, {
      type: 'RECORD_PERMISSION',
      actor: ada,
      data: { ...permission('copy'), items: ['D1'] },
    });
    await expectRefused(
      h,
      id,
      { type: 'HANDLE', actor: pat, data: { ...handle('copy'), items: ['D1'] } },
      'GUARD_FALSE',
    );
    await expectRefused(
      h,
      id,
      { type: 'REPORT_LOSS', actor: pat, data: { items: ['X9'], circumstances: 'not ours' } },
      'GUARD_FALSE',
    );
    // The custody record ends as lost only when every item of the lot is lost.
    const last = await send(h, id, {
      type: 'REPORT_LOSS',
      actor: pat,
      data: { items: ['S1'], circumstances: 'prototype stolen from the lab' },
    });
    expect(last).toMatchObject({ state: 'lost', done: true });
  });

  it('[4.2.1] permissions name items and operations: only permitted items, only by the holder; what is taken out comes back', async () => {
    const id = await withPat();
    await send(h, id, { type: 'RECORD_PERMISSION', actor: ada, data: permission('photograph') });
    await expectRefused(
      h,
      id,
      { type: 'RECORD_PERMISSION', actor: ada, data: { ...permission('copy'), items: ['S7'] } },
      'GUARD_FALSE',
    );
    // pia holds nothing: she may not photograph, not even the permitted S1.
    await expectRefused(h, id, { type: 'HANDLE', actor: pia, data: handle('photograph') }, 'GUARD_FALSE');
    // The photograph permission covers S1, not D1.
    await expectRefused(
      h,
      id,
      { type: 'HANDLE', actor: pat, data: { ...handle('photograph'), items: ['D1'] } },
      'GUARD_FALSE',
    );
    await expectRefused(
      h,
      id,
      { type: 'HANDLE', actor: pat, data: { ...handle('photograph'), items: ['S1', 'D1'] } },
      'GUARD_FALSE',
    );
    // A take-out permission for S1 does not let D1 go home.
    await send(h, id, { type: 'RECORD_PERMISSION', actor: ada, data: permission('take_out') });
    await expectRefused(
      h,
      id,
      { type: 'HANDLE', actor: pat, data: { ...handle('take_out'), items: ['D1'], destination: 'home' } },
      'GUARD_FALSE',
    );
    await send(h, id, {
      type: 'HANDLE',
      actor: pat,
      data: { ...handle('take_out'), destination: 'EMC lab' },
    });
    // Finishing needs S1 back (or a recorded deviation), and only pat finishes.
    await expectRefused(
      h,
      id,
      { type: 'FINISH_HANDLING', actor: pat, data: { outcome: 'whatever' } },
      'GUARD_FALSE',
    );
    await expectRefused(
      h,
      id,
      { type: 'FINISH_HANDLING', actor: pia, data: { outcome: 'done', items_back: ['S1'] } },
      'GUARD_FALSE',
    );
    const r = await send(h, id, {
      type: 'FINISH_HANDLING',
      actor: pat,
      data: { outcome: 'EMC test done', items_back: ['S1'] },
    });
    expect(r.leaves).toEqual(['custody.with_staff.working']);
    const handling = await recordsNamed(h, id, 'handling_log', 2);
    expect(handling[1]!.fields).toMatchObject({ operation: 'take_out', items: ['S1'], items_back: ['S1'] });
  });

  it('[4.1.4][4.1.3][4.1.2] overdue: no NDA, a handover not signed for, the client not collecting — each escalates (durations scaled)', async () => {
    const noNda = await startDefinition(h, short, { client: 'acme' }, rita);
    await send(h, noNda, { type: 'RECORD_RECEIPT', actor: rita, data: receipt });

    const id = await startDefinition(h, short, { client: 'acme' }, rita);
    await send(h, id, ...intoStore, { type: 'HAND_OUT', actor: ada, data: handover('pat') });
    await notified(h, id, 'quality_manager', 'has not been signed for within 1 working day');
    await notified(h, id, 'application_reviewer', 'has not been signed for within 1 working day');
    // The handover's sla (1 working day, scaled): both told at once, at level 1, with the handover's clauses.
    const told = (await getSnapshot(h.client, id)).log.filter((l) => l.event === '$sla');
    expect(told.map((l) => [l.data?.state, l.data?.roles, l.data?.level, l.clauses])).toEqual([
      ['custody.issue_pending', ['application_reviewer'], 1, ['4.1.2', '3.4.2']],
      ['custody.issue_pending', ['quality_manager'], 1, ['4.1.2', '3.4.2']],
    ]);
    await send(h, id, { type: 'CANCEL_HANDOVER', actor: ada });
    await send(h, id, { type: 'RELEASE_FOR_RETURN', actor: ada, data: { reason: 'work_completed' } });
    await notified(h, id, 'client', 'Reminder: please collect all samples and documents');
    await notified(h, id, 'quality_manager', 'have awaited client retrieval for more than 30 days');
    expect((await getSnapshot(h.client, id)).leaves).toEqual(['awaiting_retrieval.waiting']);

    await notified(h, noNda, 'quality_manager', 'in quarantine for 5 days without a signed NDA');
    expect((await getSnapshot(h.client, noNda)).leaves).toEqual(['quarantine']);
    expect(short.durations).toMatchObject({
      P1D: 'PT1S',
      P1WD: 'PT1S',
      P5D: 'PT2S',
      P14D: 'PT3S',
      P30D: 'PT4S',
    });
  });
});
