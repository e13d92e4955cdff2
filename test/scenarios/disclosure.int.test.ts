/**
 * Scenarios of disclosure to a third party (`definitions/disclosure.yaml`), clauses 4.2.3 and 4.2.4,
 * on the real Temporal server. Timer scenarios run a copy of the shipped definition whose
 * durations only are scaled to seconds (`shortenTimers`): structure, guards and actions are the
 * shipped ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSnapshot, instanceResult } from '../../worker/instances.ts';
import type { Harness } from '../integration/harness.ts';
import { withAttachment } from '../support/attachments.ts';
import type { Json } from '../../workflows/core/ir.ts';
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
const ada = { id: 'ada', roles: ['quality_administrator'] };
/** A second Quality Manager: approves what the first one registered. */
const quincy = { id: 'quincy', roles: ['quality_manager'] };
/** One person holding both approving roles: may give only one of the two approvals. */
const boss = { id: 'boss', roles: ['quality_manager', 'general_manager'] };

const request = {
  request_ref: 'REQ-88',
  recipient: 'Provincial Market Regulation Bureau',
  recipient_kind: 'regulator',
  scope: 'product safety investigation',
  items: ['test report TR-1', 'factory inspection report FI-3'],
};
const consentRequest = { ...request, basis: 'consent' };
const legalRequest = {
  ...request,
  basis: 'legal',
  authority: 'Provincial Market Regulation Bureau',
  legal_instrument: 'Product Quality Law art. 18; notice 2024-77',
};
const consent = {
  consent_ref: 'CONS-5',
  signed_by: 'Li Wei (legal representative)',
  signed_on: '2024-05-02',
  covers_recipient: true,
  covers_scope: true,
};
const release = { items_released: ['test report TR-1'], released_on: '2024-05-10', method: 'paper_copy' };
const notice = { notice_ref: 'N-12', method: 'registered_mail', sent_on: '2024-05-08' };

let h: Harness;
let short: ShortenedDefinition;
beforeAll(async () => {
  h = await startScenarioHarness('disclosure');
  short = shortenTimers(definitionOf(h, 'disclosure'));
});
afterAll(async () => {
  await h?.close();
});

/** The consent data with the client's signed letter attached (stored for the instance). */
function letter(id: string): Promise<Record<string, Json>> {
  return withAttachment(h.running.store, id, 'consent_letter', consent, { client: 'acme' });
}

async function disclosureLog(id: string): Promise<Record<string, unknown>[]> {
  return (await h.running.store.recordsOf(id))
    .filter((r) => r.name === 'disclosure_log')
    .map((r) => r.fields);
}

describe('disclosure — to a third party (4.2.3, 4.2.4)', () => {
  it('[4.2.3] on the client’s written consent: approved, released within scope and logged', async () => {
    const id = await h.start('disclosure', { client: 'acme' }, rita);
    expect((await send(h, id, { type: 'SUBMIT', actor: rita, data: consentRequest })).state).toBe(
      'awaiting_consent',
    );
    await notified(h, id, 'client', 'we will not disclose it without your written consent');
    expect((await send(h, id, { type: 'RECORD_CONSENT', actor: ada, data: await letter(id) })).state).toBe(
      'consent_recorded',
    );
    expect((await send(h, id, { type: 'APPROVE', actor: quinn })).state).toBe('approved_with_consent');
    const r = await send(h, id, { type: 'RELEASE', actor: ada, data: release });
    expect(r).toMatchObject({ state: 'released_with_consent', done: true });

    const [consentRow] = await recordsNamed(h, id, 'consent_log');
    expect(consentRow!.fields).toMatchObject({
      client: 'acme',
      recipient: request.recipient,
      consent_ref: 'CONS-5',
    });
    const [logRow] = await recordsNamed(h, id, 'disclosure_log');
    expect(logRow!.fields).toMatchObject({
      client: 'acme',
      recipient: request.recipient,
      basis: 'consent',
      basis_ref: 'CONS-5',
      items: ['test report TR-1'],
      approver: 'quinn',
      released_by: 'ada',
    });
  });

  it('[4.2.3] refuses a disclosure with no consent or legal basis', async () => {
    const id = await h.start('disclosure', { client: 'acme' }, rita);
    await expectRefused(
      h,
      id,
      { type: 'SUBMIT', actor: rita, data: request },
      'INVALID_DATA',
      'missing required field "basis"',
    );
    await expectRefused(
      h,
      id,
      { type: 'SUBMIT', actor: rita, data: { ...request, basis: 'verbal_agreement' } },
      'INVALID_DATA',
      '/basis: must be one of "consent", "legal", "contractual"',
    );
    await send(h, id, { type: 'SUBMIT', actor: rita, data: consentRequest });
    // No written consent yet: nothing can be approved or released.
    await expectRefused(
      h,
      id,
      { type: 'APPROVE', actor: quinn },
      'CANNOT_TAKE',
      'APPROVE cannot be sent in state awaiting_consent',
    );
    await expectRefused(
      h,
      id,
      { type: 'RELEASE', actor: ada, data: release },
      'CANNOT_TAKE',
      'RELEASE cannot be sent in state awaiting_consent',
    );
    // A consent that does not cover the recipient and the scope is no consent.
    await expectRefused(
      h,
      id,
      { type: 'RECORD_CONSENT', actor: ada, data: { ...consent, covers_scope: false } },
      'INVALID_DATA',
      '/covers_scope',
    );
    const r = await send(h, id, { type: 'CONSENT_REFUSED', actor: ada, data: { note: 'client declined' } });
    expect(r).toMatchObject({ state: 'closed_no_consent', done: true });
    await instanceResult(h.client, id);
    expect(await disclosureLog(id)).toEqual([]);
  });

  it('[4.2.3] a legal basis names the authority and the legal instrument', async () => {
    const id = await h.start('disclosure', { client: 'acme' }, rita);
    await expectRefused(
      h,
      id,
      { type: 'SUBMIT', actor: rita, data: { ...request, basis: 'legal', authority: 'Court' } },
      'INVALID_DATA',
      'missing required field "legal_instrument"',
    );
    expect((await send(h, id, { type: 'SUBMIT', actor: rita, data: legalRequest })).state).toBe(
      'legal_basis_recorded',
    );
  });

  it('[4.2.3][4.2.4] legally required: QM and GM approve, the client is notified before the release, the log names both', async () => {
    const id = await h.start('disclosure', { client: 'acme' }, rita);
    await send(h, id, { type: 'SUBMIT', actor: rita, data: legalRequest });
    expect((await send(h, id, { type: 'APPROVE', actor: quinn })).state).toBe('gm_approval');
    expect((await send(h, id, { type: 'GM_APPROVE', actor: gus })).state).toBe('notice_pending');
    expect((await send(h, id, { type: 'NOTIFY_CLIENT', actor: ada, data: notice })).state).toBe(
      'client_notified',
    );
    await notified(h, id, 'client', 'We will release confidential information about you to a third party');
    const r = await send(h, id, { type: 'RELEASE', actor: ada, data: release });
    expect(r).toMatchObject({ state: 'released', done: true });

    const final = await instanceResult(h.client, id);
    const order = final.log.map((l) => l.event);
    expect(order.indexOf('NOTIFY_CLIENT')).toBeLessThan(order.indexOf('RELEASE'));
    const [noticeRow] = await recordsNamed(h, id, 'disclosure_notice_log');
    expect(noticeRow!.fields).toMatchObject({ notice_ref: 'N-12', items: request.items, sent_by: 'ada' });
    const [logRow] = await recordsNamed(h, id, 'disclosure_log');
    expect(logRow!.fields).toMatchObject({
      basis: 'legal',
      basis_ref: `${legalRequest.authority}: ${legalRequest.legal_instrument}`,
      approver: 'quinn',
      gm_approver: 'gus',
      client_notified: true,
      notice_withheld: false,
    });
  });

  it('[4.2.3][4.2.4] refuses a release without notification or recorded prohibition', async () => {
    const id = await h.start('disclosure', { client: 'acme' }, rita);
    await send(h, id, { type: 'SUBMIT', actor: rita, data: legalRequest });
    await expectRefused(
      h,
      id,
      { type: 'RELEASE', actor: ada, data: release },
      'CANNOT_TAKE',
      'RELEASE cannot be sent in state legal_basis_recorded',
    );
    await send(h, id, { type: 'APPROVE', actor: quinn }, { type: 'GM_APPROVE', actor: gus });
    const err = await expectRefused(
      h,
      id,
      { type: 'RELEASE', actor: ada, data: release },
      'CANNOT_TAKE',
      'RELEASE cannot be sent in state notice_pending',
    );
    expect(err.message).toMatch(/events possible now: .*NOTIFY_CLIENT/);
    expect(err.message).toMatch(/events possible now: .*RECORD_PROHIBITION/);
    // After the notice: only what was requested can be released.
    await send(h, id, { type: 'NOTIFY_CLIENT', actor: ada, data: notice });
    await expectRefused(
      h,
      id,
      { type: 'RELEASE', actor: ada, data: { ...release, items_released: ['customer list'] } },
      'GUARD_FALSE',
      'condition not met: data.items_released.all(i, i in ctx.items)',
    );
  });

  it('[4.2.3] the two approvals of a legal release come from two different people', async () => {
    const id = await h.start('disclosure', { client: 'acme' }, rita);
    await send(h, id, { type: 'SUBMIT', actor: rita, data: legalRequest }, { type: 'APPROVE', actor: boss });
    await expectRefused(
      h,
      id,
      { type: 'GM_APPROVE', actor: boss },
      'DUTY_CONFLICT',
      'boss sent APPROVE',
      'A legal-basis release needs two different approvers',
    );
    await expectRefused(
      h,
      id,
      { type: 'GM_APPROVE', actor: quinn },
      'ROLE_NOT_ALLOWED',
      'allowed roles: general_manager',
    );
    expect((await send(h, id, { type: 'GM_APPROVE', actor: gus })).state).toBe('notice_pending');
  });

  it('[4.2.3][4.2.4] the person who registered a request never approves it (separation of duties)', async () => {
    // A Quality Manager registers a consent request: another Quality Manager approves it.
    const id = await h.start('disclosure', { client: 'acme' }, quinn);
    await send(
      h,
      id,
      { type: 'SUBMIT', actor: quinn, data: consentRequest },
      { type: 'RECORD_CONSENT', actor: ada, data: await letter(id) },
    );
    await expectRefused(
      h,
      id,
      { type: 'APPROVE', actor: quinn },
      'DUTY_CONFLICT',
      'quinn sent SUBMIT, so quinn may not send APPROVE',
      'The person who registered the request may not approve it',
    );
    expect((await send(h, id, { type: 'APPROVE', actor: quincy })).state).toBe('approved_with_consent');

    // Legal basis: the registrar gives neither the Quality Manager's nor the General Manager's approval.
    const legal = await h.start('disclosure', { client: 'acme' }, boss);
    await send(h, legal, { type: 'SUBMIT', actor: boss, data: legalRequest });
    await expectRefused(
      h,
      legal,
      { type: 'APPROVE', actor: boss },
      'DUTY_CONFLICT',
      'boss sent SUBMIT, so boss may not send APPROVE',
    );
    await send(h, legal, { type: 'APPROVE', actor: quinn });
    await expectRefused(
      h,
      legal,
      { type: 'GM_APPROVE', actor: boss },
      'DUTY_CONFLICT',
      'boss sent SUBMIT, so boss may not send GM_APPROVE',
      'neither of them the person who registered the request',
    );
    expect((await send(h, legal, { type: 'GM_APPROVE', actor: gus })).state).toBe('notice_pending');
    const final = await getSnapshot(h.client, legal);
    expect(final.context).toMatchObject({ requester: 'boss', qm_approver: 'quinn', gm_approver: 'gus' });
  });

  it('[4.2.4] a contractual disclosure cannot skip the client notice by recording a legal prohibition', async () => {
    const id = await h.start('disclosure', { client: 'acme' }, rita);
    await send(
      h,
      id,
      {
        type: 'SUBMIT',
        actor: rita,
        data: {
          ...request,
          recipient: 'CNAS',
          recipient_kind: 'accreditation_body',
          scope: 'witness file review',
          basis: 'contractual',
          contract_ref: 'CNAS accreditation agreement §6',
        },
      },
      { type: 'APPROVE', actor: quinn },
    );
    // "Unless the law prohibits": only a disclosure the law requires may withhold the notice.
    await expectRefused(
      h,
      id,
      { type: 'RECORD_PROHIBITION', actor: quinn, data: { instrument: 'Criminal Procedure Law art. 152' } },
      'GUARD_FALSE',
      "condition not met: ctx.basis == 'legal'",
    );
    await expectRefused(
      h,
      id,
      { type: 'RELEASE', actor: ada, data: release },
      'CANNOT_TAKE',
      'RELEASE cannot be sent in state notice_pending',
    );
    await send(h, id, { type: 'NOTIFY_CLIENT', actor: quinn, data: notice });
    expect(await send(h, id, { type: 'RELEASE', actor: ada, data: release })).toMatchObject({
      state: 'released',
      done: true,
    });
    const [logRow] = await recordsNamed(h, id, 'disclosure_log');
    expect(logRow!.fields).toMatchObject({
      basis: 'contractual',
      client_notified: true,
      notice_withheld: false,
    });
  });

  it('[4.2.4] a contractual disclosure (accreditation file review) is released only after the client is notified', async () => {
    const id = await h.start('disclosure', { client: 'acme' }, rita);
    const contractual = {
      ...request,
      recipient: 'CNAS',
      recipient_kind: 'accreditation_body',
      scope: 'witness file review',
      basis: 'contractual',
    };
    await expectRefused(
      h,
      id,
      { type: 'SUBMIT', actor: rita, data: contractual },
      'INVALID_DATA',
      'missing required field "contract_ref"',
    );
    await send(h, id, {
      type: 'SUBMIT',
      actor: rita,
      data: { ...contractual, contract_ref: 'CNAS accreditation agreement §6' },
    });
    expect((await getSnapshot(h.client, id)).leaves).toEqual(['contract_basis_recorded']);
    expect((await send(h, id, { type: 'APPROVE', actor: quinn })).state).toBe('notice_pending');
    await expectRefused(h, id, { type: 'RELEASE', actor: quinn, data: release }, 'CANNOT_TAKE');
    await send(h, id, { type: 'NOTIFY_CLIENT', actor: quinn, data: notice });
    expect(await send(h, id, { type: 'RELEASE', actor: ada, data: release })).toMatchObject({
      state: 'released',
      done: true,
    });
    const [logRow] = await recordsNamed(h, id, 'disclosure_log');
    expect(logRow!.fields).toMatchObject({
      basis: 'contractual',
      basis_ref: 'CNAS accreditation agreement §6',
      client_notified: true,
    });
  });

  it('[4.2.3] a refused disclosure ends with nothing disclosed', async () => {
    const id = await h.start('disclosure', { client: 'acme' }, rita);
    await send(
      h,
      id,
      { type: 'SUBMIT', actor: rita, data: consentRequest },
      { type: 'RECORD_CONSENT', actor: ada, data: await letter(id) },
    );
    await expectRefused(
      h,
      id,
      { type: 'APPROVE', actor: ada },
      'ROLE_NOT_ALLOWED',
      'allowed roles: quality_manager',
    );
    const r = await send(h, id, {
      type: 'REFUSE',
      actor: quinn,
      data: { reason: 'scope broader than needed' },
    });
    expect(r).toMatchObject({ state: 'refused', done: true });
    const [row] = await recordsNamed(h, id, 'disclosure_log');
    expect(row!.fields).toMatchObject({ released: false, refused_by: 'quinn' });
  });

  it('[4.2.4] under a recorded legal prohibition on notice: released, the withheld notice is reviewed periodically and sent when it lapses (durations scaled)', async () => {
    const id = await startDefinition(h, short, { client: 'acme' }, rita);
    await send(
      h,
      id,
      { type: 'SUBMIT', actor: rita, data: legalRequest },
      { type: 'APPROVE', actor: quinn },
      { type: 'GM_APPROVE', actor: gus },
    );
    await expectRefused(
      h,
      id,
      { type: 'RECORD_PROHIBITION', actor: ada, data: { instrument: 'Criminal Procedure Law art. 152' } },
      'ROLE_NOT_ALLOWED',
    );
    await expectRefused(
      h,
      id,
      { type: 'RECORD_PROHIBITION', actor: quinn, data: {} },
      'INVALID_DATA',
      'instrument',
    );
    await send(
      h,
      id,
      { type: 'RECORD_PROHIBITION', actor: quinn, data: { instrument: 'Criminal Procedure Law art. 152' } },
      { type: 'RELEASE', actor: ada, data: release },
    );
    expect((await getSnapshot(h.client, id)).leaves).toEqual(['released_notice_withheld']);
    const [logRow] = await recordsNamed(h, id, 'disclosure_log');
    expect(logRow!.fields).toMatchObject({
      client_notified: false,
      notice_withheld: true,
      gm_approver: 'gus',
    });

    // The periodic review (P30D, scaled) reminds the Quality Manager; the review is recorded.
    await notified(
      h,
      id,
      'quality_manager',
      'Review whether the legal prohibition on notifying the client still applies',
    );
    await send(h, id, {
      type: 'CONFIRM_PROHIBITION',
      actor: quinn,
      data: { still_applies: true, note: 'investigation ongoing' },
    });
    const r = await send(h, id, {
      type: 'SEND_NOTICE',
      actor: ada,
      data: { ...notice, sent_on: '2024-08-01' },
    });
    expect(r).toMatchObject({ state: 'notice_sent_after_release', done: true });
    await notified(h, id, 'client', 'We will release confidential information about you');
    const final = await instanceResult(h.client, id);
    expect(final.log.map((l) => l.event)).toContain(`after ${short.durations['P30D']}`);
    const notices = await recordsNamed(h, id, 'disclosure_notice_log', 3);
    expect(notices.map((n) => n.fields.withheld ?? n.fields.notice_ref)).toEqual(
      expect.arrayContaining([true, 'N-12']),
    );
  });

  it('[4.2.3] no written consent in time: the request closes and nothing is disclosed (durations scaled)', async () => {
    const id = await startDefinition(h, short, { client: 'acme' }, rita);
    await send(h, id, { type: 'SUBMIT', actor: rita, data: consentRequest });
    const final = await instanceResult(h.client, id);
    expect(final.leaves).toEqual(['closed_no_consent']);
    expect(final.log.at(-1)).toMatchObject({
      event: `after ${short.durations['P30D']}`,
      actor: { id: 'timer' },
      from: ['awaiting_consent'],
    });
    await notified(h, id, 'quality_manager', 'No written consent within 30 days');
    expect(await disclosureLog(id)).toEqual([]);
  });
});
