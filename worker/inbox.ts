/**
 * The inbox: running instances with work for a person, most overdue first, then the earliest
 * deadline, then those without one (longest waiting first) — exact for any number of tasks,
 * reading at most `scan` rows per window (see `earliestBy`).
 *
 * Three tabs (`InboxTab`), from the search attributes `CustodiaAssignee` and `CustodiaAwaiting`:
 * *mine* — a task is assigned to me; *unassigned* — it awaits one of my roles and nobody holds it;
 * *all* — either (everything I can act on). An instance in parallel states counts by the instance:
 * one whose one region is held by someone else and whose other waits unassigned for my role shows
 * under neither (visibility keeps one assignee list per instance); the instance page shows both.
 */
import type { Client } from '@temporalio/client';
import { WORKFLOW_TYPE } from '../workflows/api.ts';
import { NOTHING } from './access.ts';
import { countOf, earliestBy, quote, quoteListValue, type InstanceRow } from './visibility.ts';

/** A task: an instance row and which of the person's roles it awaits. */
export interface InboxTask extends InstanceRow {
  myRoles: string[];
}

export interface Inbox {
  tasks: InboxTask[];
  /** How many tasks there are in all. */
  total: number;
  /** More tasks than shown. */
  truncated: boolean;
}

/** The inbox's tabs. */
export const INBOX_TABS = ['mine', 'unassigned', 'all'] as const;
export type InboxTab = (typeof INBOX_TABS)[number];

/** The visibility clause of a tab for a person (their id and roles). */
export function inboxClause(tab: InboxTab, who: { id: string; roles: readonly string[] }): string {
  const mine = `CustodiaAssignee = ${quoteListValue(who.id)}`;
  const free = who.roles.length
    ? `(CustodiaAwaiting IN (${who.roles.map(quoteListValue).join(', ')}) AND CustodiaAssignee IS NULL)`
    : undefined;
  switch (tab) {
    case 'mine':
      return mine;
    case 'unassigned':
      return free ?? NOTHING;
    case 'all':
      return free ? `(${mine} OR ${free})` : mine;
  }
}

export interface InboxQuery {
  /** The person. */
  userId: string;
  /** The person's roles. */
  roles: readonly string[];
  /** Which tab (default `all`). */
  tab?: InboxTab;
  /** A visibility clause the tasks must also match (e.g. the person's client isolation). */
  within?: string;
  limit: number;
  /** Rows read per time window before sorting (bounds the cost of one request). */
  scan: number;
  now?: Date;
}

/** The first `limit` tasks of the inbox of someone with `roles`, and how many there are. */
export async function inboxOf(client: Client, q: InboxQuery): Promise<Inbox> {
  const base = inboxQuery(q, q.tab ?? 'all');
  const { limit, scan } = q;
  const now = q.now ?? new Date();
  const epoch = new Date(0);
  const farFuture = new Date(now.getTime() + 100 * 365 * 86_400_000);
  // Overdue, then due later, then undated: each window only while the one before was read whole.
  const overdue = await earliestBy(client, base, 'CustodiaDueAt', epoch, now, limit, scan, now);
  const rows = [...overdue.rows];
  let complete = overdue.rows.length === overdue.total;
  if (complete && rows.length < limit) {
    const due = await earliestBy(
      client,
      base,
      'CustodiaDueAt',
      now,
      farFuture,
      limit - rows.length,
      scan,
      now,
    );
    rows.push(...due.rows);
    complete = due.rows.length === due.total;
  }
  if (complete && rows.length < limit) {
    const undated = await earliestBy(
      client,
      `${base} AND CustodiaDueAt IS NULL`,
      'CustodiaStateSince',
      epoch,
      farFuture,
      limit - rows.length,
      scan,
      now,
    );
    rows.push(...undated.rows);
  }
  const total = await countOf(client, base);
  return {
    tasks: rows.map((r) => ({ ...r, myRoles: r.awaiting.filter((x) => q.roles.includes(x)) })),
    total,
    truncated: total > rows.length,
  };
}

/** The whole visibility query of a tab. */
export function inboxQuery(q: Pick<InboxQuery, 'userId' | 'roles' | 'within'>, tab: InboxTab): string {
  const parts = [
    `WorkflowType = ${quote(WORKFLOW_TYPE)}`,
    `ExecutionStatus = 'Running'`,
    inboxClause(tab, { id: q.userId, roles: q.roles }),
  ];
  if (q.within) parts.push(q.within);
  return parts.join(' AND ');
}

/** How many tasks each tab holds (three count queries). */
export async function inboxCounts(
  client: Client,
  q: Pick<InboxQuery, 'userId' | 'roles' | 'within'>,
): Promise<Record<InboxTab, number>> {
  const counts = await Promise.all(INBOX_TABS.map((tab) => countOf(client, inboxQuery(q, tab))));
  return Object.fromEntries(INBOX_TABS.map((t, i) => [t, counts[i] ?? 0])) as Record<InboxTab, number>;
}
