/**
 * Listing instances through Temporal visibility, using Custodia's search attributes: the
 * query builder and the row shape shared by the CLI (and later the API).
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { parseDuration } from '../workflows/core/duration.ts';
import { WORKFLOW_TYPE } from '../workflows/api.ts';
import {
  CustodiaAwaiting,
  CustodiaClient,
  CustodiaDueAt,
  CustodiaProcedure,
  CustodiaState,
  CustodiaStateSince,
  CustodiaVersion,
} from '../workflows/search-attributes.ts';

export interface ListFilter {
  procedure?: string;
  state?: string;
  client?: string;
  awaiting?: string;
  /** Running instances past their SLA or idle longer than `idle`. */
  stalled?: boolean;
  /** ISO-8601 duration for `stalled` (default P3D). */
  idle?: string;
  /** Include closed instances (default: running only). */
  all?: boolean;
}

export interface InstanceRow {
  workflowId: string;
  status: string;
  procedure?: string;
  version?: string;
  client?: string;
  state: string[];
  awaiting: string[];
  stateSince?: string;
  dueAt?: string;
  overdue: boolean;
}

function quote(value: string): string {
  if (/['\\\n]/.test(value)) throw new Error(`filter values may not contain quotes or backslashes: ${value}`);
  return `'${value}'`;
}

/** The visibility query for a filter, at time `now`. */
export function buildListQuery(filter: ListFilter, now = new Date()): string {
  const parts = [`WorkflowType = ${quote(WORKFLOW_TYPE)}`];
  if (!filter.all || filter.stalled) parts.push(`ExecutionStatus = 'Running'`);
  if (filter.procedure) parts.push(`CustodiaProcedure = ${quote(filter.procedure)}`);
  if (filter.state) parts.push(`CustodiaState = ${quote(filter.state)}`);
  if (filter.client) parts.push(`CustodiaClient = ${quote(filter.client)}`);
  if (filter.awaiting) parts.push(`CustodiaAwaiting = ${quote(filter.awaiting)}`);
  if (filter.stalled) {
    const idle = parseDuration(filter.idle ?? 'P3D');
    if (idle === undefined) throw new Error(`--idle must be an ISO-8601 duration such as P3D or PT12H`);
    const idleSince = new Date(now.getTime() - idle).toISOString();
    parts.push(`(CustodiaDueAt < ${quote(now.toISOString())} OR CustodiaStateSince < ${quote(idleSince)})`);
  }
  return parts.join(' AND ');
}

/** A list row from a visibility entry (overdue: running and past its SLA at `now`). */
export function instanceRow(info: WorkflowExecutionInfo, now: Date): InstanceRow {
  const sa = info.typedSearchAttributes;
  const dueAt = sa.get(CustodiaDueAt);
  const row: InstanceRow = {
    workflowId: info.workflowId,
    status: info.status.name,
    state: sa.get(CustodiaState) ?? [],
    awaiting: sa.get(CustodiaAwaiting) ?? [],
    overdue: dueAt !== undefined && dueAt < now && info.status.name === 'RUNNING',
  };
  const set = <K extends keyof InstanceRow>(k: K, v: InstanceRow[K] | undefined): void => {
    if (v !== undefined) row[k] = v;
  };
  set('procedure', sa.get(CustodiaProcedure));
  set('version', sa.get(CustodiaVersion));
  set('client', sa.get(CustodiaClient));
  set('stateSince', sa.get(CustodiaStateSince)?.toISOString());
  set('dueAt', dueAt?.toISOString());
  return row;
}

/** Up to `limit` instances matching `filter`, newest first. */
export async function listInstances(client: Client, filter: ListFilter, limit = 100): Promise<InstanceRow[]> {
  const now = new Date();
  const rows: InstanceRow[] = [];
  for await (const info of client.workflow.list({
    query: buildListQuery(filter, now),
    pageSize: Math.min(limit, 1000),
  })) {
    rows.push(instanceRow(info, now));
    if (rows.length >= limit) break;
  }
  return rows;
}
