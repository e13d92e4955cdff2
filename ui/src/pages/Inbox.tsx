/**
 * Inbox: my tasks, overdue first (GET /api/inbox), in three tabs with their counts — assigned to
 * me, my roles but unassigned (claim one here), everything I can act on.
 */
import { useEffect, useState } from 'react';
import { api, asApiError, type ApiError } from '../api.ts';
import { postAssignment } from '../features/assignment/AssignmentPanel.tsx';
import { UserName, useUserNames } from '../features/users/names.tsx';
import { useUser } from '../session.tsx';
import { useApi, useDefinitions, useIRs, roleNames } from '../data.tsx';
import { useI18n } from '../i18n.tsx';
import { IndexAgeNote, type IndexAge } from '../features/view-index/IndexAge.tsx';
import { Link, navigate } from '../router.tsx';
import { Due, Empty, ErrorBox, PageHeader, RoleChips, Since, StateNames } from '../components/common.tsx';
import type { InboxTask } from '../types.ts';

type Tab = 'mine' | 'unassigned' | 'all';

const TABS: { id: Tab; label: { zh: string; en: string } }[] = [
  { id: 'mine', label: { zh: '分派给我', en: 'Assigned to me' } },
  { id: 'unassigned', label: { zh: '我的角色 — 未分派', en: 'My roles — unassigned' } },
  { id: 'all', label: { zh: '我可处理的全部', en: 'All I can act on' } },
];

export function InboxPage() {
  const { pick, text } = useI18n();
  const user = useUser();
  const people = useUserNames();
  const [tab, setTab] = useState<Tab>('all');
  const [claimError, setClaimError] = useState<ApiError | undefined>();
  const inbox = useApi(`inbox:${tab}`, (signal) =>
    api<{ tasks: InboxTask[]; counts?: Record<Tab, number> } & IndexAge>('GET', '/api/inbox', undefined, {
      query: { limit: 200, tab },
      signal,
    }),
  );
  const claim = async (workflowId: string): Promise<void> => {
    setClaimError(undefined);
    try {
      await postAssignment(workflowId, { assignee: user.id });
      navigate(`/instances/${encodeURIComponent(workflowId)}`);
    } catch (err) {
      setClaimError(asApiError(err));
      inbox.reload();
    }
  };
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
          zh: '分派给您的和您的角色可以认领的事项，逾期的排在最前。',
          en: 'Tasks assigned to you and those your roles can claim; overdue ones first.',
        })}
      </p>
      <div className="tabs" role="tablist" aria-label={pick({ zh: '收件箱分类', en: 'Inbox tabs' })}>
        {TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            aria-selected={tab === t.id}
            data-tab={t.id}
            className={tab === t.id ? 'tab tab-active' : 'tab'}
            onClick={() => setTab(t.id)}
          >
            {pick(t.label)} <span className="count">{inbox.data?.counts?.[t.id] ?? '…'}</span>
          </button>
        ))}
        <IndexAgeNote age={inbox.data} />
      </div>
      {inbox.error && <ErrorBox error={inbox.error} />}
      {claimError && <ErrorBox error={claimError} title={pick({ zh: '认领失败', en: 'Could not claim' })} />}
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
                <th scope="col">{pick({ zh: '处理人', en: 'Assignee' })}</th>
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
                    {t.assignees?.length ? (
                      t.assignees.map((a) => <UserName key={a} id={a} names={people} />)
                    ) : (
                      <span className="muted">{pick({ zh: '未分派', en: 'Unassigned' })}</span>
                    )}
                  </td>
                  <td>
                    <Since at={t.stateSince} now={now} />
                  </td>
                  <td>
                    <Due dueAt={t.dueAt} overdue={t.overdue} now={now} />
                  </td>
                  <td className="cell-action">
                    {!t.assignees?.length && t.myRoles.length > 0 && (
                      <button type="button" className="small" onClick={() => void claim(t.workflowId)}>
                        {pick({ zh: '认领', en: 'Claim' })}
                        <span className="sr-only"> {t.workflowId}</span>
                      </button>
                    )}{' '}
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
