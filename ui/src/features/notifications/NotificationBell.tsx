/**
 * The bell in the top bar: my unread count, looked up every 30 s while the page is visible, on
 * every navigation, and at once when read marks change on this page.
 */
import { useCallback, useEffect, useState } from 'react';
import { useI18n } from '../../i18n.tsx';
import { Link, useLocation } from '../../router.tsx';
import { loadNotifications, onNotificationsChanged } from './api.ts';
import './notifications.css';

export const POLL_MS = 30_000;

export function NotificationBell() {
  const { pick } = useI18n();
  const { path } = useLocation();
  const [unread, setUnread] = useState<number | undefined>(undefined);
  const refresh = useCallback(() => {
    loadNotifications({ unread: true, limit: 1 }).then(
      (p) => setUnread(p.unread),
      () => undefined, // the next poll tries again; a 401 is the session's business
    );
  }, []);
  useEffect(() => {
    refresh();
    const t = window.setInterval(() => {
      if (document.visibilityState === 'visible') refresh();
    }, POLL_MS);
    const off = onNotificationsChanged(refresh);
    return () => {
      window.clearInterval(t);
      off();
    };
  }, [refresh]);
  useEffect(refresh, [path, refresh]);
  const label =
    unread === undefined || unread === 0
      ? pick({ zh: '通知', en: 'Notifications' })
      : pick({ zh: `通知（${unread} 条未读）`, en: `Notifications (${unread} unread)` });
  return (
    <Link
      to="/notifications"
      className={`bell${path === '/notifications' ? ' active' : ''}`}
      aria-label={label}
      title={label}
      data-unread={unread ?? ''}
    >
      <svg aria-hidden="true" viewBox="0 0 24 24" width="18" height="18">
        <path
          fill="currentColor"
          d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z"
        />
      </svg>
      {unread !== undefined && unread > 0 && (
        <span className="bell-count" aria-hidden="true">
          {unread > 99 ? '99+' : unread}
        </span>
      )}
    </Link>
  );
}
