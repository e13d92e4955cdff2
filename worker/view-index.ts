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
 * A refresh reads what changed since the last reading: the instances closed, those started or
 * moved to another state (windows of state entry time), and those the records store's audit log
 * names (`view-index-changes.ts`: an assignment, an escalation, any change that moves no state),
 * read again by id. A write made through this process (an event, an assignment, a bulk act) reads
 * its instance at once (`touch`), so the next answer shows it. Every 10 minutes (`fullEveryMs`) a
 * refresh reads every row again.
 *
 * Below `from` (as the last live count or snapshot saw it), the views keep their live visibility
 * queries: exact, and cheap at that size. The inbox's tasks are checked live even from the index:
 * the candidates, best first, are read again by id (an indexed lookup) and only those still
 * matching are shown, with their live rows.
 */
import type { Client } from '@temporalio/client';
import { WORKFLOW_TYPE } from '../workflows/api.ts';
import { SEARCH_ATTRIBUTES_BURST_MS } from '../workflows/search-attributes.ts';
import type { ProcedureIR } from '../workflows/core/ir.ts';
import type { InboxTab, InboxTask } from './inbox.ts';
import type { RecordsStore } from './records/types.ts';
import {
  ChangeFeed,
  describeRow,
  describeRows,
  FEED_MARGIN_MS,
  type FeedReading,
} from './view-index-changes.ts';
import {
  buildListQuery,
  groupRowsByState,
  groupSorter,
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
  /**
   * Age of the last full reading from which a refresh reads every row again (default 10 minutes).
   * Before, a refresh reads only what changed: instances started, moved to another state or closed
   * since the last reading (`changedSince`), and those with audit records since then
   * (`view-index-changes.ts`: an assignment, an escalation, any change that moves no state).
   */
  fullEveryMs?: number;
  /** How far before the last reading a refresh looks for changes (default `CHANGE_MARGIN_MS`). */
  changeMarginMs?: number;
}

/**
 * How far before the last reading a refresh looks for changes: a visibility row is written after
 * the workflow task that changed it, so a change may show after a reading that began later.
 */
export const CHANGE_MARGIN_MS = 120_000;

/** How long after its search attributes are due a touched row is put over what readings saw. */
const FRESH_MARGIN_MS = 1000;

/**
 * The rows as of a reading. Answers read it synchronously (no `await` while iterating); it changes
 * only through `applyRow` (a write made through this process, `ViewIndex.touch`).
 */
export interface Snapshot {
  /** When the listing began: every row's state, start and close are at least this recent. */
  at: Date;
  /**
   * When every kind of change was last read: `at` when the refresh read the change feed (assignees,
   * escalation levels…), else the last full reading (no records store, or it did not answer).
   */
  fullAt: Date;
  /** When the last reading of every row began (`fullEveryMs` after it, a refresh reads every row). */
  fullReadAt: Date;
  /** Every running instance's row, in inbox order (`inboxOrder`: it does not depend on the clock). */
  rows: InstanceRow[];
  /** Per row (same index): its due time and state entry in ms, NaN when absent — parsed once. */
  dueMs: Float64Array;
  sinceMs: Float64Array;
  /** The rows by workflow id. */
  byId: Map<string, InstanceRow>;
  /** How long the listing took. */
  tookMs: number;
}

/**
 * A snapshot of `rows` read at `at`: sorted once in inbox order, times parsed once, so that a request
 * at 100,000 rows is a pass over numbers (no date parsing, no sorting per request).
 */
export function snapshotOf(
  rows: InstanceRow[],
  at: Date,
  tookMs: number,
  fullAt = at,
  fullReadAt = at,
): Snapshot {
  // Times parsed once per row (a comparator parsing them costs seconds at 100,000).
  const keyed = rows.map(inboxKey).sort(compareInboxKeys);
  const dueMs = Float64Array.from(keyed, (k) => k.due);
  const sinceMs = Float64Array.from(keyed, (k) => k.since);
  const sorted = keyed.map((k) => k.row);
  const byId = new Map(sorted.map((r) => [r.workflowId, r]));
  return { at, fullAt, fullReadAt, rows: sorted, dueMs, sinceMs, byId, tookMs };
}

/**
 * Put an instance's new row into a snapshot (undefined: it is no longer running), keeping the inbox
 * order: found and placed by binary search, the rows between its old and new place shifted by one
 * (one move of memory, no sort): ~10 µs for an assignment, well under a millisecond for a moved row
 * at 100,000 rows (`test/bench/view-index-feed.ts`).
 */
export function applyRow(s: Snapshot, id: string, row: InstanceRow | undefined): void {
  const old = s.byId.get(id);
  const key = row ? inboxKey(row) : undefined;
  const i = old ? lowerBound(s, inboxKey(old)) : -1;
  if (old && s.rows[i] !== old) throw new Error(`view index: row ${id} out of order`);
  if (!key) {
    if (!old) return;
    s.rows.splice(i, 1);
    s.dueMs = removeAt(s.dueMs, i);
    s.sinceMs = removeAt(s.sinceMs, i);
    s.byId.delete(id);
    return;
  }
  s.byId.set(id, key.row);
  const p = lowerBound(s, key);
  if (!old) {
    s.rows.splice(p, 0, key.row);
    s.dueMs = insertAt(s.dueMs, p, key.due);
    s.sinceMs = insertAt(s.sinceMs, p, key.since);
    return;
  }
  // Its place among the others (the old row, at i, not counted), then the rows between shifted.
  const j = p > i ? p - 1 : p;
  for (const a of [s.dueMs, s.sinceMs]) {
    if (j < i) a.copyWithin(j + 1, j, i);
    else if (j > i) a.copyWithin(i, i + 1, j + 1);
  }
  // An array's own copyWithin is element by element (~30 times slower than splice's move here).
  if (j !== i) {
    s.rows.splice(i, 1);
    s.rows.splice(j, 0, key.row);
  } else s.rows[j] = key.row;
  s.dueMs[j] = key.due;
  s.sinceMs[j] = key.since;
}

/** The first index whose row is not before `key` in inbox order. */
function lowerBound(s: Snapshot, key: InboxKey): number {
  let lo = 0;
  let hi = s.rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const at = { row: s.rows[mid]!, due: s.dueMs[mid]!, since: s.sinceMs[mid]! };
    if (compareInboxKeys(at, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function removeAt(a: Float64Array, i: number): Float64Array {
  a.copyWithin(i, i + 1);
  return a.subarray(0, a.length - 1);
}

function insertAt(a: Float64Array, i: number, v: number): Float64Array {
  // Grown with room to spare, so most inserts shift within the buffer there is.
  const room = a.byteOffset === 0 && a.buffer.byteLength >= (a.length + 1) * 8;
  const out = room
    ? new Float64Array(a.buffer, 0, a.length + 1)
    : new Float64Array(new ArrayBuffer((a.length + 1 + (a.length >> 3) + 64) * 8), 0, a.length + 1);
  if (room) out.copyWithin(i + 1, i, a.length);
  else {
    out.set(a.subarray(0, i));
    out.set(a.subarray(i), i + 1);
  }
  out[i] = v;
  return out;
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
  /**
   * When every kind of change was last read (ISO): assignees and escalation levels are as of then.
   * Equal to `indexedAt` while the change feed answers; older only when it did not.
   */
  fullyIndexedAt: string;
  /** When the last reading of every row began (ISO). */
  fullReadingAt: string;
}

export class ViewIndex {
  readonly from: number;
  readonly maxAgeMs: number;
  readonly fullEveryMs: number;
  readonly changeMarginMs: number;
  private readonly pageSize: number;
  private snapshot: Snapshot | undefined;
  private reading: Promise<Snapshot> | undefined;
  /** The last running total seen (live count or snapshot); decides whether to use the index. */
  private lastTotal = 0;
  /** Which instances have records since the last reading (none without a records store). */
  private readonly feed: ChangeFeed | undefined;
  /**
   * Rows read by `touch`, and until when its instance's search attributes may not hold them yet: a
   * reading that began before then puts them over what it read.
   */
  private readonly touched = new Map<string, { row: InstanceRow | undefined; until: number }>();
  /** When the reading that runs began (ms); none: undefined. */
  private readingFrom: number | undefined;

  /**
   * `store`: the records store whose audit log says which instances changed without moving (the
   * change feed); without it such a change waits for the next full reading.
   */
  constructor(
    private readonly client: Client,
    opts: ViewIndexOptions = {},
    store?: Pick<RecordsStore, 'readOnly'>,
  ) {
    this.from = opts.from ?? 20_000;
    this.maxAgeMs = opts.maxAgeMs ?? 30_000;
    this.pageSize = opts.pageSize ?? 1000;
    this.fullEveryMs = opts.fullEveryMs ?? 600_000;
    this.changeMarginMs = opts.changeMarginMs ?? CHANGE_MARGIN_MS;
    this.feed = store ? new ChangeFeed(store, Math.min(this.changeMarginMs, FEED_MARGIN_MS)) : undefined;
  }

  /**
   * An instance changed through this process (an event, an assignment): its row is read again now,
   * so the next answer shows it. Nothing to do before the first reading; a failure is left to the
   * next refresh (the change feed has the instance's record).
   */
  async touch(workflowId: string): Promise<void> {
    if (!this.snapshot) return;
    let row: InstanceRow | undefined;
    try {
      // Its search attributes as they will be: an instance changed again within a second of its
      // last upsert sets them only at its burst window's end (`SEARCH_ATTRIBUTES_BURST_MS`).
      row = await describeRow(this.client, workflowId, new Date(), { current: true });
    } catch {
      return;
    }
    // Readings drop the rows past their time; so does a touch when many are kept (no reading for a
    // while), but none a running reading still needs.
    const now = Date.now();
    const past = Math.min(now, this.readingFrom ?? now);
    if (this.touched.size >= 1000)
      for (const [id, t] of this.touched) if (t.until <= past) this.touched.delete(id);
    this.touched.set(workflowId, { row, until: now + SEARCH_ATTRIBUTES_BURST_MS + FRESH_MARGIN_MS });
    // The snapshot now (a reading may have replaced the one there was); the one being read, at its end.
    if (this.snapshot) {
      applyRow(this.snapshot, workflowId, row);
      this.lastTotal = this.snapshot.rows.length;
    }
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
    const prev = this.snapshot;
    this.readingFrom = t0;
    try {
      const incremental = prev && at.getTime() - prev.fullReadAt.getTime() < this.fullEveryMs;
      // The change feed from where the last reading left it ('full': too much to say).
      const fed = incremental ? await this.fed(prev.at) : 'full';
      let rows: InstanceRow[];
      let fullAt = at;
      let fullReadAt = at;
      let head: number | undefined;
      if (prev && incremental && fed !== 'full') {
        rows = await this.readChanged(prev, fed?.ids, at);
        head = fed?.head;
        if (!fed) fullAt = prev.fullAt;
        fullReadAt = prev.fullReadAt;
      } else {
        head = await this.feed?.head().catch(() => undefined);
        rows = await this.readFull(at);
      }
      const snapshot = snapshotOf(rows, at, Date.now() - t0, fullAt, fullReadAt);
      // Rows touched during the reading, or before it with attributes not yet upserted when it began.
      const now = Date.now();
      for (const [id, { row, until }] of this.touched) {
        if (until > t0) applyRow(snapshot, id, row);
        if (until <= now) this.touched.delete(id);
      }
      this.snapshot = snapshot;
      if (head !== undefined) this.feed?.advance(head);
      this.lastTotal = snapshot.rows.length;
      return snapshot;
    } finally {
      this.readingFrom = undefined;
    }
  }

  /**
   * What the change feed says changed since the reading of `lastAt`: undefined when there is no
   * feed or it did not answer (the refresh goes on without it, and `fullAt` stays as it was).
   */
  private async fed(lastAt: Date): Promise<FeedReading | 'full' | undefined> {
    if (!this.feed) return undefined;
    try {
      return await this.feed.since(lastAt);
    } catch {
      return undefined;
    }
  }

  /**
   * The last reading's rows with what changed since (with a margin) applied: the instances closed,
   * those started or moved to another state (visibility, by state entry), and those the change
   * feed names (`ids`, read by id).
   */
  private async readChanged(
    prev: Snapshot,
    ids: readonly string[] | undefined,
    at: Date,
  ): Promise<InstanceRow[]> {
    const { closed, running } = changedSince(new Date(prev.at.getTime() - this.changeMarginMs), at);
    const byId = new Map(prev.byId);
    // Closed first: a run continued as new closes, and its successor is running.
    for (const r of await this.readAll(closed, at)) byId.delete(r.workflowId);
    for (const r of await this.readAll(running, at)) byId.set(r.workflowId, r);
    // Changed per the records store (an audit record since the last reading, with a margin): each
    // read again from its instance as it holds its row now — also those the state windows saw,
    // whose upserted search attributes may lag by up to a burst window (SEARCH_ATTRIBUTES_BURST_MS).
    const changed = ids ?? [];
    const rows = await describeRows(this.client, changed, at, { current: true });
    changed.forEach((id, k) => {
      const row = rows[k];
      if (row) byId.set(id, row);
      else byId.delete(id);
    });
    return [...byId.values()];
  }

  /**
   * Every running instance's row, read in windows of state entry time (`CustodiaStateSince`), newest
   * first, each window sized to hold about a page. Paging through one query of every row costs more
   * with each page on SQLite visibility (its page token is no range it can seek to: the page after
   * k rows reads those k again), so 100,000 rows read that way cost 100 pages × up to 100,000;
   * a window is an index range (`by_datetime_*`), read for what it holds. An instance with no state
   * entry yet (before its first workflow task) is in none of the views, and not read.
   */
  private async readFull(at: Date): Promise<InstanceRow[]> {
    const base = buildListQuery({}, at);
    const within = (lo: number, hi: number | null): string =>
      `${base} AND CustodiaStateSince >= ${quote(new Date(lo).toISOString())}` +
      (hi === null ? '' : ` AND CustodiaStateSince < ${quote(new Date(hi).toISOString())}`);
    const byId = new Map<string, InstanceRow>();
    const add = (rows: InstanceRow[]): number => {
      for (const r of rows) byId.set(r.workflowId, r);
      return rows.length;
    };
    // Entered at or after the reading began (a transition meanwhile, or a clock ahead), then back
    // in time window by window down to the epoch: a window that held few rows doubles, an empty
    // one quadruples (the years before the first instance pass in a few dozen index look-ups).
    let hi = at.getTime();
    add(await this.readAll(within(hi, null), at));
    let width = 60_000;
    while (hi > 0) {
      const lo = Math.max(0, hi - width);
      const n = add(await this.readAll(within(lo, hi), at));
      hi = lo;
      if (n === 0) width *= 4;
      else if (n > 2 * this.pageSize) width = Math.max(1, Math.floor(width / 2));
      else if (n < this.pageSize / 2) width *= 2;
    }
    return [...byId.values()];
  }

  /** Every row of `query`, pages of `pageSize` (rows as of `at`; `overdue` is recomputed per request). */
  private readAll(query: string, at: Date): Promise<InstanceRow[]> {
    return listRows(this.client, query, Infinity, at, this.pageSize);
  }
}

/**
 * The visibility queries of a refresh: instances closed since `since`, and running instances
 * started or moved to another state since then (the first workflow task and every transition set
 * `CustodiaStateSince`).
 */
export function changedSince(since: Date, now: Date): { closed: string; running: string } {
  const t = quote(since.toISOString());
  return {
    closed: `WorkflowType = ${quote(WORKFLOW_TYPE)} AND ExecutionStatus != 'Running' AND CloseTime >= ${t}`,
    // A start sets the state entry too (its first workflow task); an index range, no scan.
    running: `${buildListQuery({}, now)} AND CustodiaStateSince >= ${t}`,
  };
}

/** The age fields of an answer from `snapshot` at `now`. */
export function indexAge(snapshot: Snapshot, now: Date): IndexAge {
  return {
    method: 'index',
    indexedAt: snapshot.at.toISOString(),
    ageMs: Math.max(0, now.getTime() - snapshot.at.getTime()),
    indexTookMs: snapshot.tookMs,
    fullyIndexedAt: snapshot.fullAt.toISOString(),
    fullReadingAt: snapshot.fullReadAt.toISOString(),
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

/** What the inbox's order compares: a row's due time and state entry in ms (NaN when absent). */
interface InboxKey {
  row: InstanceRow;
  due: number;
  since: number;
}

const inboxKey = (row: InstanceRow): InboxKey => ({ row, due: time(row.dueAt), since: time(row.stateSince) });

/** The inbox's order on parsed keys (`inboxOrder`; the snapshot sorts with it once). */
function compareInboxKeys(a: InboxKey, b: InboxKey): number {
  if (!Number.isNaN(a.due) || !Number.isNaN(b.due)) {
    if (Number.isNaN(a.due)) return 1;
    if (Number.isNaN(b.due)) return -1;
    if (a.due !== b.due) return a.due - b.due;
  } else if (a.since !== b.since)
    return (Number.isNaN(a.since) ? Infinity : a.since) - (Number.isNaN(b.since) ? Infinity : b.since);
  return a.row.workflowId.localeCompare(b.row.workflowId);
}

/** The inbox's order: earliest due first (overdue first follows), then undated by state entry. */
export function inboxOrder(a: InstanceRow, b: InstanceRow): number {
  return compareInboxKeys(inboxKey(a), inboxKey(b));
}

/**
 * The first `limit` rows of `candidates` (in inbox order) that still `match`, each read again from
 * its instance (`describe`: the instance's own search attributes, one indexed lookup each — a
 * visibility query by id reads every row on SQLite); their live rows, sorted again in inbox order.
 */
export async function liveFirst(
  client: Client,
  match: (row: InstanceRow) => boolean,
  candidates: readonly InstanceRow[],
  limit: number,
  now: Date,
  concurrency = 32,
): Promise<InstanceRow[]> {
  const out: InstanceRow[] = [];
  // The first `limit` (most still match); then as many more as are missing.
  let batch = Math.max(limit, 1);
  for (let i = 0; i < candidates.length && out.length < limit; i += batch) {
    batch = i === 0 ? batch : Math.max(limit - out.length + Math.ceil(limit / 4), 20);
    const ids = candidates.slice(i, i + batch).map((r) => r.workflowId);
    const rows = await describeRows(client, ids, now, {}, concurrency);
    for (const r of rows) if (r && match(r) && out.length < limit) out.push(r);
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
    now: Date;
  },
): Promise<{ tasks: InboxTask[]; total: number; truncated: boolean; counts: Record<InboxTab, number> }> {
  const who = { id: q.userId, roles: q.roles };
  const counts: Record<InboxTab, number> = { mine: 0, unassigned: 0, all: 0 };
  // The snapshot's rows are in inbox order already: the candidates come out sorted.
  const candidates: InstanceRow[] = [];
  const inTab = (t: { mine: boolean; unassigned: boolean }): boolean =>
    q.tab === 'mine' ? t.mine : q.tab === 'unassigned' ? t.unassigned : t.mine || t.unassigned;
  for (const row of snapshot.rows) {
    if (!q.visible(row)) continue;
    const { mine, unassigned } = inboxTabOf(row, who);
    if (mine) counts.mine++;
    if (unassigned) counts.unassigned++;
    if (mine || unassigned) counts.all++;
    if (inTab({ mine, unassigned })) candidates.push(row);
  }
  const rows = await liveFirst(
    client,
    (row) => inTab(inboxTabOf(row, who)) && q.visible(row),
    candidates,
    q.limit,
    q.now,
  );
  const total = counts[q.tab];
  return {
    tasks: rows.map((r) => ({ ...r, myRoles: r.awaiting.filter((x) => q.roles.includes(x)) })),
    total,
    truncated: total > rows.length,
    counts,
  };
}
