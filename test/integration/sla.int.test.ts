/**
 * `sla:` on the real Temporal dev server (issue 13's "done when", time driven by a fixture with
 * seconds instead of working days — the working-day arithmetic is tested purely in
 * test/unit/sla.test.ts): an undecided request reminds the approver (an e-mail in Chinese reaches
 * the in-process SMTP server), then escalates to the quality manager (`CustodiaEscalation` = 1,
 * the snapshot's level, an e-mail); approving ends it. And the shipped file_access 1.3.0 is due
 * two working days after submission in `CustodiaDueAt`, computed from the pinned calendar.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../worker/config.ts';
import { getSnapshot } from '../../worker/instances.ts';
import { deliverDue } from '../../worker/notifications/delivery.ts';
import { smtpSender } from '../../worker/notifications/mailer.ts';
import { notificationSettings } from '../../worker/notifications/settings.ts';
import { shippedCalendar } from '../../worker/calendars.ts';
import { buildListQuery, listRows } from '../../worker/visibility.ts';
import { slaOfRow } from '../../worker/sla-rows.ts';
import { addWorkingDays } from '../../workflows/core/calendar.ts';
import { addStaff } from '../unit/notifications-fixture.ts';
import { startSmtpSink, type SmtpSink } from '../unit/smtp-sink.ts';
import { eventually, sendEvent, SHIPPED_DEFINITIONS, startHarness, type Harness } from './harness.ts';
import { recordHistory } from './record-history.ts';

const gail = { id: 'gail', roles: ['general_affairs_head'] };
const ann = { id: 'ann', roles: ['project_staff'] };

let h: Harness;
let sink: SmtpSink;
beforeAll(async () => {
  h = await startHarness([path.join(REPO_ROOT, 'test/fixtures/sla'), SHIPPED_DEFINITIONS]);
  sink = await startSmtpSink();
  await addStaff(h.running.store, [
    {
      id: 'gail',
      displayName: 'Gail',
      roles: ['general_affairs_head'],
      clients: ['acme'],
      email: 'gail@example.test',
      language: 'zh',
    },
    {
      id: 'quinn',
      displayName: 'Quinn',
      roles: ['quality_manager'],
      clients: [],
      email: 'quinn@example.test',
      language: 'en',
    },
  ]);
});
afterAll(async () => {
  await h?.close();
  await sink?.close();
});

async function deliver(): Promise<void> {
  const settings = notificationSettings({
    CUSTODIA_SMTP_HOST: '127.0.0.1',
    CUSTODIA_SMTP_PORT: String(sink.port),
    CUSTODIA_PUBLIC_URL: 'https://custodia.example.cn/',
  });
  const sender = smtpSender(settings.smtp!);
  try {
    await deliverDue(h.running.store, sender, settings);
  } finally {
    sender.close();
  }
}

describe('sla on the real server', () => {
  it('reminds the approver (e-mail in zh), then escalates to the quality manager', async () => {
    const id = await h.start('sla_request', { client: 'acme' }, ann);
    const slaRecords = async () => (await getSnapshot(h.client, id)).log.filter((r) => r.event === '$sla');
    const first = await getSnapshot(h.client, id);
    expect(first.sla).toMatchObject({ level: 0, next: { kind: 'remind', state: 'submitted' } });

    await eventually(async () => (await slaRecords()).length === 1, 15_000);
    await eventually(async () => (await h.running.store.notificationsOf(id)).length >= 1, 10_000);
    await deliver();
    const toGail = sink.received.filter((m) => m.to.includes('gail@example.test'));
    expect(toGail).toHaveLength(1);
    expect(toGail[0]!.body).toContain('提醒');
    expect(toGail[0]!.body).toContain('待批准');
    expect(sink.received.some((m) => m.to.includes('quinn@example.test'))).toBe(false);

    await eventually(async () => (await slaRecords()).length === 2, 15_000);
    const snap = await getSnapshot(h.client, id);
    expect(snap.sla).toMatchObject({ level: 1 });
    expect(snap.sla?.next).toBeUndefined();
    expect((await slaRecords()).map((r) => r.data)).toEqual([
      expect.objectContaining({ kind: 'remind', roles: ['general_affairs_head'] }),
      expect.objectContaining({ kind: 'escalate', roles: ['quality_manager'], level: 1 }),
    ]);
    const rows = await eventually(async () => {
      const r = await listRows(h.client, `WorkflowId = '${id}' AND CustodiaEscalation >= 1`);
      return r.length ? r : undefined;
    }, 10_000);
    expect(rows[0]).toMatchObject({ workflowId: id, escalation: 1 });

    await eventually(async () => (await h.running.store.notificationsOf(id)).length >= 2, 10_000);
    await deliver();
    const toQuinn = sink.received.filter((m) => m.to.includes('quinn@example.test'));
    expect(toQuinn).toHaveLength(1);
    expect(toQuinn[0]!.body).toContain('Escalation (level 1)');

    // The stalled view lists it (escalated) with its level; the instance page shows who was told.
    const stalled = await listRows(
      h.client,
      `${buildListQuery({ stalled: true, idle: 'P3D' }, new Date())} AND WorkflowId = '${id}'`,
    );
    expect(stalled).toHaveLength(1);
    expect(slaOfRow(stalled[0]!, h.definitions.get('sla_request'), Date.now())).toEqual({ level: 1 });
    const sent = await h.running.store.sentNotificationsOf(id);
    expect(sent.map((n) => [n.to, n.deliveries.map((d) => [d.userId, d.channel, d.status])])).toEqual([
      ['general_affairs_head', [['gail', 'email', 'sent']]],
      ['quality_manager', [['quinn', 'email', 'sent']]],
    ]);
    expect(sent[1]!.message.zh).toContain('升级（第 1 级）');

    // Deciding ends the state: no more points, level back to 0.
    await sendEvent(h.client, id, { type: 'APPROVE', actor: gail });
    await eventually(async () => {
      const r = await listRows(h.client, `WorkflowId = '${id}' AND CustodiaEscalation = 0`);
      return r.length ? r : undefined;
    }, 10_000);
    await recordHistory(h.client, id, 'sla-remind-escalate');
  }, 60_000);

  it('file_access 1.3.0 is due two working days after submission (CustodiaDueAt)', async () => {
    const id = await h.start('file_access', { client: 'acme' }, ann);
    await sendEvent(h.client, id, {
      type: 'SUBMIT',
      actor: ann,
      data: { file_id: 'F-1', purpose: 'audit', access_kind: 'view', window_days: 1 },
    });
    const snap = await getSnapshot(h.client, id);
    expect(snap.leaves).toEqual(['submitted']);
    const expected = addWorkingDays(Date.parse(snap.stateSince), 2, shippedCalendar()).at;
    expect(snap.dueAt).toBe(new Date(expected).toISOString());
    expect(snap.sla).toMatchObject({ level: 0, next: { kind: 'remind' } });
    expect(Date.parse(snap.sla!.next!.at)).toBe(
      addWorkingDays(Date.parse(snap.stateSince), 1, shippedCalendar()).at,
    );
    const rows = await eventually(async () => {
      const r = await listRows(h.client, `WorkflowId = '${id}' AND CustodiaState = 'submitted'`);
      return r.length ? r : undefined;
    }, 10_000);
    expect(rows[0]!.dueAt).toBe(new Date(expected).toISOString());
    // The stalled view's next reminder, computed from the row alone, is the workflow's.
    expect(slaOfRow(rows[0]!, h.definitions.get('file_access'), Date.now())).toEqual({
      level: 0,
      next: snap.sla!.next,
    });
  }, 30_000);
});
