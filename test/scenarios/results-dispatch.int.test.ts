/**
 * Scenarios of sending certification results (`definitions/results_dispatch.yaml`), clauses 4.3.1
 * and 4.3.2 (a loss opens a violation case, 4.6.3), on the real Temporal server. The timer scenario
 * runs a copy of the shipped definition whose durations only are scaled to seconds
 * (`shortenTimers`): structure, guards and actions are the shipped ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSnapshot, instanceResult } from '../../worker/instances.ts';
import type { Harness } from '../integration/harness.ts';
import { withAttachment } from '../support/attachments.ts';
import type { Json } from '../../workflows/core/ir.ts';
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

const rita = { id: 'rita', roles: ['application_reviewer'] };
const ada = { id: 'ada', roles: ['quality_administrator'] };
const gail = { id: 'gail', roles: ['general_affairs_head'] };
const quinn = { id: 'quinn', roles: ['quality_manager'] };

const documents = [
  { kind: 'certificate', ref: 'CERT-2024-0042', copies: 1 },
  { kind: 'report', ref: 'TR-2024-0042', copies: 2 },
];
const pickup = {
  channel: 'client_pickup',
  requested_by: 'Li Wei',
  request_evidence: 'letter L-77',
  documents,
};
const byMail = {
  ...pickup,
  channel: 'registered_mail',
  recipient_name: 'Li Wei',
  recipient_phone: '+86 10 5555 0000',
  address: '1 Example Road, Beijing',
};
const seal = { contents_checked: true, addressee_checked: true, seal_ref: 'S-991' };
const dispatch = { carrier: 'China Post', tracking_number: 'RR123456789CN', dispatched_on: '2024-05-03' };
const collector = {
  collector_name: 'Zhang San',
  id_type: 'resident_id_card',
  id_number: '110101199001011234',
  capacity: 'authorised_person',
  authorisation_ref: 'AUTH-3',
  identity_verified: true,
  authorisation_verified: true,
  seal_intact: true,
  receipt_ref: 'RCPT-8',
  collected_on: '2024-05-04',
};

let h: Harness;
let short: ShortenedDefinition;
beforeAll(async () => {
  h = await startScenarioHarness('results_dispatch', 'violation_case');
  short = shortenTimers(definitionOf(h, 'results_dispatch'));
});
afterAll(async () => {
  await h?.close();
});

/** The dispatch data with the carrier's receipt attached (stored for the instance). */
function posted(id: string, client = 'acme'): Promise<Record<string, Json>> {
  return withAttachment(h.running.store, id, 'courier_receipt', dispatch, { client });
}

/** An instance sent by registered mail and now in transit. */
async function inTransit(client: string): Promise<string> {
  const id = await h.start('results_dispatch', { client, results_ref: 'CERT-2024-0042' }, rita);
  await send(
    h,
    id,
    { type: 'RECORD_CHOICE', actor: rita, data: byMail },
    { type: 'PREPARE', actor: ada, data: { paper_originals: true } },
    { type: 'SEAL', actor: rita, data: seal },
    { type: 'DISPATCH', actor: gail, data: await posted(id, client) },
  );
  return id;
}

describe('results_dispatch — sending certification results (4.3.1, 4.3.2)', () => {
  it('[4.3.1][4.3.2] by registered mail: paper originals, checked and sealed by a second person, tracked and delivered', async () => {
    const id = await h.start('results_dispatch', { client: 'acme', results_ref: 'CERT-2024-0042' }, rita);
    expect((await send(h, id, { type: 'RECORD_CHOICE', actor: rita, data: byMail })).state).toBe('preparing');
    expect((await send(h, id, { type: 'PREPARE', actor: ada, data: { paper_originals: true } })).state).toBe(
      'checking',
    );
    expect((await send(h, id, { type: 'SEAL', actor: rita, data: seal })).state).toBe('awaiting_dispatch');
    expect((await send(h, id, { type: 'DISPATCH', actor: gail, data: await posted(id) })).state).toBe(
      'in_transit',
    );
    await notified(h, id, 'client', 'Your certification results (paper) have been sent');
    const r = await send(h, id, {
      type: 'CONFIRM_DELIVERY',
      actor: ada,
      data: { delivered_on: '2024-05-06', signed_for_by: 'Li Wei', evidence: 'China Post proof of delivery' },
    });
    expect(r).toMatchObject({ state: 'delivered', done: true });

    const final = await instanceResult(h.client, id);
    expect(final.context).toMatchObject({
      channel: 'registered_mail',
      medium: 'paper',
      prepared_by: 'ada',
      sealed_by: 'rita',
      tracking_number: 'RR123456789CN',
      signed_for_by: 'Li Wei',
    });
    const log = await recordsNamed(h, id, 'dispatch_log', 5);
    expect(log.map((l) => l.fields.event)).toEqual([
      'channel_chosen',
      'prepared',
      'sealed',
      'dispatched',
      'delivered',
    ]);
    expect(log[3]!.fields).toMatchObject({ channel: 'registered_mail', medium: 'paper', seal_ref: 'S-991' });
  });

  it('[4.3.1][4.3.2] collected by the client: the collector’s identity and authorisation are verified and recorded', async () => {
    const id = await h.start('results_dispatch', { client: 'acme' }, rita);
    await expectRefused(
      h,
      id,
      { type: 'RECORD_CHOICE', actor: rita, data: { ...pickup, address: '1 Example Road' } },
      'INVALID_DATA',
      '/address',
    );
    await send(
      h,
      id,
      { type: 'RECORD_CHOICE', actor: rita, data: pickup },
      { type: 'PREPARE', actor: ada, data: { paper_originals: true } },
    );
    expect((await send(h, id, { type: 'SEAL', actor: rita, data: seal })).state).toBe('awaiting_pickup');
    await notified(h, id, 'client', 'collect them with an identity document and a letter of authorisation');
    const { authorisation_ref: _ref, ...noAuthorisation } = collector;
    await expectRefused(
      h,
      id,
      { type: 'RECORD_PICKUP', actor: ada, data: noAuthorisation },
      'INVALID_DATA',
      'missing required field "authorisation_ref"',
    );
    await expectRefused(
      h,
      id,
      { type: 'RECORD_PICKUP', actor: ada, data: { ...collector, identity_verified: false } },
      'INVALID_DATA',
      '/identity_verified',
    );
    expect(await send(h, id, { type: 'RECORD_PICKUP', actor: ada, data: collector })).toMatchObject({
      state: 'collected',
      done: true,
    });
    const final = await instanceResult(h.client, id);
    expect(final.context).toMatchObject({
      channel: 'client_pickup',
      medium: 'paper',
      collector_name: 'Zhang San',
      collector_capacity: 'authorised_person',
      authorisation_ref: 'AUTH-3',
      handed_over_by: 'ada',
    });
  });

  it('[4.3.1] refuses results by e-mail or fax: not one of the client’s channels', async () => {
    const id = await h.start('results_dispatch', { client: 'acme' }, rita);
    for (const channel of ['email', 'fax'])
      await expectRefused(
        h,
        id,
        { type: 'RECORD_CHOICE', actor: rita, data: { ...pickup, channel } },
        'INVALID_DATA',
        '/channel: must be one of "client_pickup", "ordinary_courier", "registered_mail"',
      );
    const { address: _address, ...noAddress } = byMail;
    await expectRefused(
      h,
      id,
      { type: 'RECORD_CHOICE', actor: rita, data: { ...noAddress, channel: 'ordinary_courier' } },
      'INVALID_DATA',
      'missing required field "address"',
    );
    await expectRefused(
      h,
      id,
      { type: 'SEND_EMAIL', actor: rita },
      'UNKNOWN_EVENT',
      'results_dispatch has no event SEND_EMAIL',
    );
    expect((await getSnapshot(h.client, id)).leaves).toEqual(['awaiting_choice']);
  });

  it('[4.3.2] results go on paper only: no electronic medium can be recorded', async () => {
    const id = await h.start('results_dispatch', { client: 'acme' }, rita);
    await send(h, id, { type: 'RECORD_CHOICE', actor: rita, data: byMail });
    await expectRefused(
      h,
      id,
      { type: 'PREPARE', actor: ada, data: { paper_originals: false } },
      'INVALID_DATA',
      '/paper_originals',
    );
    await expectRefused(
      h,
      id,
      { type: 'PREPARE', actor: ada, data: { paper_originals: true, medium: 'pdf' } },
      'INVALID_DATA',
      'unknown field "medium"',
    );
    await expectRefused(
      h,
      id,
      { type: 'DISPATCH', actor: gail, data: dispatch },
      'CANNOT_TAKE',
      'DISPATCH cannot be sent in state preparing',
    );
    await send(h, id, { type: 'PREPARE', actor: ada, data: { paper_originals: true } });
    expect((await getSnapshot(h.client, id)).context.medium).toBe('paper');
  });

  it('[4.3.1][4.3.2] the preparer may not check and seal the envelope; a second person may send it back', async () => {
    const id = await h.start('results_dispatch', { client: 'acme' }, rita);
    await send(
      h,
      id,
      { type: 'RECORD_CHOICE', actor: rita, data: byMail },
      { type: 'PREPARE', actor: ada, data: { paper_originals: true } },
    );
    await expectRefused(
      h,
      id,
      { type: 'SEAL', actor: ada, data: seal },
      'DUTY_CONFLICT',
      'The person who prepared the results may not check and seal them',
    );
    await expectRefused(
      h,
      id,
      { type: 'SEAL', actor: rita, data: { ...seal, contents_checked: false } },
      'INVALID_DATA',
      '/contents_checked',
    );
    const r = await send(h, id, {
      type: 'RETURN_FOR_CORRECTION',
      actor: rita,
      data: { problem: 'a report of another client was in the pile' },
    });
    expect(r.state).toBe('preparing');
    await send(h, id, { type: 'PREPARE', actor: ada, data: { paper_originals: true } });
    await expectRefused(h, id, { type: 'SEAL', actor: ada, data: seal }, 'DUTY_CONFLICT');
    expect((await send(h, id, { type: 'SEAL', actor: rita, data: seal })).state).toBe('awaiting_dispatch');
  });

  it('[4.3.1][4.6.3] a package lost in the post opens a violation case for the client', async () => {
    const id = await inTransit('initech');
    const r = await send(h, id, {
      type: 'REPORT_LOST',
      actor: ada,
      data: { details: 'carrier confirms the package is missing', carrier_confirmation: 'CP-LOSS-1' },
    });
    expect(r).toMatchObject({ state: 'lost', done: true });
    const { child } = await linkedInstance(h, id);
    expect(child).toMatchObject({
      procedure: 'violation_case',
      leaves: ['reported'],
      context: {
        client: 'initech',
        source_workflow: 'results_dispatch',
        reason: '认证结果邮寄丢失 / Results lost in the post',
      },
    });
    expect(child.context.description).toContain('RR123456789CN');
    await notified(h, id, 'client', 'were lost in transit');
  });

  it('[4.3.1][4.6.3] a returned package awaits the client’s new choice; a broken seal also opens a violation case', async () => {
    const returned = { returned_on: '2024-05-09', reason: 'address_unknown' };
    const intact = await inTransit('acme');
    expect(
      (
        await send(h, intact, {
          type: 'REPORT_RETURNED',
          actor: ada,
          data: { ...returned, seal_intact: true },
        })
      ).state,
    ).toBe('returned');
    const r = await send(h, intact, {
      type: 'CHANGE_CHOICE',
      actor: rita,
      data: { requested_by: 'Li Wei', reason: 'will collect in person' },
    });
    expect(r.state).toBe('awaiting_choice');
    expect((await getSnapshot(h.client, intact)).children).toEqual([]);

    const broken = await inTransit('hooli');
    await send(h, broken, { type: 'REPORT_RETURNED', actor: ada, data: { ...returned, seal_intact: false } });
    const { child } = await linkedInstance(h, broken);
    expect(child.context).toMatchObject({
      client: 'hooli',
      reason: '退回的认证结果封签破损 / Returned results with a broken seal',
    });
    expect((await getSnapshot(h.client, broken)).leaves).toEqual(['returned']);
  });

  it('[4.3.1] results waiting for the client’s choice are chased, then escalated (durations scaled)', async () => {
    const id = await startDefinition(h, short, { client: 'acme' }, rita);
    await notified(h, id, 'application_reviewer', 'the client has not yet chosen how');
    await notified(h, id, 'quality_manager', 'Results have waited 10 days without the client');
    const snap = await getSnapshot(h.client, id);
    expect(snap.leaves).toEqual(['awaiting_choice']);
    // The state's sla: a reminder to the application reviewer (P3D), an escalation to the QM (P10D).
    expect(snap.log.map((l) => [l.event, l.data?.kind, l.data?.roles])).toEqual([
      ['$start', undefined, undefined],
      ['$sla', 'remind', ['application_reviewer']],
      ['$sla', 'escalate', ['quality_manager']],
    ]);
    await expectRefused(
      h,
      id,
      { type: 'CANCEL', actor: rita, data: { reason: 'x' } },
      'ROLE_NOT_ALLOWED',
      'allowed roles: quality_manager',
    );
    expect(
      await send(h, id, { type: 'CANCEL', actor: quinn, data: { reason: 'client closed' } }),
    ).toMatchObject({
      state: 'cancelled',
      done: true,
    });
  });
});
