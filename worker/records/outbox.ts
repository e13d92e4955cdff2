/**
 * The e-mail outbox (`notification_outbox`, filled by `fanOutNotification` in the commit of the
 * transition that notified). A sender claims due rows by taking a lease (`FOR UPDATE SKIP LOCKED`,
 * so several processes on one PostgreSQL never claim the same row), sends, and then marks them sent —
 * or, on failure, due again after an exponential back-off; after `maxAttempts` they are `failed`
 * and wait for an admin. A sender that dies mid-send leaves its lease to expire: the rows are claimed
 * again and resent with the same Message-ID (at least once; see `worker/notifications/README.md`).
 */
import type { Language, OutboxBatchItem, OutboxEntry } from './notification-types.ts';
import type { SqlClient, SqlQueryable } from './sql.ts';

export interface ClaimOptions {
  now?: Date;
  /** How long a claim holds before another sender may take the rows again (default 2 min). */
  leaseMs?: number;
  /** Rows per claim (default 50). */
  limit?: number;
}

interface ClaimedRow {
  notification_id: number;
  user_id: string;
  channel: 'email' | 'digest';
  due_at: Date;
  attempts: number;
  email: string | null;
  language: Language;
  disabled: boolean;
  workflow_id: string;
  procedure: string | null;
  message_zh: string;
  message_en: string;
  at: Date;
}

/**
 * Claim due rows: each e-mail row is one item; digest rows are grouped per (user, due time) into
 * one item. Disabled users' rows are claimed too (the sender records why it did not send).
 */
export async function claimOutbox(sql: SqlClient, opts: ClaimOptions = {}): Promise<OutboxBatchItem[]> {
  const now = opts.now ?? new Date();
  const leaseUntil = new Date(now.getTime() + (opts.leaseMs ?? 120_000));
  const rows = await sql.transaction(async (tx) => {
    const keys = await tx.query<{ notification_id: number; user_id: string }>(
      `SELECT notification_id, user_id FROM notification_outbox
       WHERE status = 'pending' AND due_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
       ORDER BY due_at, notification_id LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [now.toISOString(), opts.limit ?? 50],
    );
    if (!keys.length) return [];
    const json = JSON.stringify(keys.map((k) => [Number(k.notification_id), k.user_id]));
    return tx.query<ClaimedRow>(
      `WITH k AS (SELECT (e ->> 0)::bigint AS nid, e ->> 1 AS uid FROM jsonb_array_elements($1::jsonb) e),
       claimed AS (
         UPDATE notification_outbox o SET lease_until = $2, attempts = o.attempts + 1, last_attempt_at = $3
         FROM k WHERE o.notification_id = k.nid AND o.user_id = k.uid
         RETURNING o.notification_id, o.user_id, o.channel, o.due_at, o.attempts)
       SELECT c.*, u.email, u.language, u.disabled, n.workflow_id, n.procedure, n.message_zh, n.message_en, n.at
       FROM claimed c JOIN users u ON u.id = c.user_id JOIN notifications n ON n.id = c.notification_id
       ORDER BY c.due_at, c.notification_id`,
      [json, leaseUntil.toISOString(), now.toISOString()],
    );
  });
  return groupClaimed(rows);
}

function groupClaimed(rows: ClaimedRow[]): OutboxBatchItem[] {
  const items: OutboxBatchItem[] = [];
  const digests = new Map<string, OutboxBatchItem>();
  for (const r of rows) {
    const dueAt = new Date(r.due_at).toISOString();
    const n = {
      id: Number(r.notification_id),
      workflowId: r.workflow_id,
      ...(r.procedure ? { procedure: r.procedure } : {}),
      message: { zh: r.message_zh, en: r.message_en },
      at: new Date(r.at).toISOString(),
    };
    const key = `${r.user_id}\u0000${dueAt}`;
    const existing = r.channel === 'digest' ? digests.get(key) : undefined;
    if (existing) {
      existing.notifications.push(n);
      existing.attempts = Math.max(existing.attempts, r.attempts);
      continue;
    }
    const item: OutboxBatchItem = {
      userId: r.user_id,
      ...(r.email && !r.disabled ? { email: r.email } : {}),
      language: r.language,
      channel: r.channel,
      dueAt,
      attempts: r.attempts,
      notifications: [n],
    };
    items.push(item);
    if (r.channel === 'digest') digests.set(key, item);
  }
  return items;
}

const keysOf = (item: OutboxBatchItem): string =>
  JSON.stringify(item.notifications.map((n) => [n.id, item.userId]));

/** The SMTP server accepted the item's message: its rows are sent (committed after the accept). */
export async function markOutboxSent(
  db: SqlQueryable,
  item: OutboxBatchItem,
  messageId: string,
): Promise<void> {
  await db.query(
    `UPDATE notification_outbox o SET status = 'sent', sent_at = now(), lease_until = NULL, message_id = $2,
            last_error = NULL
     FROM (SELECT (e ->> 0)::bigint AS nid, e ->> 1 AS uid FROM jsonb_array_elements($1::jsonb) e) k
     WHERE o.notification_id = k.nid AND o.user_id = k.uid`,
    [keysOf(item), messageId],
  );
}

/** Give back a claimed item that was not tried (its lease ran short): claimable again at once. */
export async function releaseOutbox(db: SqlQueryable, item: OutboxBatchItem): Promise<void> {
  await db.query(
    `UPDATE notification_outbox o SET lease_until = NULL, attempts = greatest(o.attempts - 1, 0)
     FROM (SELECT (e ->> 0)::bigint AS nid, e ->> 1 AS uid FROM jsonb_array_elements($1::jsonb) e) k
     WHERE o.notification_id = k.nid AND o.user_id = k.uid AND o.status = 'pending'`,
    [keysOf(item)],
  );
}

/** Back-off before attempt n+1 after n failed attempts: base·2^(n-1), capped. */
export function backoffMs(attempts: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempts - 1));
}

/**
 * Sending failed: due again after the back-off, or `failed` once `attempts` reached `maxAttempts`
 * (or at once when `permanent`: no address, user disabled).
 */
export async function markOutboxFailed(
  db: SqlQueryable,
  item: OutboxBatchItem,
  error: string,
  opts: { retryAt: Date; maxAttempts: number; permanent?: boolean },
): Promise<void> {
  await db.query(
    `UPDATE notification_outbox o SET lease_until = NULL, last_error = $2, due_at = $3,
            status = CASE WHEN $5::boolean OR o.attempts >= $4 THEN 'failed' ELSE 'pending' END
     FROM (SELECT (e ->> 0)::bigint AS nid, e ->> 1 AS uid FROM jsonb_array_elements($1::jsonb) e) k
     WHERE o.notification_id = k.nid AND o.user_id = k.uid`,
    [
      keysOf(item),
      error.slice(0, 2000),
      opts.retryAt.toISOString(),
      opts.maxAttempts,
      opts.permanent ?? false,
    ],
  );
}

/** Rows not yet sent (pending, being retried, failed), newest first: for admins. */
export async function unsentOutbox(db: SqlQueryable, limit = 200): Promise<OutboxEntry[]> {
  const rows = await db.query<{
    notification_id: number;
    user_id: string;
    channel: 'email' | 'digest';
    status: 'pending' | 'sent' | 'failed';
    attempts: number;
    due_at: Date;
    last_attempt_at: Date | null;
    last_error: string | null;
    sent_at: Date | null;
    workflow_id: string;
  }>(
    `SELECT o.notification_id, o.user_id, o.channel, o.status, o.attempts, o.due_at, o.last_attempt_at,
            o.last_error, o.sent_at, n.workflow_id
     FROM notification_outbox o JOIN notifications n ON n.id = o.notification_id
     WHERE o.status <> 'sent' ORDER BY o.created_at DESC, o.notification_id DESC LIMIT $1`,
    [limit],
  );
  const iso = (d: Date | null): string | undefined => (d ? new Date(d).toISOString() : undefined);
  return rows.map((r) => ({
    notificationId: Number(r.notification_id),
    userId: r.user_id,
    channel: r.channel,
    status: r.status,
    attempts: r.attempts,
    dueAt: iso(r.due_at)!,
    ...(r.last_attempt_at ? { lastAttemptAt: iso(r.last_attempt_at)! } : {}),
    ...(r.last_error ? { lastError: r.last_error } : {}),
    ...(r.sent_at ? { sentAt: iso(r.sent_at)! } : {}),
    workflowId: r.workflow_id,
  }));
}
