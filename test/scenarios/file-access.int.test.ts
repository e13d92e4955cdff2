/**
 * Scenarios of confidential file access (`definitions/file_access.yaml`), clauses 4.2.2 and 3.3.3,
 * on the real Temporal server. Timer scenarios run a copy of the shipped definition whose
 * durations only are scaled to seconds (`shortenTimers`): structure, guards and actions are the
 * shipped ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSnapshot, instanceResult } from '../../worker/instances.ts';
import type { Harness } from '../integration/harness.ts';
import {
  definitionOf,
  expectRefused,
  linkedInstance,
  notified,
  reaches,
  recordsNamed,
  send,
  shortenTimers,
  startDefinition,
  startScenarioHarness,
  type ShortenedDefinition,
} from './scenario.ts';

const ann = { id: 'ann', roles: ['project_staff'] };
const gail = { id: 'gail', roles: ['general_affairs_head'] };
const quinn = { id: 'quinn', roles: ['quality_manager'] };
const ada = { id: 'ada', roles: ['quality_administrator'] };
/** A Quality Administrator who is also the Quality Manager: may request, approve and issue — never all for herself. */
const dora = { id: 'dora', roles: ['quality_administrator', 'quality_manager'] };

const viewRequest = {
  file_id: 'F-2024-017',
  purpose: 'surveillance audit prep',
  access_kind: 'view',
  window_days: 3,
};
const copyRequest = { ...viewRequest, access_kind: 'copy', copies: 2 };

let h: Harness;
let short: ShortenedDefinition;
beforeAll(async () => {
  h = await startScenarioHarness('file_access', 'violation_case');
  short = shortenTimers(definitionOf(h, 'file_access'));
});
afterAll(async () => {
  await h?.close();
});

describe('file_access — confidential file access (4.2.2, 3.3.3)', () => {
  it('[4.2.2][3.3.3] an approved request is issued against the lending log, returned in full and closed', async () => {
    const id = await h.start('file_access', { client: 'acme' }, ann);
    let r = await send(h, id, { type: 'SUBMIT', actor: ann, data: copyRequest });
    expect(r.state).toBe('submitted');
    r = await send(h, id, { type: 'APPROVE', actor: gail, data: { note: 'for the audit only' } });
    expect(r.state).toBe('approved');
    r = await send(h, id, { type: 'ISSUE', actor: ada, data: { copies_issued: 2 } });
    expect(r.state).toBe('access_active');
    r = await send(h, id, { type: 'RETURN', actor: ada, data: { copies_returned: 2 } });
    expect(r.state).toBe('returned');
    r = await send(h, id, { type: 'CLOSE', actor: ada });
    expect(r).toMatchObject({ state: 'closed', done: true });

    const final = await instanceResult(h.client, id);
    expect(final.context).toMatchObject({
      requester: 'ann',
      approver: 'gail',
      issued_by: 'ada',
      copies_requested: 2,
      copies_issued: 2,
      copies_returned: 2,
    });
    expect(final.log.map((l) => l.event)).toEqual([
      '$start',
      'SUBMIT',
      'APPROVE',
      'ISSUE',
      'RETURN',
      'CLOSE',
    ]);
    const lending = await recordsNamed(h, id, 'lending_log', 2);
    expect(lending[0]!.fields).toMatchObject({
      client: 'acme',
      file_id: 'F-2024-017',
      borrower: 'ann',
      approver: 'gail',
      issued_by: 'ada',
      copies_issued: 2,
    });
    expect(lending[1]!.fields).toMatchObject({ returned_by: 'ann', received_by: 'ada', copies_returned: 2 });
  });

  it('[4.2.2] refuses an approval by the requester, and the Quality Manager may approve instead', async () => {
    const id = await h.start('file_access', { client: 'acme' }, dora);
    await send(h, id, { type: 'SUBMIT', actor: dora, data: viewRequest });
    await expectRefused(
      h,
      id,
      { type: 'APPROVE', actor: dora },
      'DUTY_CONFLICT',
      'dora sent SUBMIT',
      'The requester may not approve their own request',
    );
    const r = await send(h, id, { type: 'APPROVE', actor: quinn });
    expect(r.state).toBe('approved');
    expect((await getSnapshot(h.client, id)).context.approver).toBe('quinn');
  });

  it('[4.2.2] only the head of General Affairs or the Quality Manager approves', async () => {
    const id = await h.start('file_access', { client: 'acme' }, ann);
    await send(h, id, { type: 'SUBMIT', actor: ann, data: copyRequest });
    await expectRefused(
      h,
      id,
      { type: 'APPROVE', actor: ada },
      'ROLE_NOT_ALLOWED',
      'may not send APPROVE',
      'allowed roles: general_affairs_head, quality_manager',
    );
    await expectRefused(
      h,
      id,
      { type: 'APPROVE', actor: { id: 'pat', roles: ['project_staff'] } },
      'ROLE_NOT_ALLOWED',
    );
  });

  it('[4.2.2] nothing is issued before approval', async () => {
    const id = await h.start('file_access', { client: 'acme' }, ann);
    await expectRefused(
      h,
      id,
      { type: 'ISSUE', actor: ada, data: { copies_issued: 0 } },
      'CANNOT_TAKE',
      'ISSUE cannot be sent in state draft',
    );
    await send(h, id, { type: 'SUBMIT', actor: ann, data: copyRequest });
    await expectRefused(
      h,
      id,
      { type: 'ISSUE', actor: ada, data: { copies_issued: 0 } },
      'CANNOT_TAKE',
      'ISSUE cannot be sent in state submitted',
      'APPROVE',
    );
  });

  it('[4.2.2] refuses an incomplete or malformed request', async () => {
    const id = await h.start('file_access', { client: 'acme' }, ann);
    await expectRefused(
      h,
      id,
      { type: 'SUBMIT', actor: ann, data: { ...viewRequest, access_kind: 'copy' } },
      'INVALID_DATA',
      'missing required field "copies"',
    );
    await expectRefused(
      h,
      id,
      { type: 'SUBMIT', actor: ann, data: { ...copyRequest, window_days: 30 } },
      'INVALID_DATA',
      '/window_days: must be one of 1, 3, 7',
    );
    await expectRefused(
      h,
      id,
      { type: 'SUBMIT', actor: ann, data: { ...copyRequest, access_kind: 'take_home' } },
      'INVALID_DATA',
      '/access_kind: must be one of "view", "borrow", "copy"',
    );
  });

  it('[3.3.3][4.2.2] issues no more copies than approved, and never to the requester', async () => {
    const id = await h.start('file_access', { client: 'acme' }, dora);
    await send(h, id, { type: 'SUBMIT', actor: dora, data: copyRequest });
    await send(h, id, { type: 'APPROVE', actor: gail });
    await expectRefused(
      h,
      id,
      { type: 'ISSUE', actor: dora, data: { copies_issued: 2 } },
      'DUTY_CONFLICT',
      'The requester may not issue the file to themselves',
    );
    await expectRefused(
      h,
      id,
      { type: 'ISSUE', actor: ada, data: { copies_issued: 3 } },
      'GUARD_FALSE',
      'condition not met: data.copies_issued <= ctx.copies_requested',
    );
    expect((await send(h, id, { type: 'ISSUE', actor: ada, data: { copies_issued: 2 } })).state).toBe(
      'access_active',
    );
  });

  it('[4.2.2] a request may be rejected with a reason, and withdrawn only by its requester', async () => {
    const rejected = await h.start('file_access', { client: 'acme' }, ann);
    await send(h, rejected, { type: 'SUBMIT', actor: ann, data: copyRequest });
    await expectRefused(
      h,
      rejected,
      { type: 'REJECT', actor: gail, data: {} },
      'INVALID_DATA',
      'missing required field "reason"',
    );
    const r = await send(h, rejected, {
      type: 'REJECT',
      actor: gail,
      data: { reason: 'not needed for the audit' },
    });
    expect(r).toMatchObject({ state: 'rejected', done: true });
    expect((await instanceResult(h.client, rejected)).context.decision_note).toBe('not needed for the audit');

    const withdrawn = await h.start('file_access', { client: 'acme' }, ann);
    await send(h, withdrawn, { type: 'SUBMIT', actor: ann, data: copyRequest });
    await expectRefused(
      h,
      withdrawn,
      { type: 'WITHDRAW', actor: { id: 'pat', roles: ['project_staff'] } },
      'GUARD_FALSE',
      'condition not met: actor.id == ctx.requester',
    );
    expect(await send(h, withdrawn, { type: 'WITHDRAW', actor: ann })).toMatchObject({
      state: 'withdrawn',
      done: true,
    });
  });

  it('[3.3.3][4.6.3] copies not all returned: never closed, and reporting it opens a violation case for the client', async () => {
    const id = await h.start('file_access', { client: 'globex' }, ann);
    await send(
      h,
      id,
      { type: 'SUBMIT', actor: ann, data: copyRequest },
      { type: 'APPROVE', actor: quinn },
      { type: 'ISSUE', actor: ada, data: { copies_issued: 2 } },
      { type: 'RETURN', actor: ada, data: { copies_returned: 1 } },
    );
    await expectRefused(
      h,
      id,
      { type: 'CLOSE', actor: ada },
      'GUARD_FALSE',
      'condition not met: ctx.copies_returned == ctx.copies_issued',
    );
    const r = await send(h, id, {
      type: 'REPORT_MISSING',
      actor: ada,
      data: { details: 'one copy of F-2024-017 not handed back' },
    });
    expect(r).toMatchObject({ state: 'copies_missing', done: true });
    const { child } = await linkedInstance(h, id);
    expect(child).toMatchObject({
      procedure: 'violation_case',
      leaves: ['reported'],
      context: { client: 'globex', source: 'file_access', summary: 'one copy of F-2024-017 not handed back' },
    });
    await notified(h, id, 'quality_manager', 'a violation case was opened');
  });

  it('[3.3.3][4.6.3] more copies back than were issued is never stuck: it is reported and opens a case', async () => {
    // Issued none, one came back: a copy was made without approval. Before 1.1.0 neither CLOSE
    // (counts equal) nor REPORT_MISSING (fewer back) was enabled and no timer was pending.
    const id = await h.start('file_access', { client: 'initech' }, ann);
    await send(
      h,
      id,
      { type: 'SUBMIT', actor: ann, data: viewRequest },
      { type: 'APPROVE', actor: gail },
      { type: 'ISSUE', actor: ada, data: { copies_issued: 0 } },
      { type: 'RETURN', actor: ada, data: { copies_returned: 1 } },
    );
    await expectRefused(
      h,
      id,
      { type: 'CLOSE', actor: ada },
      'GUARD_FALSE',
      'condition not met: ctx.copies_returned == ctx.copies_issued',
    );
    const r = await send(h, id, {
      type: 'REPORT_MISSING',
      actor: ada,
      data: { details: 'a copy of F-2024-017 came back although none was issued' },
    });
    expect(r).toMatchObject({ state: 'copies_missing', done: true });
    const { child } = await linkedInstance(h, id);
    expect(child).toMatchObject({
      procedure: 'violation_case',
      context: { client: 'initech', source: 'file_access' },
    });
  });

  it('[4.2.2] an undecided access request expires (durations scaled to seconds)', async () => {
    const id = await startDefinition(h, short, { client: 'acme' }, ann);
    await send(h, id, { type: 'SUBMIT', actor: ann, data: copyRequest });
    const waiting = await getSnapshot(h.client, id);
    // The state's SLA (P2WD) is shown as its due time; the expiry (P5D) is a pending durable timer.
    const seconds = (d: string): number => Number(short.durations[d]!.slice(2, -1)) * 1000;
    expect(Date.parse(waiting.dueAt!) - Date.parse(waiting.stateSince)).toBe(seconds('P2WD'));
    expect(waiting.timers).toHaveLength(1);
    expect(waiting.timers[0]!.event).toContain(`after_${short.durations['P5D']}`);
    expect(Date.parse(waiting.timers[0]!.dueAt) - Date.parse(waiting.stateSince)).toBe(seconds('P5D'));

    const final = await instanceResult(h.client, id);
    expect(final.leaves).toEqual(['expired']);
    // Undecided: the approvers were reminded (P1WD), the Quality Manager told (P2WD), then it expired.
    expect(final.log.map((l) => l.event)).toEqual([
      '$start',
      'SUBMIT',
      '$sla',
      '$sla',
      `after ${short.durations['P5D']}`,
    ]);
    expect(final.log.slice(2, 4).map((l) => l.data?.kind)).toEqual(['remind', 'escalate']);
    expect(final.log[4]).toMatchObject({ actor: { id: 'timer' }, from: ['submitted'], to: ['expired'] });
    await notified(h, id, 'general_affairs_head', 'Reminder:');
    await notified(h, id, 'quality_manager', 'was not decided in time and has expired');
  });

  it('[4.2.2][3.3.3] the access window ends and access is revoked; an overdue return escalates', async () => {
    const id = await startDefinition(h, short, { client: 'acme' }, ann);
    await send(
      h,
      id,
      { type: 'SUBMIT', actor: ann, data: { ...copyRequest, window_days: 1 } },
      { type: 'APPROVE', actor: gail },
      { type: 'ISSUE', actor: ada, data: { copies_issued: 1 } },
    );
    const revoked = await reaches(h, id, 'revoked');
    expect(revoked.log.at(-1)).toMatchObject({
      event: `after ${short.durations['P1D']}`,
      actor: { id: 'timer' },
      from: ['access_active'],
      to: ['revoked'],
    });
    await notified(h, id, 'quality_administrator', 'The approved access window has ended');
    const lending = await recordsNamed(h, id, 'lending_log', 2);
    expect(lending[1]!.fields).toMatchObject({ file_id: 'F-2024-017' });
    expect(lending[1]!.fields.revoked_at).toEqual(expect.any(Number));
    // Still not returned after the escalation delay (sla escalate P2D, scaled): the Quality Manager is told.
    await notified(h, id, 'quality_manager', 'Escalation (level 1)');
    expect((await getSnapshot(h.client, id)).leaves).toEqual(['revoked']);

    await send(h, id, { type: 'RETURN', actor: ada, data: { copies_returned: 1 } });
    expect(await send(h, id, { type: 'CLOSE', actor: ada })).toMatchObject({ state: 'closed', done: true });
  });
});
