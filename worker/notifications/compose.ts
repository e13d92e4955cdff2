/**
 * What one outbox item becomes as an e-mail: in the recipient's language, with a link to each
 * instance, and a Message-ID derived only from what is being sent (notification id + recipient, or
 * for a digest recipient + due time), so a resend after a crash carries the same Message-ID.
 */
import { createHash } from 'node:crypto';
import type { Language, OutboxBatchItem } from '../records/notification-types.ts';

export interface ComposedMail {
  messageId: string;
  subject: string;
  text: string;
  html: string;
  language: Language;
}

const TEXT: Record<
  Language,
  {
    subject(message: string): string;
    digestSubject(n: number): string;
    digestIntro(n: number): string;
    open: string;
    instance: string;
    footer: string;
  }
> = {
  zh: {
    subject: (m) => `[Custodia] ${m}`,
    digestSubject: (n) => `[Custodia] 每日通知摘要（${n} 条）`,
    digestIntro: (n) => `您有 ${n} 条新通知：`,
    open: '打开实例',
    instance: '实例',
    footer: '此邮件由 Custodia 自动发送。可在“通知设置”中改为仅站内通知或每日摘要。',
  },
  en: {
    subject: (m) => `[Custodia] ${m}`,
    digestSubject: (n) => `[Custodia] Daily digest (${n} notification${n === 1 ? '' : 's'})`,
    digestIntro: (n) => `You have ${n} new notification${n === 1 ? '' : 's'}:`,
    open: 'Open the instance',
    instance: 'Instance',
    footer: 'Sent by Custodia. Choose in-app only or a daily digest in your notification settings.',
  },
};

const short = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex').slice(0, 16);

/** `<…@domain>`: the same item always gets the same id. */
export function messageIdOf(item: OutboxBatchItem, domain: string): string {
  const who = short(item.userId);
  const first = item.notifications[0];
  if (item.channel === 'email' && first) return `<custodia.n${first.id}.${who}@${domain}>`;
  return `<custodia.digest.${who}.${item.dueAt.replace(/[^0-9]/g, '').slice(0, 12)}@${domain}>`;
}

export function instanceLink(publicUrl: string | undefined, workflowId: string): string | undefined {
  return publicUrl ? `${publicUrl}/instances/${encodeURIComponent(workflowId)}` : undefined;
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The e-mail for `item` in its recipient's language. */
export function composeMail(
  item: OutboxBatchItem,
  opts: { publicUrl?: string; domain: string },
): ComposedMail {
  const t = TEXT[item.language];
  const lines = item.notifications.map((n) => {
    const message = n.message[item.language] || n.message.zh || n.message.en;
    const link = instanceLink(opts.publicUrl, n.workflowId);
    return { message, link, workflowId: n.workflowId };
  });
  const one = item.channel === 'email' && lines.length === 1 ? lines[0] : undefined;
  const subject = one ? t.subject(one.message.split('\n')[0]!.slice(0, 120)) : t.digestSubject(lines.length);
  const textBody = one
    ? [one.message, '', `${t.instance}: ${one.workflowId}`, ...(one.link ? [`${t.open}: ${one.link}`] : [])]
    : [
        t.digestIntro(lines.length),
        '',
        ...lines.flatMap((l) => [`• ${l.message}`, `  ${l.link ?? `${t.instance}: ${l.workflowId}`}`]),
      ];
  const htmlItems = lines.map(
    (l) =>
      `<li><p>${escapeHtml(l.message)}</p><p>${
        l.link
          ? `<a href="${escapeHtml(l.link)}">${escapeHtml(t.open)}: ${escapeHtml(l.workflowId)}</a>`
          : `${escapeHtml(t.instance)}: ${escapeHtml(l.workflowId)}`
      }</p></li>`,
  );
  const html =
    `<!doctype html><html lang="${item.language === 'zh' ? 'zh-CN' : 'en'}"><body>` +
    (one ? '' : `<p>${escapeHtml(t.digestIntro(lines.length))}</p>`) +
    `<ul>${htmlItems.join('')}</ul><hr><p><small>${escapeHtml(t.footer)}</small></p></body></html>`;
  return {
    messageId: messageIdOf(item, opts.domain),
    subject,
    text: [...textBody, '', '--', t.footer].join('\n'),
    html,
    language: item.language,
  };
}
