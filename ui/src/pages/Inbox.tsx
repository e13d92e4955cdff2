/** Inbox: running instances awaiting one of my roles now, overdue first (GET /api/inbox). */
import { useEffect } from 'react';
import { api } from '../api.ts';
import { useApi, useDefinitions, useIRs, roleNames } from '../data.tsx';
import { useI18n } from '../i18n.tsx';
import { Link } from '../router.tsx';
import { Due, Empty, ErrorBox, PageHeader, RoleChips, Since, StateNames } from '../components/common.tsx';
import type { InboxTask } from '../types.ts';

export function InboxPage() {
  const { pick, text } = useI18n();
  const inbox = useApi('inbox', (signal) =>
    api<{ tasks: InboxTask[] }>('GET', '/api/inbox', undefined, { query: { limit: 200 }, signal }),
  );
  // New tasks arrive as others act: look again every 30 s while the page is visible.
  const { reload } = inbox;
  useEffect(() => {
    const t = window.setInterval(() => {
      if (document.visibilityState === 'visible') reload();
    }, 30_000);
    return () => window.clearInterval(t);
  }, [reload]);
  const defs = useDefinitions();
  const tasks = inbox.data?.tasks ?? [];
  const irs = useIRs(tasks.map((t) => t.procedure ?? '').filter(Boolean));
  const names = roleNames(defs);
  const titleOf = (id?: string): string => {
    const d = defs.find((x) => x.id === id);
    return d ? text(d.title) : (id ?? '—');
  };
  const overdue = tasks.filter((t) => t.overdue).length;
  const now = Date.now();

  return (
    <section className="page">
      <PageHeader title={pick({ zh: '收件箱', en: 'Inbox' })}>
        <span className="muted">
          {inbox.data &&
            pick({
              zh: `${tasks.length} 项待办${overdue ? `，其中 ${overdue} 项逾期` : ''}`,
              en: `${tasks.length} task${tasks.length === 1 ? '' : 's'}${overdue ? `, ${overdue} overdue` : ''}`,
            })}
        </span>
        <button type="button" onClick={inbox.reload} disabled={inbox.loading}>
          {pick({ zh: '刷新', en: 'Refresh' })}
        </button>
      </PageHeader>
      <p className="lede">
        {pick({
          zh: '您的角色当前可以处理的事项，逾期的排在最前。',
          en: 'Tasks your roles can act on now; overdue ones first.',
        })}
      </p>
      {inbox.error && <ErrorBox error={inbox.error} />}
      {inbox.data && !tasks.length && (
        <Empty>{pick({ zh: '没有待办事项。', en: 'Nothing is waiting for you.' })}</Empty>
      )}
      {tasks.length > 0 && (
        <div className="table-wrap">
          <table className="grid" aria-label={pick({ zh: '待办事项', en: 'Tasks' })}>
            <thead>
              <tr>
                <th scope="col">{pick({ zh: '流程', en: 'Procedure' })}</th>
                <th scope="col">{pick({ zh: '当前状态', en: 'State' })}</th>
                <th scope="col">{pick({ zh: '客户', en: 'Client' })}</th>
                <th scope="col">{pick({ zh: '等待角色', en: 'Awaiting' })}</th>
                <th scope="col">{pick({ zh: '开始于', en: 'Since' })}</th>
                <th scope="col">{pick({ zh: '期限', en: 'Due' })}</th>
                <th scope="col">
                  <span className="sr-only">{pick({ zh: '操作', en: 'Actions' })}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tasks.map((t) => (
                <tr
                  key={t.workflowId}
                  className={t.overdue ? 'row-overdue' : ''}
                  data-workflow-id={t.workflowId}
                >
                  <td>
                    <div className="cell-title">{titleOf(t.procedure)}</div>
                    <div className="cell-sub mono">{t.workflowId}</div>
                  </td>
                  <td>
                    <StateNames ir={t.procedure ? irs.get(t.procedure) : undefined} states={t.state} />
                  </td>
                  <td>{t.client ?? <span className="muted">—</span>}</td>
                  <td>
                    <RoleChips roles={t.awaiting} mine={t.myRoles} names={names} />
                  </td>
                  <td>
                    <Since at={t.stateSince} now={now} />
                  </td>
                  <td>
                    <Due dueAt={t.dueAt} overdue={t.overdue} now={now} />
                  </td>
                  <td className="cell-action">
                    <Link to={`/instances/${encodeURIComponent(t.workflowId)}`} className="button small">
                      {pick({ zh: '打开', en: 'Open' })}
                      <span className="sr-only"> {t.workflowId}</span>
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
