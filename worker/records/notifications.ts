/**
 * The notification centre's records: who a notification reached (written in the transition's own
 * commit), what each user has read, each user's channel per kind, language and e-mail address.
 *
 * Deliveries are fanned out on write: when a `notify: { to: role }` row is committed, one
 * `notification_deliveries` row is written per enabled user who holds the role and may see the
 * instance's client (`mayAccessClient`, the one home of that rule). Reading a user's list is then
 * an index range scan on (user, id) whatever the number of users, the read mark is a row update,
 * and who was told is fixed at the time — the roles and clients held then. Reads check the client
 * again, so a user taken off a client stops seeing that client's notifications.
 *
 * `to: client` rows are messages to the client (an organisation outside Custodia, no user): no
 * delivery, so the centre shows nothing for them; they stay in `notifications` and the audit record.
 */
import { isAdmin, mayAccessClient, seesAllClients } from '../access.ts';
import { appendAudit, lockChainHead } from './audit.ts';
import { RecordsError } from './errors.ts';
import { canonicalUserId } from './identity.ts';
import {
  DEFAULT_CHANNEL,
  LANGUAGES,
  NOTIFICATION_CHANNELS,
  NOTIFICATION_KINDS,
  type Language,
  type NotificationChannel,
  type NotificationKind,
  type NotificationPage,
  type NotificationQuery,
  type UserContact,
  type UserNotification,
} from './notification-types.ts';
import type { SqlClient, SqlQueryable } from './sql.ts';
import type { Role, User } from './types.ts';

/** The recipient of `notify: { to: client }`: not a role, not a user. */
export const CLIENT_RECIPIENT = 'client';

/** Digests go out once a day at this UTC hour (00:00 UTC = 08:00 in Asia/Shanghai, no DST there). */
export const DIGEST_HOUR_UTC = 0;

/** The first digest time strictly after `now`. */
export function nextDigestAt(now: Date): Date {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), DIGEST_HOUR_UTC));
  if (d.getTime() <= now.getTime()) d.setUTCDate(d.getUTCDate() + 1);
  return d;
}

interface Recipient {
  id: string;
  roles: Role[];
  clients: string[] | null;
  email: string | null;
  channel: NotificationChannel | null;
}

/**
 * Deliver a just-inserted notification to the holders of its role (inside the commit's transaction):
 * a delivery row each, and an outbox row for those told by e-mail or digest.
 */
export async function fanOutNotification(
  tx: SqlQueryable,
  n: { id: number; to: string; client?: string; clientless?: boolean; kind: NotificationKind },
  now = new Date(),
): Promise<void> {
  if (n.to === CLIENT_RECIPIENT) return;
  const candidates = await tx.query<Recipient>(
    `SELECT u.id, u.roles, u.email, p.channel,
            (SELECT json_agg(c.client) FROM user_clients c WHERE c.user_id = u.id) AS clients
     FROM users u LEFT JOIN notification_preferences p ON p.user_id = u.id AND p.kind = $2
     WHERE NOT u.disabled AND u.roles ? $1`,
    [n.to, n.kind],
  );
  for (const r of candidates) {
    const user = { roles: r.roles, clients: r.clients ?? [] } as Pick<User, 'roles' | 'clients'> as User;
    // As for the instance itself (access.ts): a client-less one only to those who see every client,
    // and — when its procedure has no client field (definitions-level work) — to admins.
    const sees = n.client
      ? mayAccessClient(user, n.client)
      : seesAllClients(user) || (n.clientless === true && isAdmin(user));
    if (!sees) continue;
    let channel = r.channel ?? DEFAULT_CHANNEL;
    let note: string | null = null;
    if (channel !== 'in_app' && !r.email) {
      channel = 'in_app';
      note = 'no_email';
    }
    await tx.query(
      `INSERT INTO notification_deliveries (user_id, notification_id, channel, note) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING`,
      [r.id, n.id, channel, note],
    );
    if (channel === 'in_app') continue;
    const due = channel === 'digest' ? nextDigestAt(now) : now;
    await tx.query(
      `INSERT INTO notification_outbox (notification_id, user_id, channel, due_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING`,
      [n.id, r.id, channel, due.toISOString()],
    );
  }
}

interface Row {
  id: number;
  workflow_id: string;
  procedure: string | null;
  client: string | null;
  kind: NotificationKind;
  recipient: string;
  message_zh: string;
  message_en: string;
  at: Date;
  read_at: Date | null;
  channel: NotificationChannel;
  note: string | null;
}

/**
 * The clause limiting rows to clients the user may see now ($2: sees all, $3: `{clients, admin}`);
 * a client-less notification only to those who see every client, as its instance — or to an admin,
 * who was delivered it only when its procedure has no client field (`fanOutNotification`).
 */
const VISIBLE = `($2::boolean OR n.client IN (SELECT jsonb_array_elements_text($3::jsonb->'clients'))
  OR (n.client IS NULL AND ($3::jsonb->>'admin')::boolean))`;

function visibility(user: User): [boolean, string] {
  return [seesAllClients(user), JSON.stringify({ clients: user.clients, admin: isAdmin(user) })];
}

/** One page of the user's notifications, newest first, with the user's unread count. */
export async function notificationsFor(
  db: SqlQueryable,
  user: User,
  q: NotificationQuery = {},
): Promise<NotificationPage> {
  const limit = Math.max(1, Math.min(q.limit ?? 50, 500));
  const rows = await db.query<Row>(
    `SELECT n.id, n.workflow_id, n.procedure, n.client, n.kind, n.recipient, n.message_zh, n.message_en,
            n.at, d.read_at, d.channel, d.note
     FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id
     WHERE d.user_id = $1 AND ${VISIBLE} AND ($4::bigint IS NULL OR d.notification_id < $4)
       AND (NOT $5::boolean OR d.read_at IS NULL)
     ORDER BY d.notification_id DESC LIMIT $6`,
    [user.id, ...visibility(user), q.before ?? null, q.unread ?? false, limit + 1],
  );
  const unread = await unreadCount(db, user);
  const page = rows.slice(0, limit).map(fromRow);
  const last = page[page.length - 1];
  return { notifications: page, unread, ...(rows.length > limit && last ? { next: last.id } : {}) };
}

export async function unreadCount(db: SqlQueryable, user: User): Promise<number> {
  const [row] = await db.query<{ count: number }>(
    `SELECT count(*)::integer AS count
     FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id
     WHERE d.user_id = $1 AND d.read_at IS NULL AND ${VISIBLE}`,
    [user.id, ...visibility(user)],
  );
  return row?.count ?? 0;
}

function fromRow(r: Row): UserNotification {
  return {
    id: Number(r.id),
    workflowId: r.workflow_id,
    ...(r.procedure ? { procedure: r.procedure } : {}),
    ...(r.client ? { client: r.client } : {}),
    kind: r.kind,
    to: r.recipient,
    message: { zh: r.message_zh, en: r.message_en },
    at: new Date(r.at).toISOString(),
    ...(r.read_at ? { readAt: new Date(r.read_at).toISOString() } : {}),
    channel: r.channel,
    ...(r.note ? { note: r.note } : {}),
  };
}

/**
 * Mark the user's notifications read: these ids (others' ids and unknown ones are ignored, so
 * nothing about them is revealed), or all. Returns how many changed.
 */
export async function markNotificationsRead(
  db: SqlQueryable,
  userId: string,
  which: { ids: number[] } | { all: true },
): Promise<number> {
  const rows =
    'all' in which
      ? await db.query(
          `UPDATE notification_deliveries SET read_at = now() WHERE user_id = $1 AND read_at IS NULL
           RETURNING notification_id`,
          [userId],
        )
      : await db.query(
          `UPDATE notification_deliveries SET read_at = now()
           WHERE user_id = $1 AND read_at IS NULL
             AND notification_id IN (SELECT (jsonb_array_elements_text($2::jsonb))::bigint)
           RETURNING notification_id`,
          [userId, JSON.stringify(which.ids)],
        );
  return rows.length;
}

/** The user's channel for every kind (defaults filled in). */
export async function notificationPreferences(
  db: SqlQueryable,
  userId: string,
): Promise<Record<NotificationKind, NotificationChannel>> {
  const rows = await db.query<{ kind: NotificationKind; channel: NotificationChannel }>(
    'SELECT kind, channel FROM notification_preferences WHERE user_id = $1',
    [canonicalUserId(userId)],
  );
  const out = Object.fromEntries(NOTIFICATION_KINDS.map((k) => [k, DEFAULT_CHANNEL])) as Record<
    NotificationKind,
    NotificationChannel
  >;
  for (const r of rows)
    if ((NOTIFICATION_KINDS as readonly string[]).includes(r.kind)) out[r.kind] = r.channel;
  return out;
}

/** Set some kinds' channels (others unchanged). */
export async function setNotificationPreferences(
  sql: SqlClient,
  userId: string,
  prefs: Partial<Record<NotificationKind, NotificationChannel>>,
): Promise<Record<NotificationKind, NotificationChannel>> {
  userId = canonicalUserId(userId);
  for (const [kind, channel] of Object.entries(prefs)) {
    if (!(NOTIFICATION_KINDS as readonly string[]).includes(kind))
      throw new RecordsError('INVALID_INPUT', `unknown notification kind "${kind}"`);
    if (!(NOTIFICATION_CHANNELS as readonly string[]).includes(channel))
      throw new RecordsError('INVALID_INPUT', `unknown notification channel "${channel}"`);
  }
  await sql.transaction(async (tx) => {
    for (const [kind, channel] of Object.entries(prefs))
      await tx.query(
        `INSERT INTO notification_preferences (user_id, kind, channel) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, kind) DO UPDATE SET channel = EXCLUDED.channel`,
        [userId, kind, channel],
      );
  });
  return notificationPreferences(sql, userId);
}

export async function userContact(db: SqlQueryable, userId: string): Promise<UserContact | undefined> {
  const [row] = await db.query<{ email: string | null; language: Language }>(
    'SELECT email, language FROM users WHERE id = $1',
    [canonicalUserId(userId)],
  );
  return row && { ...(row.email ? { email: row.email } : {}), language: row.language };
}

const EMAIL = /^[^\s@<>(),;:"[\]]+@[^\s@<>(),;:"[\]]+\.[^\s@<>(),;:"[\]]+$/;

/**
 * Set a user's e-mail address (`null` removes it) and/or language; audited as `user.contact` in
 * the same transaction (the `users` table is traced).
 */
export async function setUserContact(
  sql: SqlClient,
  userId: string,
  change: { email?: string | null; language?: Language },
  by: string,
): Promise<UserContact> {
  userId = canonicalUserId(userId);
  const email = typeof change.email === 'string' ? change.email.trim() : change.email;
  if (email && (email.length > 254 || !EMAIL.test(email)))
    throw new RecordsError('INVALID_INPUT', `invalid e-mail address ${JSON.stringify(email)}`);
  if (change.language !== undefined && !(LANGUAGES as readonly string[]).includes(change.language))
    throw new RecordsError('INVALID_INPUT', `language must be one of ${LANGUAGES.join(', ')}`);
  return sql.transaction(async (tx) => {
    const before = await userContact(tx, userId);
    if (!before) throw new RecordsError('UNKNOWN_USER', `no user "${userId}"`);
    await tx.query(
      `UPDATE users SET email = CASE WHEN $2::boolean THEN $3 ELSE email END,
                        language = COALESCE($4, language), updated_at = now()
       WHERE id = $1`,
      [userId, email !== undefined, email || null, change.language ?? null],
    );
    const after = (await userContact(tx, userId))!;
    await appendAudit(tx, await lockChainHead(tx), {
      kind: 'admin',
      subject: `user:${userId}`,
      actorId: by,
      at: new Date().toISOString(),
      body: {
        act: 'user.contact',
        user: userId,
        before: { email: before.email ?? null, language: before.language },
        after: { email: after.email ?? null, language: after.language },
      },
    });
    return after;
  });
}
