/** The notification centre's API (`worker/api/routes/notifications.route.ts`) as the UI calls it. */
import { api } from '../../api.ts';
import type {
  NotificationChannel,
  NotificationKind,
  NotificationPage,
  OutboxEntry,
} from '../../../../worker/records/notification-types.ts';

export type {
  NotificationChannel,
  NotificationKind,
  NotificationPage,
  OutboxEntry,
  UserNotification,
} from '../../../../worker/records/notification-types.ts';

/** Told when read marks change here, so the bell need not wait for its next poll. */
const CHANGED = 'custodia:notifications-changed';

export function onNotificationsChanged(fn: () => void): () => void {
  window.addEventListener(CHANGED, fn);
  return () => window.removeEventListener(CHANGED, fn);
}

export function loadNotifications(
  query: { unread?: boolean; before?: number; limit?: number },
  signal?: AbortSignal,
): Promise<NotificationPage> {
  return api<NotificationPage>('GET', '/api/notifications', undefined, {
    query: { unread: query.unread || undefined, before: query.before, limit: query.limit },
    ...(signal ? { signal } : {}),
  });
}

export async function markRead(
  which: { ids: number[] } | { all: true },
): Promise<{ marked: number; unread: number }> {
  const r = await api<{ marked: number; unread: number }>('POST', '/api/notifications/read', which);
  window.dispatchEvent(new Event(CHANGED));
  return r;
}

export interface Preferences {
  preferences: Record<NotificationKind, NotificationChannel>;
  language: 'zh' | 'en';
  email: boolean;
}

export function loadPreferences(signal?: AbortSignal): Promise<Preferences> {
  return api<Preferences>('GET', '/api/me/notification-preferences', undefined, signal ? { signal } : {});
}

export function savePreferences(change: {
  preferences?: Partial<Record<NotificationKind, NotificationChannel>>;
  language?: 'zh' | 'en';
}): Promise<Preferences> {
  return api<Preferences>('PUT', '/api/me/notification-preferences', change);
}

export function loadOutbox(signal?: AbortSignal): Promise<{ entries: OutboxEntry[] }> {
  return api<{ entries: OutboxEntry[] }>(
    'GET',
    '/api/notifications/outbox',
    undefined,
    signal ? { signal } : {},
  );
}
