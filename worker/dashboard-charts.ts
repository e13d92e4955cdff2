/**
 * The dashboard's charts, computed from instances' transition histories (`dashboard-index.ts`) and
 * what the definitions say about their states ({@link DashboardModel}). Pure: data in, figures out.
 *
 * Definitions used throughout:
 * - an instance is **open** when its last transition's states hold no top-level final state;
 * - a state with an `sla` is **due** `sla` after it was entered, where "entered" is the first of an
 *   unbroken run of transitions whose states include it or a state inside it (a self-transition that
 *   re-enters it is not told apart in the record, so it does not restart the clock — the workflow's
 *   own `CustodiaDueAt` does); an instance's due time is the earliest due time of its active SLA
 *   states, as for `CustodiaDueAt`;
 * - an instance is **overdue** at T when T is past that due time and no transition happened between;
 *   a day's figure is the instances overdue at its last instant (UTC; for today: now);
 * - an **SLA breach** is one such run of a state left (or still active now) after its due time,
 *   counted in the month (UTC) of the due time;
 * - **cycle time** runs from the start record (seq 0) to the transition into a final state;
 * - a person's **workload** is the transitions they made in the period (timers and the engine's
 *   eventless steps are not people).
 */
import type { InstanceHistory } from './dashboard-index.ts';

/** What the definitions say about the states of each procedure@version (`procedure@version` keys). */
export interface DashboardModel {
  /** SLA (ms) of each state that has one (working-day SLAs have no fixed length: left out). */
  sla: Map<string, Map<string, number>>;
  /** Top-level final states: an instance whose states include one has ended. */
  finals: Map<string, Set<string>>;
  /** Roles that can act in each leaf state (its and its ancestors' transitions). */
  awaits: Map<string, Map<string, readonly string[]>>;
}

/** Whose instances count. */
export interface DashboardScope {
  /** Only instances of these clients; undefined: every instance (the roles that see every client). */
  clients?: readonly string[];
  /** With `clients`: also instances without a client of these procedures (admins, clientless work). */
  clientless?: readonly string[];
  client?: string;
  procedure?: string;
}

/** A period [from, to) and the time the dashboard is computed at. */
export interface DashboardPeriod {
  from: Date;
  to: Date;
  now: Date;
}

/** Actors that are the engine, not people: timers and eventless transitions. */
export const ENGINE_ACTORS: ReadonlySet<string> = new Set(['timer', 'system']);

export interface OpenStateCount {
  procedure: string;
  state: string;
  count: number;
}
export interface OverduePoint {
  /** YYYY-MM-DD (UTC). */
  day: string;
  count: number;
}
export interface CycleTime {
  procedure: string;
  count: number;
  medianMs: number;
  p90Ms: number;
}
export interface BreachCount {
  /** YYYY-MM (UTC). */
  month: string;
  procedure: string;
  count: number;
}
export interface RoleWorkload {
  role: string;
  count: number;
}
export interface PersonWorkload {
  actor: string;
  transitions: number;
  instances: number;
}

const DAY = 86_400_000;
const keyOf = (i: InstanceHistory): string => `${i.procedure}@${i.version}`;

/** The instances in `scope`. */
export function* inScope(all: Iterable<InstanceHistory>, scope: DashboardScope): Generator<InstanceHistory> {
  const clients = scope.clients && new Set(scope.clients);
  const clientless = new Set(scope.clientless ?? []);
  for (const i of all) {
    if (scope.procedure !== undefined && i.procedure !== scope.procedure) continue;
    if (scope.client !== undefined && i.client !== scope.client) continue;
    if (clients && !(i.client !== undefined ? clients.has(i.client) : clientless.has(i.procedure))) continue;
    yield i;
  }
}

/** Whether the instance has ended (its last states include a top-level final state). */
export function ended(i: InstanceHistory, model: DashboardModel): boolean {
  const finals = model.finals.get(keyOf(i));
  return finals !== undefined && (i.steps.at(-1)?.leaves.some((l) => finals.has(l)) ?? false);
}

const sortBy = <T>(xs: T[], ...keys: ((x: T) => string | number)[]): T[] =>
  xs.sort((a, b) => {
    for (const k of keys) {
      const x = k(a);
      const y = k(b);
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  });

/** Open instances per procedure and active leaf state (an instance in parallel states counts in each). */
export function openByState(instances: Iterable<InstanceHistory>, model: DashboardModel): OpenStateCount[] {
  const counts = new Map<string, OpenStateCount>();
  for (const i of instances) {
    if (ended(i, model)) continue;
    for (const state of i.steps.at(-1)?.leaves ?? []) {
      const k = `${i.procedure}\n${state}`;
      const c = counts.get(k) ?? { procedure: i.procedure, state, count: 0 };
      c.count++;
      counts.set(k, c);
    }
  }
  return sortBy(
    [...counts.values()],
    (c) => c.procedure,
    (c) => c.state,
  );
}

/** Open instances awaiting each role (the definitions' transitions out of their states), most first. */
export function awaitingByRole(instances: Iterable<InstanceHistory>, model: DashboardModel): RoleWorkload[] {
  const counts = new Map<string, number>();
  for (const i of instances) {
    if (ended(i, model)) continue;
    const awaits = model.awaits.get(keyOf(i));
    const roles = new Set((i.steps.at(-1)?.leaves ?? []).flatMap((l) => awaits?.get(l) ?? []));
    for (const r of roles) counts.set(r, (counts.get(r) ?? 0) + 1);
  }
  return sortBy(
    [...counts].map(([role, count]) => ({ role, count })),
    (r) => -r.count,
    (r) => r.role,
  );
}

/** Transitions each person made in the period (engine actors left out), most first, at most `limit`. */
export function transitionsByPerson(
  instances: Iterable<InstanceHistory>,
  period: DashboardPeriod,
  limit = 50,
): PersonWorkload[] {
  const from = period.from.getTime();
  const to = period.to.getTime();
  const counts = new Map<string, { transitions: number; instances: Set<string> }>();
  for (const i of instances)
    for (const s of i.steps) {
      if (s.at < from || s.at >= to || ENGINE_ACTORS.has(s.actor)) continue;
      const c = counts.get(s.actor) ?? { transitions: 0, instances: new Set<string>() };
      c.transitions++;
      c.instances.add(i.id);
      counts.set(s.actor, c);
    }
  return sortBy(
    [...counts].map(([actor, c]) => ({ actor, transitions: c.transitions, instances: c.instances.size })),
    (p) => -p.transitions,
    (p) => p.actor,
  ).slice(0, limit);
}

/** The instance's start and end when it ended within the period. */
function endedIn(i: InstanceHistory, model: DashboardModel, period: DashboardPeriod) {
  const first = i.steps[0];
  const last = i.steps.at(-1);
  if (!first || first.seq !== 0 || !last || !ended(i, model)) return undefined;
  if (last.at < period.from.getTime() || last.at >= period.to.getTime()) return undefined;
  return { started: first.at, ended: last.at };
}

/** A percentile with linear interpolation between ranks (PostgreSQL's `percentile_cont`). */
export function percentileCont(sorted: readonly number[], p: number): number {
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const a = sorted[lo] ?? NaN;
  const b = sorted[Math.ceil(pos)] ?? a;
  return a + (b - a) * (pos - lo);
}

/** Median and 90th percentile of the cycle time of instances that ended in the period, per procedure. */
export function cycleTimes(
  instances: Iterable<InstanceHistory>,
  model: DashboardModel,
  period: DashboardPeriod,
): CycleTime[] {
  const byProc = new Map<string, number[]>();
  for (const i of instances) {
    const e = endedIn(i, model, period);
    if (!e) continue;
    const list = byProc.get(i.procedure) ?? [];
    list.push(e.ended - e.started);
    byProc.set(i.procedure, list);
  }
  return sortBy(
    [...byProc].map(([procedure, ms]) => {
      ms.sort((a, b) => a - b);
      return {
        procedure,
        count: ms.length,
        medianMs: Math.round(percentileCont(ms, 0.5)),
        p90Ms: Math.round(percentileCont(ms, 0.9)),
      };
    }),
    (c) => c.procedure,
  );
}

/** An SLA state's unbroken stay: entered, due, left (undefined: still active). */
interface Stay {
  path: string;
  due: number;
  left?: number;
}
/** An interval [s, e) during which the instance was overdue (e undefined: it still is). */
interface Overdue {
  s: number;
  e?: number;
}

interface SlaHistory {
  stays: Stay[];
  /** The last one may lie in the future (s ≥ now: not overdue yet): readers compare with now. */
  overdue: Overdue[];
}

/** Computed once per instance and number of steps (histories only grow), whatever `now`. */
const slaCache = new WeakMap<
  InstanceHistory,
  { steps: number; model: DashboardModel; history: SlaHistory }
>();

/** The instance's SLA stays and overdue intervals. */
export function slaHistory(i: InstanceHistory, model: DashboardModel): SlaHistory {
  const cached = slaCache.get(i);
  if (cached && cached.steps === i.steps.length && cached.model === model) return cached.history;
  const history = computeSlaHistory(i, model);
  slaCache.set(i, { steps: i.steps.length, model, history });
  return history;
}

function computeSlaHistory(i: InstanceHistory, model: DashboardModel): SlaHistory {
  const sla = model.sla.get(keyOf(i));
  const stays: Stay[] = [];
  const overdue: Overdue[] = [];
  if (!sla?.size) return { stays, overdue };
  const active = new Map<string, Stay>();
  const within = (leaves: readonly string[], path: string): boolean => {
    for (const l of leaves)
      if (l === path || (l.length > path.length && l.startsWith(path) && l[path.length] === '.')) return true;
    return false;
  };
  for (let n = 0; n < i.steps.length; n++) {
    const step = i.steps[n]!;
    for (const [path, stay] of active)
      if (!within(step.leaves, path)) {
        stay.left = step.at;
        active.delete(path);
      }
    for (const [path, ms] of sla)
      if (!active.has(path) && within(step.leaves, path)) {
        const stay: Stay = { path, due: step.at + ms };
        active.set(path, stay);
        stays.push(stay);
      }
    if (!active.size) continue;
    let due = Infinity;
    for (const s of active.values()) if (s.due < due) due = s.due;
    const next = i.steps[n + 1]?.at;
    if (next === undefined) overdue.push({ s: Math.max(step.at, due) });
    else if (due < next) overdue.push({ s: Math.max(step.at, due), e: next });
  }
  return { stays, overdue };
}

const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** The UTC days of the period. */
function days(period: DashboardPeriod): string[] {
  const out: string[] = [];
  const start = Date.parse(dayOf(period.from.getTime()));
  for (let d = start; d < period.to.getTime(); d += DAY) out.push(dayOf(d));
  return out;
}

/** The end of a day's figure: the day's last instant, or now for today. */
const dayEnd = (day: string, now: number): number => Math.min(Date.parse(day) + DAY, now);

/** Overdue at the end of `day`. */
const overdueAt = (o: Overdue, t: number): boolean => o.s < t && (o.e === undefined || o.e >= t);

/**
 * Instances overdue at the end of each UTC day of the period (at now for today): the intervals
 * starting and ending, bucketed by day and summed (no day × instance loop).
 */
export function overdueByDay(
  instances: Iterable<InstanceHistory>,
  model: DashboardModel,
  period: DashboardPeriod,
): OverduePoint[] {
  const list = days(period);
  if (!list.length) return [];
  const now = period.now.getTime();
  // Days as numbers (days since the epoch, UTC): the interval's ends bucketed into them.
  const first = Math.floor(Date.parse(list[0]!) / DAY);
  const delta = new Float64Array(list.length);
  const bump = (at: number, d: number): void => {
    if (at >= now) return;
    const k = Math.max(0, Math.floor(at / DAY) - first);
    if (k < list.length) delta[k]! += d;
  };
  for (const i of instances)
    for (const o of slaHistory(i, model).overdue) {
      bump(o.s, 1);
      if (o.e !== undefined) bump(o.e, -1);
    }
  let running = 0;
  return list.map((day, k) => ({ day, count: (running += delta[k]!) }));
}

/** SLA breaches per month of their due time, within the period, per procedure. */
export function breachesByMonth(
  instances: Iterable<InstanceHistory>,
  model: DashboardModel,
  period: DashboardPeriod,
): BreachCount[] {
  const counts = new Map<string, BreachCount>();
  for (const i of instances)
    for (const due of breachDues(i, model, period)) {
      const month = dayOf(due).slice(0, 7);
      const k = `${month}\n${i.procedure}`;
      const c = counts.get(k) ?? { month, procedure: i.procedure, count: 0 };
      c.count++;
      counts.set(k, c);
    }
  return sortBy(
    [...counts.values()],
    (c) => c.month,
    (c) => c.procedure,
  );
}

/** Due times of the instance's breaches that fall in the period (and before now). */
function breachDues(i: InstanceHistory, model: DashboardModel, period: DashboardPeriod): number[] {
  const now = period.now.getTime();
  const end = Math.min(period.to.getTime(), now);
  return slaHistory(i, model)
    .stays.filter((s) => (s.left ?? now) > s.due && s.due >= period.from.getTime() && s.due < end)
    .map((s) => s.due);
}

/** What a chart's element stands for, to list the instances behind it. */
export type DrillDown =
  | { chart: 'overdue'; day: string }
  | { chart: 'breaches'; month: string }
  | { chart: 'cycle'; procedure: string }
  | { chart: 'person'; actor: string };

/** The workflow ids behind a chart's element (at most `limit`, latest first) and how many. */
export function instancesBehind(
  instances: Iterable<InstanceHistory>,
  model: DashboardModel,
  period: DashboardPeriod,
  drill: DrillDown,
  limit = 200,
): { workflowIds: string[]; total: number } {
  const now = period.now.getTime();
  const hits: { id: string; at: number }[] = [];
  const hit = (id: string, ats: number[]): void => {
    if (ats.length) hits.push({ id, at: Math.max(...ats) });
  };
  for (const i of instances)
    switch (drill.chart) {
      case 'overdue': {
        const t = dayEnd(drill.day, now);
        hit(
          i.id,
          slaHistory(i, model)
            .overdue.filter((o) => overdueAt(o, t))
            .map((o) => o.s),
        );
        break;
      }
      case 'breaches':
        hit(
          i.id,
          breachDues(i, model, period).filter((due) => dayOf(due).startsWith(drill.month)),
        );
        break;
      case 'cycle': {
        const e = i.procedure === drill.procedure ? endedIn(i, model, period) : undefined;
        if (e) hit(i.id, [e.ended]);
        break;
      }
      case 'person': {
        const from = period.from.getTime();
        const to = period.to.getTime();
        hit(
          i.id,
          i.steps.filter((s) => s.actor === drill.actor && s.at >= from && s.at < to).map((s) => s.at),
        );
        break;
      }
    }
  sortBy(
    hits,
    (h) => -h.at,
    (h) => h.id,
  );
  return { workflowIds: hits.slice(0, limit).map((h) => h.id), total: hits.length };
}
