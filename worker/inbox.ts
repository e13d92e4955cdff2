/**
 * The inbox: running instances awaiting one of a person's roles, most overdue first, then the
 * earliest deadline, then those without one (longest waiting first) — exact for any number of
 * tasks, reading at most `scan` rows per window (see `earliestBy`).
 */
import type { Client } from '@temporalio/client';
import { WORKFLOW_TYPE } from '../workflows/api.ts';
import { earliestBy, quote, quoteListValue, type InstanceRow } from './visibility.ts';

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

export interface InboxQuery {
  /** The person's roles (at least one). */
  roles: readonly string[];
  /** A visibility clause the tasks must also match (e.g. the person's client isolation). */
  within?: string;
  limit: number;
  /** Rows read per time window before sorting (bounds the cost of one request). */
  scan: number;
  now?: Date;
}

/** The first `limit` tasks of the inbox of someone with `roles`, and how many there are. */
export async function inboxOf(client: Client, q: InboxQuery): Promise<Inbox> {
  const parts = [
    `WorkflowType = ${quote(WORKFLOW_TYPE)}`,
    `ExecutionStatus = 'Running'`,
    `CustodiaAwaiting IN (${q.roles.map(quoteListValue).join(', ')})`,
  ];
  if (q.within) parts.push(q.within);
  const base = parts.join(' AND ');
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
  const total = (await client.workflow.count(base)).count;
  return {
    tasks: rows.map((r) => ({ ...r, myRoles: r.awaiting.filter((x) => q.roles.includes(x)) })),
    total,
    truncated: total > rows.length,
  };
}
