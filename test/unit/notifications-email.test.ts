/**
 * E-mail delivery against a real SMTP server in this process: the recipient's language, the link
 * to the instance, a Message-ID per (notification, recipient), the outbox marked sent; an
 * unreachable server loses nothing (retried with back-off, the error visible to admins, `failed`
 * after the last attempt); the daily digest.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deliverDue } from '../../worker/notifications/delivery.ts';
import { smtpSender } from '../../worker/notifications/mailer.ts';
import { notificationSettings, type NotificationSettings } from '../../worker/notifications/settings.ts';
import { nextDigestAt } from '../../worker/records/notifications.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import { addStaff, memoryStore, notifyingCommit } from './notifications-fixture.ts';
import { startSmtpSink, type SmtpSink } from './smtp-sink.ts';

let store: RecordsStore;
let sink: SmtpSink;
let seq = 1;

function settingsFor(port: number, extra: Record<string, string> = {}): NotificationSettings {
  return notificationSettings({
    CUSTODIA_SMTP_HOST: '127.0.0.1',
    CUSTODIA_SMTP_PORT: String(port),
    CUSTODIA_SMTP_FROM: 'custodia@cert.example.cn',
    CUSTODIA_PUBLIC_URL: 'https://custodia.example.cn/',
    CUSTODIA_NOTIFY_BACKOFF_MS: '1000',
    ...extra,
  });
}

async function deliver(settings: NotificationSettings, now?: Date) {
  const sender = smtpSender(settings.smtp!);
  try {
    return await deliverDue(store, sender, settings, now ? () => now : undefined);
  } finally {
    sender.close();
  }
}

beforeAll(async () => {
  store = await memoryStore();
  await addStaff(store);
  sink = await startSmtpSink();
}, 60_000);

afterAll(async () => {
  await sink?.close();
  await store?.close();
});

beforeEach(() => {
  sink.received.length = 0;
});

describe('e-mail over SMTP', () => {
  it('sends each recipient one e-mail in their language with a link to the instance', async () => {
    await store.commit(
      notifyingCommit('wf-mail-1', seq++, {
        zh: '请审阅文件借阅申请',
        en: 'Please review the file access request',
      }),
      [],
    );
    expect(await deliver(settingsFor(sink.port))).toEqual({ sent: 2, failed: 0 });
    const byTo = new Map(sink.received.map((m) => [m.to[0], m]));
    expect([...byTo.keys()].sort()).toEqual(['alice@example.test', 'carol@example.test']);
    const alice = byTo.get('alice@example.test')!;
    expect(alice.subject).toBe('[Custodia] 请审阅文件借阅申请');
    expect(alice.contentLanguage).toBe('zh-CN');
    expect(alice.body).toContain('打开实例: https://custodia.example.cn/instances/wf-mail-1');
    expect(alice.body).not.toContain('Please review');
    const id = (await store.notificationsFor((await store.getUser('alice'))!)).notifications[0]!.id;
    expect(alice.messageId).toMatch(
      new RegExp(`^<custodia\\.n${id}\\.[0-9a-f]{16}@custodia\\.example\\.cn>$`),
    );
    expect(byTo.get('carol@example.test')!.messageId).not.toBe(alice.messageId);
    // Sent rows are no longer listed for admins; a second pass sends nothing.
    expect((await store.unsentOutbox()).filter((e) => e.workflowId === 'wf-mail-1')).toEqual([]);
    expect(await deliver(settingsFor(sink.port))).toEqual({ sent: 0, failed: 0 });
  });

  it('writes English to an English-speaking user', async () => {
    await store.commit(
      notifyingCommit('wf-mail-en', seq++, {
        client: 'globex',
        zh: '请审阅',
        en: 'Please review the request',
      }),
      [],
    );
    await deliver(settingsFor(sink.port));
    const bob = sink.received.find((m) => m.to[0] === 'bob@example.test')!;
    expect(bob.subject).toBe('[Custodia] Please review the request');
    expect(bob.body).toContain('Open the instance: https://custodia.example.cn/instances/wf-mail-en');
  });

  it('keeps what an unreachable server could not take, shows the error to admins, retries with back-off', async () => {
    const closed = await startSmtpSink();
    const deadPort = closed.port;
    await closed.close();
    await store.commit(notifyingCommit('wf-mail-down', seq++), []);
    const t0 = new Date();
    expect(await deliver(settingsFor(deadPort), t0)).toEqual({ sent: 0, failed: 2 });
    const unsent = (await store.unsentOutbox()).filter((e) => e.workflowId === 'wf-mail-down');
    expect(unsent).toHaveLength(2);
    for (const e of unsent) {
      expect(e).toMatchObject({ status: 'pending', attempts: 1 });
      expect(e.lastError).toMatch(/ECONNREFUSED|connect/i);
      expect(Date.parse(e.dueAt)).toBe(t0.getTime() + 1000);
    }
    // Not due yet: nothing is tried before the back-off has passed.
    expect(await deliver(settingsFor(sink.port), new Date(t0.getTime() + 500))).toEqual({
      sent: 0,
      failed: 0,
    });
    // The second failure doubles the wait.
    const t1 = new Date(t0.getTime() + 1000);
    expect(await deliver(settingsFor(deadPort), t1)).toEqual({ sent: 0, failed: 2 });
    const again = (await store.unsentOutbox()).filter((e) => e.workflowId === 'wf-mail-down');
    expect(again.map((e) => [e.attempts, Date.parse(e.dueAt) - t1.getTime()])).toEqual([
      [2, 2000],
      [2, 2000],
    ]);
    // The server is back: everything arrives, once.
    expect(await deliver(settingsFor(sink.port), new Date(t1.getTime() + 2000))).toEqual({
      sent: 2,
      failed: 0,
    });
    expect(sink.received.map((m) => m.to[0]).sort()).toEqual(['alice@example.test', 'carol@example.test']);
  });

  it('gives up after the last attempt: `failed`, with the error, for an admin to see', async () => {
    const closed = await startSmtpSink();
    await closed.close();
    await store.commit(notifyingCommit('wf-mail-fail', seq++, { client: 'globex' }), []);
    const settings = settingsFor(closed.port, { CUSTODIA_NOTIFY_MAX_ATTEMPTS: '2' });
    let now = new Date();
    await deliver(settings, now);
    now = new Date(now.getTime() + 1000);
    await deliver(settings, now);
    const rows = (await store.unsentOutbox()).filter((e) => e.workflowId === 'wf-mail-fail');
    expect(rows.map((r) => [r.userId, r.status, r.attempts])).toEqual(
      expect.arrayContaining([
        ['bob', 'failed', 2],
        ['carol', 'failed', 2],
      ]),
    );
    expect(await deliver(settingsFor(sink.port), new Date(now.getTime() + 3600_000))).toEqual({
      sent: 0,
      failed: 0,
    });
  });

  it('sends a daily digest to those who chose it: one e-mail with every item, at the digest hour', async () => {
    await store.setNotificationPreferences('alice', { message: 'digest' });
    const before = new Date();
    await store.commit(notifyingCommit('wf-digest-1', seq++, { zh: '第一件事', en: 'First' }), []);
    await store.commit(notifyingCommit('wf-digest-2', seq++, { zh: '第二件事', en: 'Second' }), []);
    await deliver(settingsFor(sink.port));
    expect(sink.received.filter((m) => m.to[0] === 'alice@example.test')).toEqual([]);
    sink.received.length = 0;
    const digestTime = nextDigestAt(before);
    await deliver(settingsFor(sink.port), new Date(digestTime.getTime() + 60_000));
    const digests = sink.received.filter((m) => m.to[0] === 'alice@example.test');
    expect(digests).toHaveLength(1);
    expect(digests[0]!.subject).toBe('[Custodia] 每日通知摘要（2 条）');
    expect(digests[0]!.body).toContain('第一件事');
    expect(digests[0]!.body).toContain('https://custodia.example.cn/instances/wf-digest-2');
    expect(digests[0]!.messageId).toMatch(/^<custodia\.digest\.[0-9a-f]{16}\.\d{12}@custodia\.example\.cn>$/);
    await store.setNotificationPreferences('alice', { message: 'email' });
  });
});

describe('settings', () => {
  it('reads the SMTP settings from the environment and refuses malformed ones', () => {
    expect(notificationSettings({}).smtp).toBeUndefined();
    expect(
      notificationSettings({
        CUSTODIA_SMTP_HOST: 'smtp.example.cn',
        CUSTODIA_SMTP_SECURE: 'true',
        CUSTODIA_SMTP_USER: 'u',
        CUSTODIA_SMTP_PASSWORD: 'p',
        CUSTODIA_PUBLIC_URL: 'https://custodia.example.cn',
      }).smtp,
    ).toEqual({
      host: 'smtp.example.cn',
      port: 465,
      secure: true,
      auth: { user: 'u', pass: 'p' },
      from: 'custodia@custodia.example.cn',
    });
    expect(() => notificationSettings({ CUSTODIA_SMTP_HOST: 'h', CUSTODIA_SMTP_PORT: 'x' })).toThrow(/PORT/);
    expect(() => notificationSettings({ CUSTODIA_SMTP_HOST: 'h', CUSTODIA_SMTP_USER: 'u' })).toThrow(
      /PASSWORD/,
    );
  });
});
