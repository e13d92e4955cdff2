/**
 * Schema version 3 (notifications that reach people): who was told, who read it, how it goes out.
 *
 * - `users` gain `language` (`zh` default, `en`) and `email` (none by default): the language of
 *   e-mails, and where they go. Both columns are traced by v2's `users_traced` trigger, so setting
 *   them appends an audit record in the same transaction (`notifications.ts`).
 * - `notifications` gain a numeric `id` (what deliveries, the API and the outbox refer to), the
 *   instance's `procedure` and `client` (client isolation is re-checked when read) and a `kind`.
 * - `notification_deliveries`: one row per (notification, user) written in the transition's own
 *   commit (fan-out on write), with the channel chosen then and the read mark.
 * - `notification_preferences`: a channel per (user, kind); absent → e-mail.
 * - `notification_outbox`: e-mails and digest items to send, leased by a sender, retried with
 *   back-off, marked sent after the SMTP server accepted them; `failed` after too many attempts.
 */
import type { SqlQueryable } from './sql.ts';

const V3 = `
ALTER TABLE users ADD COLUMN language text NOT NULL DEFAULT 'zh' CHECK (language IN ('zh', 'en'));
ALTER TABLE users ADD COLUMN email text;
-- Who holds a role (the fan-out's question, inside the transition's commit).
CREATE INDEX users_roles ON users USING gin (roles);

ALTER TABLE notifications ADD COLUMN id bigserial;
ALTER TABLE notifications ADD CONSTRAINT notifications_id_unique UNIQUE (id);
ALTER TABLE notifications ADD COLUMN procedure text;
ALTER TABLE notifications ADD COLUMN client text;
ALTER TABLE notifications ADD COLUMN kind text NOT NULL DEFAULT 'message';

CREATE TABLE notification_deliveries (
  user_id text NOT NULL REFERENCES users (id),
  notification_id bigint NOT NULL REFERENCES notifications (id),
  channel text NOT NULL CHECK (channel IN ('in_app', 'email', 'digest')),
  note text,
  read_at timestamptz,
  PRIMARY KEY (user_id, notification_id)
);
CREATE INDEX notification_deliveries_unread ON notification_deliveries (user_id, notification_id)
  WHERE read_at IS NULL;

CREATE TABLE notification_preferences (
  user_id text NOT NULL REFERENCES users (id),
  kind text NOT NULL,
  channel text NOT NULL CHECK (channel IN ('in_app', 'email', 'digest')),
  PRIMARY KEY (user_id, kind)
);

CREATE TABLE notification_outbox (
  notification_id bigint NOT NULL REFERENCES notifications (id),
  user_id text NOT NULL REFERENCES users (id),
  channel text NOT NULL CHECK (channel IN ('email', 'digest')),
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  due_at timestamptz NOT NULL,
  lease_until timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  last_attempt_at timestamptz,
  last_error text,
  message_id text,
  sent_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (notification_id, user_id)
);
CREATE INDEX notification_outbox_due ON notification_outbox (due_at) WHERE status = 'pending';
CREATE INDEX notification_outbox_unsent ON notification_outbox (status, created_at) WHERE status <> 'sent';
`;

export async function migrateV3(tx: SqlQueryable): Promise<void> {
  await tx.exec(V3);
}
