/** For admins: e-mails not sent yet — pending, being retried with their last error, or failed. */
import { ErrorBox, Empty } from '../../components/common.tsx';
import { useApi } from '../../data.tsx';
import { useI18n } from '../../i18n.tsx';
import { Link } from '../../router.tsx';
import { loadOutbox } from './api.ts';

export function OutboxSection() {
  const { pick, dateTime } = useI18n();
  const outbox = useApi('notification-outbox', (signal) => loadOutbox(signal));
  const entries = outbox.data?.entries ?? [];
  const status = (s: string, attempts: number): string =>
    s === 'failed'
      ? pick({ zh: '已放弃', en: 'Failed' })
      : attempts > 0
        ? pick({ zh: '重试中', en: 'Retrying' })
        : pick({ zh: '待发送', en: 'Pending' });
  return (
    <section className="card outbox" aria-labelledby="outbox-title">
      <h2 id="outbox-title">{pick({ zh: '邮件发送队列（管理员）', en: 'E-mail outbox (admin)' })}</h2>
      <button type="button" className="small" onClick={outbox.reload} disabled={outbox.loading}>
        {pick({ zh: '刷新', en: 'Refresh' })}
      </button>
      {outbox.error && <ErrorBox error={outbox.error} />}
      {outbox.data && !entries.length && (
        <Empty>{pick({ zh: '所有邮件均已发送。', en: 'Every e-mail has been sent.' })}</Empty>
      )}
      {entries.length > 0 && (
        <div className="table-wrap">
          <table className="grid" aria-label={pick({ zh: '未发送的邮件', en: 'Unsent e-mails' })}>
            <thead>
              <tr>
                <th scope="col">{pick({ zh: '收件人', en: 'Recipient' })}</th>
                <th scope="col">{pick({ zh: '方式', en: 'Channel' })}</th>
                <th scope="col">{pick({ zh: '状态', en: 'Status' })}</th>
                <th scope="col">{pick({ zh: '尝试次数', en: 'Attempts' })}</th>
                <th scope="col">{pick({ zh: '下次尝试', en: 'Next attempt' })}</th>
                <th scope="col">{pick({ zh: '最近错误', en: 'Last error' })}</th>
                <th scope="col">{pick({ zh: '实例', en: 'Instance' })}</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr
                  key={`${e.notificationId}:${e.userId}`}
                  className={e.status === 'failed' ? 'row-overdue' : ''}
                >
                  <td className="mono">{e.userId}</td>
                  <td>
                    {e.channel === 'digest'
                      ? pick({ zh: '每日摘要', en: 'Digest' })
                      : pick({ zh: '邮件', en: 'E-mail' })}
                  </td>
                  <td>{status(e.status, e.attempts)}</td>
                  <td>{e.attempts}</td>
                  <td>{e.status === 'failed' ? '—' : dateTime(e.dueAt)}</td>
                  <td className="mono">{e.lastError ?? '—'}</td>
                  <td>
                    <Link to={`/instances/${encodeURIComponent(e.workflowId)}`} className="mono">
                      {e.workflowId}
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
