/**
 * The managers' views at scale: a copy, in this process, of the visibility rows of every running
 * instance, for the answers that would otherwise scan them all at every request.
 *
 * SQLite visibility answers every count query by reading every matching row (no index on our
 * attributes is used once `ExecutionStatus` and `WorkflowType` are in the query): at 100,000 running
 * instances one count costs a few hundred milliseconds, and the stalled counts and the inbox need
 * several. Above `from` running instances (default 20,000) those views are computed here instead,
 * from a snapshot of the rows (one listing, pages of 1,000) — exact for the clock (an instance's idle
 * time and whether it is overdue are computed at the request's `now`, from its state entry and due
 * times), as old as the snapshot for everything else. Every answer from it says when the snapshot
 * was read (`at`) and its age, and the UI shows them. The snapshot is refreshed in the background
 * when a request finds it older than `maxAgeMs` (default 30 s): the request is answered from the
 * one there is (stale while revalidating), and an idle process reads nothing.
 *
 * Below `from` (as the last live count or snapshot saw it), the views keep their live visibility
 * queries: exact, and cheap at that size. The inbox's tasks are checked live even from the index:
 * the candidates, best first, are read again by id (an indexed lookup) and only those still
 * matching are shown, with their live rows.
 */
import type { Client } from '@temporalio/client';
import type { ProcedureIR } from '../workflows/core/ir.ts';
import type { InboxTab, InboxTask } from './inbox.ts';
import {
  buildListQuery,
  groupRowsByState,
  groupSorter,
  listPage,
  listRows,
  quote,
  type GroupCount,
  type InstanceRow,
} from './visibility.ts';

export interface ViewIndexOptions {
  /** Running instances from which the views use the index (default 20,000). */
  from?: number;
  /** Age from which a request triggers a refresh (default 30 s). */
  maxAgeMs?: number;
  /** Rows per visibility page while reading (default 1,000). */
  pageSize?: number;
}

export interface Snapshot {
  /** When the listing began: every row is at least this recent. */
  at: Date;
  /** Every running instance's row, in inbox order (`inboxOrder`: it does not depend on the clock). */
  rows: readonly InstanceRow[];
  /** Per row (same index): its due time and state entry in ms, NaN when absent — parsed once. */
  dueMs: Float64Array;
  sinceMs: Float64Array;
  /** How long the listing took. */
  tookMs: number;
}

/**
 * A snapshot of `rows` read at `at`: sorted once in inbox order, times parsed once, so that a request
 * at 100,000 rows is a pass over numbers (no date parsing, no sorting per request).
 */
export function snapshotOf(rows: InstanceRow[], at: Date, tookMs: number): Snapshot {
  const sorted = rows.sort(inboxOrder);
  const dueMs = new Float64Array(sorted.length);
  const sinceMs = new Float64Array(sorted.length);
  sorted.forEach((r, i) => {
    dueMs[i] = time(r.dueAt);
    sinceMs[i] = time(r.stateSince);
  });
  return { at, rows: sorted, dueMs, sinceMs, tookMs };
}

/** How an answer computed from a snapshot says how old it is. */
export interface IndexAge {
  method: 'index';
  /** When the snapshot was read (ISO). */
  indexedAt: string;
  /** Its age at the request (ms). */
  ageMs: number;
  /** How long reading it took (ms). */
  indexTookMs: number;
}

export class ViewIndex {
  readonly from: number;
  readonly maxAgeMs: number;
  private readonly pageSize: number;
  private snapshot: Snapshot | undefined;
  private reading: Promise<Snapshot> | undefined;
  /** The last running total seen (live count or snapshot); decides whether to use the index. */
  private lastTotal = 0;

  constructor(
    private readonly client: Client,
    opts: ViewIndexOptions = {},
  ) {
    this.from = opts.from ?? 20_000;
    this.maxAgeMs = opts.maxAgeMs ?? 30_000;
    this.pageSize = opts.pageSize ?? 1000;
  }

  /** A live count of running instances seen by a view: the index is built once it reaches `from`. */
  noteTotal(total: number): void {
    this.lastTotal = total;
    if (total >= this.from && !this.snapshot) void this.refresh().catch(() => undefined);
  }

  /**
   * The snapshot to answer from, or undefined: answer live (fewer than `from` running, or none read
   * yet). Starts a background refresh when the snapshot is older than `maxAgeMs`.
   */
  current(now = Date.now()): Snapshot | undefined {
    const s = this.snapshot;
    if (s && now - s.at.getTime() > this.maxAgeMs) void this.refresh().catch(() => undefined);
    return s && this.lastTotal >= this.from ? s : undefined;
  }

  /** Read every running instance's row (one at a time: a second caller shares the reading). */
  refresh(): Promise<Snapshot> {
    this.reading ??= this.read().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async read(): Promise<Snapshot> {
    const at = new Date();
    const t0 = Date.now();
    const query = buildListQuery({}, at);
    const rows: InstanceRow[] = [];
    let token: string | undefined;
    do {
      // Rows as of the read; `overdue` is recomputed at each request.
      const page = await listPage(this.client, query, this.pageSize, token, at);
      rows.push(...page.rows);
      token = page.nextPageToken;
    } while (token);
    this.snapshot = snapshotOf(rows, at, Date.now() - t0);
    this.lastTotal = rows.length;
    return this.snapshot;
  }
}

/** The age fields of an answer from `snapshot` at `now`. */
export function indexAge(snapshot: Snapshot, now: Date): IndexAge {
  return {
    method: 'index',
    indexedAt: snapshot.at.toISOString(),
    ageMs: Math.max(0, now.getTime() - snapshot.at.getTime()),
    indexTookMs: snapshot.tookMs,
  };
}

const time = (iso: string | undefined): number => (iso ? Date.parse(iso) : NaN);

/**
 * Whether a row is stalled at `now` (the rule of `buildListQuery`'s `stalled`, on a row), from its
 * due time and state entry in ms (NaN when absent: compares false, as SQL's NULL does).
 */
export function isStalled(
  dueMs: number,
  sinceMs: number,
  escalation: number | undefined,
  now: number,
  idleMs: number,
): boolean {
  return dueMs < now || sinceMs < now - idleMs || (escalation ?? 0) > 0;
}

/**
 * The stalled counts per procedure and leaf state at `now` from a snapshot's rows (the shape of
 * `countByProcedureAndState`; who is awaited: every role any of the group's instances awaits).
 */
export function stalledCountsOf(
  snapshot: Pick<Snapshot, 'rows' | 'dueMs' | 'sinceMs'>,
  procedures: Iterable<ProcedureIR>,
  visible: (row: InstanceRow) => boolean,
  now: number,
  idleMs: number,
): { total: number; groups: GroupCount[] } {
  const { rows, dueMs, sinceMs } = snapshot;
  const stalled: InstanceRow[] = [];
  const overdue = new Set<InstanceRow>();
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (isStalled(dueMs[i]!, sinceMs[i]!, row.escalation, now, idleMs) && visible(row)) {
      stalled.push(row);
      if (dueMs[i]! < now) overdue.add(row);
    }
  }
  const groups = groupRowsByState(stalled, (row) => overdue.has(row));
  return { total: stalled.length, groups: groupSorter(procedures)(groups) };
}

/** The inbox's tabs, as a predicate on a row (the rule of `inbox.ts`'s `inboxClause`). */
export function inboxTabOf(
  row: InstanceRow,
  who: { id: string; roles: readonly string[] },
): {
  mine: boolean;
  unassigned: boolean;
} {
  const mine = row.assignees?.includes(who.id) ?? false;
  const unassigned = !row.assignees?.length && row.awaiting.some((r) => who.roles.includes(r));
  return { mine, unassigned };
}

/** The inbox's order: earliest due first (overdue first follows), then undated by state entry. */
export function inboxOrder(a: InstanceRow, b: InstanceRow): number {
  const da = time(a.dueAt);
  const db = time(b.dueAt);
  if (!Number.isNaN(da) || !Number.isNaN(db)) {
    if (Number.isNaN(da)) return 1;
    if (Number.isNaN(db)) return -1;
    if (da !== db) return da - db;
  } else {
    const sa = time(a.stateSince);
    const sb = time(b.stateSince);
    if (sa !== sb) return (Number.isNaN(sa) ? Infinity : sa) - (Number.isNaN(sb) ? Infinity : sb);
  }
  return a.workflowId.localeCompare(b.workflowId);
}

/**
 * The first `limit` rows of `candidates` (in inbox order) that still match the live visibility
 * query `live`, read again by id in batches; their live rows, sorted again in inbox order.
 */
export async function liveFirst(
  client: Client,
  live: string,
  candidates: readonly InstanceRow[],
  limit: number,
  now: Date,
): Promise<InstanceRow[]> {
  const out: InstanceRow[] = [];
  const batch = Math.max(limit + Math.ceil(limit / 4), 20);
  for (let i = 0; i < candidates.length && out.length < limit; i += batch) {
    const ids = candidates.slice(i, i + batch).map((r) => r.workflowId);
    const rows = await listRows(
      client,
      `${live} AND WorkflowId IN (${ids.map(quote).join(', ')})`,
      ids.length,
      now,
    );
    const byId = new Map(rows.map((r) => [r.workflowId, r]));
    for (const id of ids) {
      const r = byId.get(id);
      if (r && out.length < limit) out.push(r);
    }
  }
  return out.sort(inboxOrder);
}

/** The inbox from a snapshot: counts per tab from it, the first tasks checked live (`liveFirst`). */
export async function inboxFromIndex(
  client: Client,
  snapshot: Snapshot,
  q: {
    userId: string;
    roles: readonly string[];
    tab: InboxTab;
    limit: number;
    visible: (row: InstanceRow) => boolean;
    /** The tab's live visibility query (with the user's isolation). */
    live: string;
    now: Date;
  },
): Promise<{ tasks: InboxTask[]; total: number; truncated: boolean; counts: Record<InboxTab, number> }> {
  const who = { id: q.userId, roles: q.roles };
  const counts: Record<InboxTab, number> = { mine: 0, unassigned: 0, all: 0 };
  // The snapshot's rows are in inbox order already: the candidates come out sorted.
  const candidates: InstanceRow[] = [];
  for (const row of snapshot.rows) {
    if (!q.visible(row)) continue;
    const { mine, unassigned } = inboxTabOf(row, who);
    if (mine) counts.mine++;
    if (unassigned) counts.unassigned++;
    if (mine || unassigned) counts.all++;
    if (q.tab === 'mine' ? mine : q.tab === 'unassigned' ? unassigned : mine || unassigned)
      candidates.push(row);
  }
  const rows = await liveFirst(client, q.live, candidates, q.limit, q.now);
  const total = counts[q.tab];
  return {
    tasks: rows.map((r) => ({ ...r, myRoles: r.awaiting.filter((x) => q.roles.includes(x)) })),
    total,
    truncated: total > rows.length,
    counts,
  };
}
