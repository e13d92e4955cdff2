/**
 * My notifications (`/notifications`): newest first, each in my language and linked to its
 * instance; unread only or all; more by cursor; mark one or all read. Below: how I am told (per
 * kind) and, for admins, the e-mails not sent yet.
 */
import { useCallback, useEffect, useState } from 'react';
import { asApiError, type ApiError } from '../../api.ts';
import { ErrorBox, Empty, PageHeader } from '../../components/common.tsx';
import { useDefinitions } from '../../data.tsx';
import { useI18n } from '../../i18n.tsx';
import { Link } from '../../router.tsx';
import { loadNotifications, markRead, type UserNotification } from './api.ts';
import { OutboxSection } from './OutboxSection.tsx';
import { PreferencesSection } from './PreferencesSection.tsx';

const PAGE = 50;

export function NotificationsPage({ isAdmin }: { isAdmin: boolean }) {
  const { pick, text, dateTime } = useI18n();
  const defs = useDefinitions();
  const [unreadOnly, setUnreadOnly] = useState(false);
  const [items, setItems] = useState<UserNotification[]>([]);
  const [next, setNext] = useState<number | undefined>(undefined);
  const [unread, setUnread] = useState(0);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);

  const load = useCallback(
    async (before?: number) => {
      try {
        const page = await loadNotifications({
          unread: unreadOnly,
          limit: PAGE,
          ...(before ? { before } : {}),
        });
        setItems((old) => (before ? [...old, ...page.notifications] : page.notifications));
        setNext(page.next);
        setUnread(page.unread);
        setError(undefined);
      } catch (err) {
        setError(asApiError(err));
      } finally {
        setLoaded(true);
      }
    },
    [unreadOnly],
  );
  useEffect(() => {
    void load();
  }, [load]);

  const mark = async (which: { ids: number[] } | { all: true }): Promise<void> => {
    try {
      const r = await markRead(which);
      const now = new Date().toISOString();
      const read = 'all' in which ? undefined : new Set(which.ids);
      setItems((old) =>
        unreadOnly
          ? old.filter((n) => read && !read.has(n.id))
          : old.map((n) => (!n.readAt && (!read || read.has(n.id)) ? { ...n, readAt: now } : n)),
      );
      setUnread(r.unread);
    } catch (err) {
      setError(asApiError(err));
    }
  };
  const titleOf = (id?: string): string => {
    const d = defs.find((x) => x.id === id);
    return d ? text(d.title) : (id ?? '');
  };

  return (
    <section className="page notifications-page">
      <PageHeader title={pick({ zh: '通知', en: 'Notifications' })}>
        <span className="muted" data-testid="unread-count">
          {pick({ zh: `${unread} 条未读`, en: `${unread} unread` })}
        </span>
        <label className="inline-check">
          <input type="checkbox" checked={unreadOnly} onChange={(e) => setUnreadOnly(e.target.checked)} />{' '}
          {pick({ zh: '只看未读', en: 'Unread only' })}
        </label>
        <button type="button" onClick={() => void mark({ all: true })} disabled={unread === 0}>
          {pick({ zh: '全部标为已读', en: 'Mark all read' })}
        </button>
      </PageHeader>
      {error && <ErrorBox error={error} />}
      {loaded && !items.length && !error && (
        <Empty>{pick({ zh: '没有通知。', en: 'No notifications.' })}</Empty>
      )}
      {items.length > 0 && (
        <ul className="notification-list" aria-label={pick({ zh: '通知列表', en: 'Notifications' })}>
          {items.map((n) => (
            <li key={n.id} className={n.readAt ? 'notification read' : 'notification unread'} data-id={n.id}>
              <div className="notification-main">
                <p className="notification-message">{text(n.message)}</p>
                <div className="notification-meta muted">
                  <time dateTime={n.at}>{dateTime(n.at)}</time>
                  {' · '}
                  <Link
                    to={`/instances/${encodeURIComponent(n.workflowId)}`}
                    onClick={() => {
                      if (!n.readAt) void mark({ ids: [n.id] });
                    }}
                  >
                    {n.procedure ? titleOf(n.procedure) : pick({ zh: '实例', en: 'Instance' })}{' '}
                    <span className="mono">{n.workflowId}</span>
                  </Link>
                  {n.client && <> · {n.client}</>}
                  {n.note === 'no_email' && (
                    <>
                      {' · '}
                      {pick({ zh: '仅站内（无邮箱）', en: 'in-app only (no e-mail address)' })}
                    </>
                  )}
                </div>
              </div>
              {!n.readAt && (
                <button type="button" className="small" onClick={() => void mark({ ids: [n.id] })}>
                  {pick({ zh: '标为已读', en: 'Mark read' })}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {next !== undefined && (
        <button type="button" onClick={() => void load(next)}>
          {pick({ zh: '加载更多', en: 'Load more' })}
        </button>
      )}
      <PreferencesSection />
      {isAdmin && <OutboxSection />}
    </section>
  );
}
