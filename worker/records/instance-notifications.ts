/**
 * What an instance told whom (the instance page's "notifications sent"): each notification of the
 * instance, the role or `client` it was addressed to, both texts, and each user it reached with the
 * channel and — for e-mail — the outbox status. No migration: the v3 tables hold all of it.
 */
import type { SqlQueryable } from './sql.ts';

/** One delivery of a notification to a user. */
export interface SentDelivery {
  userId: string;
  channel: 'in_app' | 'email' | 'digest';
  /** E-mail / digest: `pending`, `sent` or `failed`; absent for in-app only. */
  status?: 'pending' | 'sent' | 'failed';
  read: boolean;
}

/** One notification an instance sent. */
export interface SentNotification {
  id: number;
  seq: number;
  at: string;
  /** The role (or `client`) it was addressed to. */
  to: string;
  message: { zh: string; en: string };
  deliveries: SentDelivery[];
}

/** The notifications of `workflowId`, in order, with their deliveries. */
export async function sentNotificationsOf(db: SqlQueryable, workflowId: string): Promise<SentNotification[]> {
  const rows = await db.query<{
    id: number | string;
    seq: number;
    at: Date | string;
    recipient: string;
    message_zh: string;
    message_en: string;
    user_id: string | null;
    channel: SentDelivery['channel'] | null;
    read_at: Date | string | null;
    status: SentDelivery['status'] | null;
  }>(
    `SELECT n.id, n.seq, n.at, n.recipient, n.message_zh, n.message_en,
            d.user_id, d.channel, d.read_at, o.status
       FROM notifications n
       LEFT JOIN notification_deliveries d ON d.notification_id = n.id
       LEFT JOIN notification_outbox o ON o.notification_id = n.id AND o.user_id = d.user_id
      WHERE n.workflow_id = $1
      ORDER BY n.seq, n.idx, d.user_id`,
    [workflowId],
  );
  const out: SentNotification[] = [];
  const byId = new Map<number, SentNotification>();
  for (const r of rows) {
    const id = Number(r.id);
    let n = byId.get(id);
    if (!n) {
      n = {
        id,
        seq: r.seq,
        at: new Date(r.at).toISOString(),
        to: r.recipient,
        message: { zh: r.message_zh, en: r.message_en },
        deliveries: [],
      };
      byId.set(id, n);
      out.push(n);
    }
    if (r.user_id && r.channel)
      n.deliveries.push({
        userId: r.user_id,
        channel: r.channel,
        ...(r.status ? { status: r.status } : {}),
        read: r.read_at !== null,
      });
  }
  return out;
}
