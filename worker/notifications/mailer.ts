/** SMTP through nodemailer: one pooled transport per delivery service. */
import nodemailer from 'nodemailer';
import type { ComposedMail } from './compose.ts';
import type { SmtpSettings } from './settings.ts';

/** What the delivery service needs of a mail transport (tests may pass their own). */
export interface MailSender {
  /** Resolves once the SMTP server accepted the message (250 after DATA). */
  send(to: string, mail: ComposedMail): Promise<void>;
  close(): void;
}

/** `timeoutMs` bounds connecting, the greeting and each wait for the server. */
export function smtpSender(smtp: SmtpSettings, timeoutMs = 40_000): MailSender {
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    ...(smtp.auth ? { auth: smtp.auth } : {}),
    connectionTimeout: Math.min(10_000, timeoutMs),
    greetingTimeout: Math.min(10_000, timeoutMs),
    socketTimeout: timeoutMs,
  });
  return {
    async send(to, mail) {
      await transport.sendMail({
        from: smtp.from,
        to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: mail.messageId,
        headers: { 'Content-Language': mail.language === 'zh' ? 'zh-CN' : 'en' },
      });
    },
    close() {
      transport.close();
    },
  };
}
