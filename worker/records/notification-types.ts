/** The notification centre's and the e-mail outbox's shapes (records store contract, `types.ts`). */

/** What a notification is about; preferences are chosen per kind. `reminder`/`escalation`: issue item 3. */
export const NOTIFICATION_KINDS = ['message', 'reminder', 'escalation'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** How a user is told: in the centre only, an e-mail each, or one e-mail a day. Always in the centre too. */
export const NOTIFICATION_CHANNELS = ['in_app', 'email', 'digest'] as const;
export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];

/** The channel when a user chose none for a kind. */
export const DEFAULT_CHANNEL: NotificationChannel = 'email';

export const LANGUAGES = ['zh', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

/** One notification as its recipient sees it. */
export interface UserNotification {
  /** Numeric id (as a number; ids grow with commit order). */
  id: number;
  workflowId: string;
  procedure?: string;
  client?: string;
  kind: NotificationKind;
  /** The role it was addressed to. */
  to: string;
  message: { zh: string; en: string };
  /** When the transition that sent it happened (ISO-8601). */
  at: string;
  /** When this user marked it read; absent: unread. */
  readAt?: string;
  /** How it reached this user (`in_app` also when the user has no e-mail address: see `note`). */
  channel: NotificationChannel;
  note?: string;
}

export interface NotificationQuery {
  /** Only unread ones. */
  unread?: boolean;
  /** Ids below this one (the cursor of the previous page). */
  before?: number;
  /** Page size (default 50). */
  limit?: number;
}

export interface NotificationPage {
  notifications: UserNotification[];
  /** Unread notifications of this user in all (not only this page). */
  unread: number;
  /** Pass as `before` for the next page; absent on the last. */
  next?: number;
}

/** A user's contact details for notifications. */
export interface UserContact {
  email?: string;
  language: Language;
}

/** One outbox row, as admins see it. */
export interface OutboxEntry {
  notificationId: number;
  userId: string;
  channel: 'email' | 'digest';
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  dueAt: string;
  lastAttemptAt?: string;
  lastError?: string;
  sentAt?: string;
  workflowId: string;
}

/** What the sender claimed: one e-mail (one notification) or one digest (several), for one user. */
export interface OutboxBatchItem {
  userId: string;
  email?: string;
  language: Language;
  channel: 'email' | 'digest';
  /** The digest's due time (ISO) or the notification's; part of the digest's Message-ID. */
  dueAt: string;
  attempts: number;
  notifications: {
    id: number;
    workflowId: string;
    procedure?: string;
    message: { zh: string; en: string };
    at: string;
  }[];
}
