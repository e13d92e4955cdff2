/**
 * Listing instances through Temporal visibility, using Custodia's search attributes: the
 * query builder, the row shape and the bounded reads shared by the CLI and the API.
 */
import {
  isGrpcServiceError,
  type Client,
  type WorkflowExecutionInfo,
  type WorkflowExecutionStatusName,
} from '@temporalio/client';
import {
  defaultPayloadConverter,
  SearchAttributeType,
  TypedSearchAttributes,
  type Payload,
  type SearchAttributePair,
} from '@temporalio/common';
import { parseDuration } from '../workflows/core/duration.ts';
import type { ProcedureIR } from '../workflows/core/ir.ts';
import { WORKFLOW_TYPE } from '../workflows/api.ts';
import type { InstanceRow } from '../workflows/contract.ts';
import { leafStatePaths } from '../workflows/core/ir-walk.ts';
import { SLA_SINCE_MEMO, slaSinceOfMemo } from '../workflows/core/sla-since.ts';
import {
  CustodiaAssignee,
  CustodiaAwaiting,
  CustodiaClient,
  CustodiaDueAt,
  CustodiaEscalation,
  CustodiaProcedure,
  CustodiaState,
  CustodiaStateSince,
  CustodiaVersion,
  CUSTODIA_KEYS,
} from '../workflows/search-attributes.ts';

export interface ListFilter {
  procedure?: string;
  version?: string;
  state?: string;
  client?: string;
  awaiting?: string;
  /** Running instances past their SLA or idle longer than `idle`. */
  stalled?: boolean;
  /** ISO-8601 duration for `stalled` (default P3D). */
  idle?: string;
  /** Running instances past their SLA at `now`. */
  overdue?: boolean;
  /** Include closed instances (default: running only). */
  all?: boolean;
}

export type { InstanceRow };

/** A value that cannot be put into a visibility query (a quote, backslash or line break). */
export class InvalidQueryValue extends Error {
  override name = 'InvalidQueryValue';
}

/**
 * A value as a visibility query string literal. Values with a quote, a backslash or a line break
 * are refused rather than escaped: no search attribute Custodia writes holds one.
 */
export function quote(value: string): string {
  if (/['\\\n\r]/.test(value))
    throw new InvalidQueryValue(
      `visibility query values may not contain quotes, backslashes or line breaks: ${JSON.stringify(value)}`,
    );
  return `'${value}'`;
}

/**
 * A value compared with a KeywordList attribute (state, awaiting): also no double quote, which
 * SQLite visibility's full-text match would take as syntax (and its frontend retry for ~20 s).
 */
export function quoteListValue(value: string): string {
  if (value.includes('"'))
    throw new InvalidQueryValue(`list values may not contain double quotes: ${JSON.stringify(value)}`);
  return quote(value);
}

/** The visibility query for a filter, at time `now`. */
export function buildListQuery(filter: ListFilter, now = new Date()): string {
  const parts = [`WorkflowType = ${quote(WORKFLOW_TYPE)}`];
  if (!filter.all || filter.stalled || filter.overdue) parts.push(`ExecutionStatus = 'Running'`);
  if (filter.procedure) parts.push(`CustodiaProcedure = ${quote(filter.procedure)}`);
  if (filter.version) parts.push(`CustodiaVersion = ${quote(filter.version)}`);
  if (filter.state) parts.push(`CustodiaState = ${quoteListValue(filter.state)}`);
  if (filter.client) parts.push(`CustodiaClient = ${quote(filter.client)}`);
  if (filter.awaiting) parts.push(`CustodiaAwaiting = ${quoteListValue(filter.awaiting)}`);
  // `OR CustodiaEscalation < 0` matches nothing (levels are ≥ 0); it keeps SQLite visibility from
  // answering a page through the due-time index and sorting every overdue row (1 s at 30,000 running
  // instances; ~50 ms with it: test/bench/scale.ts).
  if (filter.overdue) parts.push(`(CustodiaDueAt < ${quote(now.toISOString())} OR CustodiaEscalation < 0)`);
  if (filter.stalled) {
    const idle = parseDuration(filter.idle ?? 'P3D');
    const since = idle === undefined ? NaN : now.getTime() - idle;
    if (Number.isNaN(new Date(since).getTime()))
      throw new InvalidQueryValue(
        `idle must be an ISO-8601 duration such as P3D or PT12H, of at most a few centuries`,
      );
    const idleSince = new Date(since).toISOString();
    // Escalated (sla: { escalate }) counts as stalled even before the due time.
    parts.push(
      `(CustodiaDueAt < ${quote(now.toISOString())} OR CustodiaStateSince < ${quote(idleSince)} OR CustodiaEscalation > 0)`,
    );
  }
  return parts.join(' AND ');
}

/** What a list row is made of: a visibility entry, decoded by the client or by `listPage`. */
export type RowSource = Pick<WorkflowExecutionInfo, 'workflowId' | 'status' | 'typedSearchAttributes'> &
  Partial<Pick<WorkflowExecutionInfo, 'memo'>>;

/** A list row from a visibility entry (overdue: running and past its SLA at `now`). */
export function instanceRow(info: RowSource, now: Date): InstanceRow {
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
  const assignees = sa.get(CustodiaAssignee);
  if (assignees?.length) row.assignees = assignees;
  const escalation = sa.get(CustodiaEscalation);
  if (escalation) row.escalation = escalation;
  set('slaSince', slaSinceOfMemo(info.memo?.[SLA_SINCE_MEMO]));
  return row;
}

/**
 * Up to `limit` instances matching a visibility `query`, newest first, as rows at `now` (pages of
 * `listPage`, at most `pageSize` rows each, each retried as a view query).
 */
export async function listRows(
  client: Client,
  query: string,
  limit = Infinity,
  now = new Date(),
  pageSize = 1000,
): Promise<InstanceRow[]> {
  const rows: InstanceRow[] = [];
  let token: string | undefined;
  while (rows.length < limit) {
    const page = await listPage(client, query, Math.min(limit, pageSize), token, now);
    rows.push(...page.rows.slice(0, limit - rows.length));
    token = page.nextPageToken;
    if (!token) break;
  }
  return rows;
}

/** How many instances match a visibility `query` (a count query, retried as a view query). */
export async function countOf(client: Client, query: string): Promise<number> {
  return (await viewQuery(() => client.workflow.count(query))).count;
}

/** Up to `limit` instances matching `filter`, newest first. */
export async function listInstances(client: Client, filter: ListFilter, limit = 100): Promise<InstanceRow[]> {
  const now = new Date();
  return listRows(client, buildListQuery(filter, now), limit, now);
}

/** One page of a visibility query, with Temporal's own page token (base64url) for the next. */
export interface InstancePage {
  rows: InstanceRow[];
  nextPageToken?: string;
}

/**
 * One page of up to `pageSize` instances matching `query`, continuing from `pageToken` (from an
 * earlier page). Deep pages cost the same as the first: Temporal's token, not an offset.
 * An invalid token is Temporal's INVALID_ARGUMENT (gRPC code 3).
 */
export async function listPage(
  client: Client,
  query: string,
  pageSize: number,
  pageToken?: string,
  now = new Date(),
): Promise<InstancePage> {
  const nextPageToken = pageToken ? decodePageToken(pageToken) : undefined;
  const res = await viewQuery(() =>
    client.workflowService.listWorkflowExecutions({
      namespace: client.options.namespace,
      query,
      pageSize,
      ...(nextPageToken ? { nextPageToken } : {}),
    }),
  );
  const rows = (res.executions ?? []).map((raw) =>
    instanceRow(
      {
        workflowId: raw.execution?.workflowId ?? '',
        status: { code: raw.status ?? 0, name: STATUS_NAMES[raw.status ?? 0] ?? 'UNKNOWN' },
        typedSearchAttributes: rowAttributes(raw.searchAttributes?.indexedFields),
        memo: slaSinceMemoOf(raw.memo?.fields),
      },
      now,
    ),
  );
  const next = res.nextPageToken?.length ? Buffer.from(res.nextPageToken).toString('base64url') : undefined;
  return { rows, ...(next ? { nextPageToken: next } : {}) };
}

/** The one memo field a row reads (`CustodiaSlaSince`), decoded from a raw visibility entry. */
function slaSinceMemoOf(fields: Record<string, Payload> | null | undefined): Record<string, unknown> {
  const payload = fields?.[SLA_SINCE_MEMO];
  if (!payload) return {};
  try {
    return { [SLA_SINCE_MEMO]: defaultPayloadConverter.fromPayload(payload) };
  } catch {
    return {};
  }
}

/** Execution status names by their visibility code (`temporal.api.enums.v1.WorkflowExecutionStatus`). */
const STATUS_NAMES: readonly WorkflowExecutionStatusName[] = [
  'UNSPECIFIED',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TERMINATED',
  'CONTINUED_AS_NEW',
  'TIMED_OUT',
  'PAUSED',
];

/**
 * The row's search attributes from a raw visibility entry's payloads (JSON, the type known from
 * the key): an older server's one-element array unwrapped for a single-valued attribute, Datetime
 * as a Date; a value of the wrong shape is left out, as the SDK's own decoding does.
 */
function rowAttributes(fields: Record<string, Payload> | null | undefined): TypedSearchAttributes {
  const pairs: SearchAttributePair[] = [];
  for (const key of CUSTODIA_KEYS) {
    const payload = fields?.[key.name];
    if (!payload) continue;
    let value: unknown = defaultPayloadConverter.fromPayload(payload);
    if (key.type === SearchAttributeType.KEYWORD_LIST) {
      if (Array.isArray(value) && value.every((v) => typeof v === 'string'))
        pairs.push({ key, value: value as string[] });
      continue;
    }
    if (Array.isArray(value)) value = value.length === 1 ? value[0] : undefined;
    if (key.type === SearchAttributeType.INT) {
      if (typeof value === 'number' && Number.isInteger(value)) pairs.push({ key, value });
      continue;
    }
    if (typeof value !== 'string') continue;
    if (key.type === SearchAttributeType.KEYWORD) pairs.push({ key, value });
    else if (!Number.isNaN(Date.parse(value))) pairs.push({ key, value: new Date(value) });
  }
  return new TypedSearchAttributes(pairs);
}

/** A page token that is not one Temporal gave out. */
export class BadPageToken extends Error {
  override name = 'BadPageToken';
}

/**
 * Temporal's token bytes from our base64url form. Its visibility stores (SQL and Elasticsearch)
 * encode their page tokens as JSON objects; anything else is refused here — the frontend would
 * answer it with UNKNOWN, which the client retries for many seconds.
 */
export function decodePageToken(token: string): Uint8Array {
  const bytes = Buffer.from(token, 'base64url');
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new BadPageToken('not a page token');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new BadPageToken('not a page token');
  return bytes;
}

/** Every leaf state path of a procedure (what `CustodiaState` holds), in document order. */
export { leafStatePaths };

export interface GroupCount {
  procedure: string;
  state: string;
  count: number;
  /** Of which past their SLA. */
  overdue: number;
  /** Roles that can act (as the engine reports them on the group's instances). */
  awaiting: string[];
}

/** Sorts groups in the definitions' order of leaf states (then by procedure and state name). */
export function groupSorter(procedures: Iterable<ProcedureIR>): (groups: GroupCount[]) => GroupCount[] {
  const order = new Map<string, number>();
  for (const ir of procedures)
    for (const leaf of leafStatePaths(ir)) order.set(`${ir.id}\u0000${leaf}`, order.size);
  return (groups) =>
    groups.sort(
      (a, b) =>
        (order.get(`${a.procedure}\u0000${a.state}`) ?? Infinity) -
          (order.get(`${b.procedure}\u0000${b.state}`) ?? Infinity) ||
        a.procedure.localeCompare(b.procedure) ||
        a.state.localeCompare(b.state),
    );
}

/**
 * Rows counted per procedure and leaf state (an instance in parallel states once per leaf), with
 * how many are overdue and every role any of a group's instances awaits. Unsorted.
 */
export function groupRowsByState(
  rows: Iterable<InstanceRow>,
  isOverdue: (row: InstanceRow) => boolean,
): GroupCount[] {
  const groups = new Map<string, GroupCount & { roles: Set<string> }>();
  for (const row of rows) {
    const overdue = isOverdue(row);
    for (const state of row.state) {
      const key = `${row.procedure ?? ''}\u0000${state}`;
      let g = groups.get(key);
      if (!g)
        groups.set(
          key,
          (g = {
            procedure: row.procedure ?? '',
            state,
            count: 0,
            overdue: 0,
            awaiting: [],
            roles: new Set(),
          }),
        );
      g.count++;
      if (overdue) g.overdue++;
      for (const r of row.awaiting) g.roles.add(r);
    }
  }
  return [...groups.values()].map(({ roles, ...g }) => ({ ...g, awaiting: [...roles].sort() }));
}

/**
 * Exact counts of the instances matching `query`, per procedure and leaf state (and how many are
 * overdue, who is awaited). Up to `listUpTo` (500) matches they are read (pages of 1,000) and counted
 * here — one or two queries. Beyond, visibility count queries per procedure and state, nothing
 * listed, so it holds for any number of instances (plus one row per group for who is awaited);
 * at most `concurrency` queries at a time. An instance in parallel states counts once per leaf.
 */
export async function countByProcedureAndState(
  client: Client,
  query: string,
  procedures: Iterable<ProcedureIR>,
  now = new Date(),
  opts: { concurrency?: number; listUpTo?: number } = {},
): Promise<{ total: number; groups: GroupCount[]; method: 'list' | 'count' }> {
  const limit = pLimit(opts.concurrency ?? 8);
  const count = (q: string): Promise<number> => limit(() => countOf(client, q));
  const total = await count(query);
  const sortGroups = groupSorter(procedures);

  if (total <= (opts.listUpTo ?? 500)) {
    const rows = await listRows(client, query, Infinity, now);
    return { total, groups: sortGroups(groupRowsByState(rows, (row) => row.overdue)), method: 'list' };
  }

  const overdueClause = `CustodiaDueAt < ${quote(now.toISOString())}`;
  const groups = (
    await Promise.all(
      [...procedures].map(async (ir) => {
        const inProc = `${query} AND CustodiaProcedure = ${quote(ir.id)}`;
        if (!(await count(inProc))) return [];
        const perState = await Promise.all(
          leafStatePaths(ir).map(async (state): Promise<GroupCount> => {
            const inState = `${inProc} AND CustodiaState = ${quote(state)}`;
            const n = await count(inState);
            if (!n) return { procedure: ir.id, state, count: 0, overdue: 0, awaiting: [] };
            const [overdue, sample] = await Promise.all([
              count(`${inState} AND ${overdueClause}`),
              limit(() => listPage(client, inState, 1, undefined, now)),
            ]);
            return { procedure: ir.id, state, count: n, overdue, awaiting: sample.rows[0]?.awaiting ?? [] };
          }),
        );
        return perState.filter((g) => g.count > 0);
      }),
    )
  ).flat();
  return { total, groups: sortGroups(groups), method: 'count' };
}

/** Run at most `n` of the given tasks at once. */
function pLimit(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  return async (task) => {
    if (active >= n) await new Promise<void>((r) => queue.push(r));
    active++;
    try {
      return await task();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}

/**
 * The `want` instances matching `query` whose Datetime attribute `attr` is earliest within
 * [`from`, `to`), exactly, reading at most `scan` rows: visibility lists newest-started first and
 * cannot sort by our attributes, so when more than `scan` match, the time window is narrowed by
 * bisection with count queries until it holds between min(want, scan) and scan of them, and only
 * those are read and sorted here. `total`: how many match in the whole window.
 */
export async function earliestBy(
  client: Client,
  query: string,
  attr: 'CustodiaDueAt' | 'CustodiaStateSince',
  from: Date,
  to: Date,
  want: number,
  scan: number,
  now = new Date(),
): Promise<{ rows: InstanceRow[]; total: number }> {
  const within = (a: Date, b: Date): string =>
    `${query} AND ${attr} >= ${quote(a.toISOString())} AND ${attr} < ${quote(b.toISOString())}`;
  const count = (q: string): Promise<number> => countOf(client, q);
  const total = await count(within(from, to));
  let hi = to;
  if (total > scan) {
    const enough = Math.min(want, scan);
    let lo = from;
    for (let i = 0; i < 48 && hi.getTime() - lo.getTime() > 1; i++) {
      const mid = new Date(Math.floor((lo.getTime() + hi.getTime()) / 2));
      const c = await count(within(from, mid));
      if (c < enough) lo = mid;
      else {
        hi = mid;
        if (c <= scan) break;
      }
    }
  }
  const rows = await listRows(client, within(from, hi), scan, now);
  const key = (r: InstanceRow): string => (attr === 'CustodiaDueAt' ? r.dueAt : r.stateSince) ?? '';
  rows.sort((a, b) => key(a).localeCompare(key(b)) || a.workflowId.localeCompare(b.workflowId));
  return { rows: rows.slice(0, want), total };
}

/**
 * Temporal did not answer a read-only view query (a list, a count, an instance's row), even after a
 * few tries: the API answers `503` with `Retry-After` (`worker/api/server.ts`).
 */
export class ViewQueryUnavailable extends Error {
  override name = 'ViewQueryUnavailable';
  /** Seconds after which asking again is sensible. */
  readonly retryAfterS = 5;
}

/**
 * What a failed view query's error means (the error or any cause): `retry` — transient, worth a
 * few quick tries here (a deadline exceeded; "namespace not found", which a dev server under load
 * answered count queries with while its namespace existed); `unavailable` — Temporal out of reach
 * after the SDK's own retries (UNAVAILABLE, RESOURCE_EXHAUSTED): no more tries; undefined — not
 * transient (a bad query, a bad page token, an instance not found): thrown as it is.
 */
export function viewQueryFailure(err: unknown): 'retry' | 'unavailable' | undefined {
  const seen = new Set<unknown>();
  for (let e: unknown = err; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    // The SDK's forms of "namespace not found": with the failure's details, or as NOT_FOUND.
    if (e.name === 'NamespaceNotFoundError') return 'retry';
    if (e.name === 'WorkflowNotFoundError' && NAMESPACE_NOT_FOUND.test(e.message)) return 'retry';
    const grpc: unknown = e;
    if (!isGrpcServiceError(grpc)) continue;
    // DEADLINE_EXCEEDED; NOT_FOUND naming the namespace (not an instance).
    if (grpc.code === 4 || (grpc.code === 5 && NAMESPACE_NOT_FOUND.test(grpc.details))) return 'retry';
    // UNAVAILABLE, RESOURCE_EXHAUSTED: the SDK's connection already retried them.
    if (grpc.code === 14 || grpc.code === 8) return 'unavailable';
  }
  return undefined;
}

/** The server's "Namespace default is not found." (not an instance's "workflow not found…"). */
const NAMESPACE_NOT_FOUND = /namespace\b.*\bnot found/i;

/** The pauses between tries of a view query (ms): four tries within about 1.5 s. */
export const VIEW_QUERY_BACKOFF_MS: readonly number[] = [100, 300, 900];

/**
 * Run a read-only view query: transient failures (`viewQueryFailure`) tried again after each pause
 * of `backoffMs` (with jitter), then `ViewQueryUnavailable`; other failures thrown as they are.
 * Only for reads: a write is never repeated here.
 */
export async function viewQuery<T>(
  read: () => Promise<T>,
  backoffMs: readonly number[] = VIEW_QUERY_BACKOFF_MS,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      const kind = viewQueryFailure(err);
      if (!kind) throw err;
      const pause = backoffMs[attempt];
      if (kind === 'unavailable' || pause === undefined)
        throw new ViewQueryUnavailable(
          `Temporal did not answer a view query (${errorText(err)}) after ${attempt + 1} ${attempt ? 'tries' : 'try'}; try again in a few seconds`,
          { cause: err },
        );
      await new Promise((r) => setTimeout(r, pause * (0.75 + Math.random() / 2)));
    }
  }
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
