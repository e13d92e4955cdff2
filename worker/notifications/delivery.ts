/**
 * The delivery service: takes due rows from the outbox (`worker/records/outbox.ts`) and sends them
 * over SMTP, in the recipient's language, one e-mail per notification or one digest a day. A row is
 * marked sent only after the SMTP server accepted its message; a failure makes it due again after
 * an exponential back-off, and after `maxAttempts` it is `failed` (admins see it in
 * `GET /api/notifications/outbox` with the last error). Start it where the process starts:
 * `const stop = startNotificationDelivery(store, notificationSettings())`, `await stop()` at exit.
 */
import { backoffMs } from '../records/outbox.ts';
import type { OutboxBatchItem } from '../records/notification-types.ts';
import type { RecordsStore } from '../records/types.ts';
import { composeMail } from './compose.ts';
import { smtpSender, type MailSender } from './mailer.ts';
import type { NotificationSettings } from './settings.ts';

export interface DeliveryReport {
  sent: number;
  failed: number;
}

/** The domain of Message-IDs: the public URL's host, else the From address's domain. */
function messageDomain(settings: NotificationSettings): string {
  if (settings.publicUrl) return new URL(settings.publicUrl).hostname;
  return settings.smtp?.from.split('@')[1]?.replace(/[>\s]/g, '') || 'custodia.invalid';
}

async function deliverItem(
  store: RecordsStore,
  sender: MailSender,
  settings: NotificationSettings,
  item: OutboxBatchItem,
  now: () => Date,
): Promise<boolean> {
  if (!item.email) {
    // Removed or disabled since the notification was committed: nothing to retry.
    await store.markOutboxFailed(
      item,
      'no e-mail address (or the user is disabled): shown in the centre only',
      {
        retryAt: now(),
        maxAttempts: settings.maxAttempts,
        permanent: true,
      },
    );
    return false;
  }
  const mail = composeMail(item, {
    ...(settings.publicUrl ? { publicUrl: settings.publicUrl } : {}),
    domain: messageDomain(settings),
  });
  try {
    await sender.send(item.email, mail);
  } catch (err) {
    const wait = backoffMs(item.attempts, settings.backoffMs, settings.maxBackoffMs);
    await store.markOutboxFailed(item, (err as Error).message || String(err), {
      retryAt: new Date(now().getTime() + wait),
      maxAttempts: settings.maxAttempts,
    });
    return false;
  }
  // The at-least-once window: a crash between the server's accept and this commit resends the
  // message (same Message-ID) once the lease has expired.
  await store.markOutboxSent(item, mail.messageId);
  return true;
}

/** Send everything due now (claim after claim until none is left); for the loop and for tests. */
export async function deliverDue(
  store: RecordsStore,
  sender: MailSender,
  settings: NotificationSettings,
  now: () => Date = () => new Date(),
): Promise<DeliveryReport> {
  const report: DeliveryReport = { sent: 0, failed: 0 };
  for (;;) {
    const claimedAt = Date.now();
    const items = await store.claimOutbox({ now: now(), leaseMs: settings.leaseMs, limit: settings.batch });
    if (!items.length) return report;
    for (const [i, item] of items.entries()) {
      // Too little lease left for one more send: give the rest back and claim afresh.
      if (Date.now() - claimedAt > settings.leaseMs - settings.sendTimeoutMs) {
        for (const rest of items.slice(i)) await store.releaseOutbox(rest);
        break;
      }
      if (await deliverItem(store, sender, settings, item, now)) report.sent++;
      else report.failed++;
    }
  }
}

/**
 * Run delivery in this process until the returned function is called (it resolves once the pass
 * in progress has finished). Without SMTP settings nothing is sent: the outbox keeps the rows.
 */
export function startNotificationDelivery(
  store: RecordsStore,
  settings: NotificationSettings,
  opts: { sender?: MailSender; onError?: (err: unknown) => void } = {},
): () => Promise<void> {
  const smtp = settings.smtp;
  if (!smtp && !opts.sender) {
    console.error(
      'custodia: CUSTODIA_SMTP_HOST is not set: notifications stay in-app; e-mails wait in the outbox',
    );
    return () => Promise.resolve();
  }
  const sender = opts.sender ?? smtpSender(smtp!, settings.sendTimeoutMs);
  const onError =
    opts.onError ??
    ((err: unknown) => console.error(`custodia: notification delivery: ${(err as Error).message}`));
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = (): void => {
    running = deliverDue(store, sender, settings)
      .then(
        () => undefined,
        (err: unknown) => onError(err),
      )
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, settings.pollMs);
      });
  };
  tick();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await running;
    sender.close();
  };
}
