/** The instance page's "notifications sent": what the instance told whom (`GET /api/instances/{id}/notifications`). */
import { useEffect, useState } from 'react';
import type { Text } from '../../../../workflows/core/ir.ts';
import { api } from '../../api.ts';
import { useI18n } from '../../i18n.tsx';

interface SentNotification {
  id: number;
  seq: number;
  at: string;
  to: string;
  message: { zh: string; en: string };
  deliveries: { userId: string; channel: 'in_app' | 'email' | 'digest'; status?: string; read: boolean }[];
}

const CHANNEL: Record<SentNotification['deliveries'][number]['channel'], { zh: string; en: string }> = {
  in_app: { zh: '站内', en: 'in app' },
  email: { zh: '邮件', en: 'e-mail' },
  digest: { zh: '每日摘要', en: 'daily digest' },
};

const STATUS: Record<string, { zh: string; en: string }> = {
  pending: { zh: '待发送', en: 'pending' },
  sent: { zh: '已发送', en: 'sent' },
  failed: { zh: '发送失败', en: 'failed' },
};

export function SentNotifications({
  workflowId,
  names,
  refresh,
}: {
  workflowId: string;
  names?: Map<string, Text> | Record<string, Text>;
  /** Changes when the instance changed (reload then). */
  refresh?: unknown;
}) {
  const { pick, text, dateTime } = useI18n();
  const [list, setList] = useState<SentNotification[] | undefined>();
  useEffect(() => {
    let live = true;
    api<{ notifications: SentNotification[] }>(
      'GET',
      `/api/instances/${encodeURIComponent(workflowId)}/notifications`,
    ).then(
      (r) => live && setList(r.notifications),
      () => live && setList([]),
    );
    return () => {
      live = false;
    };
  }, [workflowId, refresh]);
  const roleName = (r: string): string => {
    const t = names instanceof Map ? names.get(r) : names?.[r];
    return t ? text(t) : r;
  };
  return (
    <section className="panel" aria-label={pick({ zh: '已发通知', en: 'Notifications sent' })}>
      <h2>{pick({ zh: '已发通知', en: 'Notifications sent' })}</h2>
      {!list?.length ? (
        <p className="muted">{pick({ zh: '尚未发出通知。', en: 'No notifications sent yet.' })}</p>
      ) : (
        <table className="grid sent-notifications">
          <thead>
            <tr>
              <th scope="col">{pick({ zh: '时间', en: 'When' })}</th>
              <th scope="col">{pick({ zh: '发给', en: 'To' })}</th>
              <th scope="col">{pick({ zh: '内容', en: 'Message' })}</th>
              <th scope="col">{pick({ zh: '送达', en: 'Delivered to' })}</th>
            </tr>
          </thead>
          <tbody>
            {list.map((n) => (
              <tr key={n.id} data-notification-id={n.id}>
                <td className="nowrap">{dateTime(n.at)}</td>
                <td>{roleName(n.to)}</td>
                <td>{pick(n.message)}</td>
                <td>
                  {n.deliveries.length ? (
                    n.deliveries.map((d) => (
                      <span key={d.userId} className="chip" data-user={d.userId}>
                        {d.userId} · {pick(CHANNEL[d.channel])}
                        {d.status ? ` · ${pick(STATUS[d.status] ?? { zh: d.status, en: d.status })}` : ''}
                      </span>
                    ))
                  ) : (
                    <span className="muted">
                      {pick({ zh: '无人持有此角色', en: 'nobody holds the role' })}
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
