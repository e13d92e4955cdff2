/** What an outbox item becomes as an e-mail: language, links, escaping, a stable Message-ID. */
import { describe, expect, it } from 'vitest';
import { composeMail, messageIdOf } from '../../worker/notifications/compose.ts';
import { nextDigestAt } from '../../worker/records/notifications.ts';
import type { OutboxBatchItem } from '../../worker/records/notification-types.ts';

const item = (over: Partial<OutboxBatchItem> = {}): OutboxBatchItem => ({
  userId: 'alice',
  email: 'alice@example.test',
  language: 'zh',
  channel: 'email',
  dueAt: '2026-12-06T00:00:00.000Z',
  attempts: 1,
  notifications: [
    {
      id: 42,
      workflowId: 'file_access/acme 1',
      procedure: 'file_access',
      message: { zh: '请审阅 <b>紧急</b>', en: 'Please review <b>now</b>' },
      at: '2026-12-05T08:00:00.000Z',
    },
  ],
  ...over,
});

describe('composeMail', () => {
  it('writes the recipient’s language, links the instance (encoded) and escapes the HTML', () => {
    const m = composeMail(item(), { publicUrl: 'https://c.example.cn', domain: 'c.example.cn' });
    expect(m.subject).toBe('[Custodia] 请审阅 <b>紧急</b>');
    expect(m.text).toContain('https://c.example.cn/instances/file_access%2Facme%201');
    expect(m.html).toContain('请审阅 &lt;b&gt;紧急&lt;/b&gt;');
    expect(m.html).not.toContain('<b>');
    expect(m.html).toContain('lang="zh-CN"');
    const en = composeMail(item({ language: 'en' }), { domain: 'c.example.cn' });
    expect(en.subject).toBe('[Custodia] Please review <b>now</b>');
    expect(en.text).toContain('Instance: file_access/acme 1');
    expect(en.text).not.toContain('http');
  });

  it('derives the Message-ID from notification and recipient only', () => {
    const a = messageIdOf(item(), 'c.example.cn');
    expect(messageIdOf(item({ attempts: 5, language: 'en' }), 'c.example.cn')).toBe(a);
    expect(messageIdOf(item({ userId: 'bob' }), 'c.example.cn')).not.toBe(a);
    expect(a).toMatch(/^<custodia\.n42\.[0-9a-f]{16}@c\.example\.cn>$/);
    expect(messageIdOf(item({ channel: 'digest' }), 'x')).toBe(
      `<custodia.digest.${/n42\.([0-9a-f]+)@/.exec(a)![1]}.202612060000@x>`,
    );
  });

  it('digests go out at 08:00 in Shanghai (00:00 UTC), strictly after now', () => {
    expect(nextDigestAt(new Date('2026-12-05T23:59:59Z')).toISOString()).toBe('2026-12-06T00:00:00.000Z');
    expect(nextDigestAt(new Date('2026-12-06T00:00:00Z')).toISOString()).toBe('2026-12-07T00:00:00.000Z');
    expect(nextDigestAt(new Date('2026-12-31T12:00:00Z')).toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });
});
