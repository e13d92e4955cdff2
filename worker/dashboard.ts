/**
 * The manager's dashboard: open instances by procedure and state, overdue instances day by day,
 * cycle times, SLA breaches per month and workload per role and person — computed from the records
 * store's transition records (`records/dashboard-queries.ts`), with what only the definitions know
 * (final states, SLAs, awaited roles) taken from every deployed version and the current files.
 */
import { parseDuration } from '../workflows/core/duration.ts';
import type { ProcedureIR, StateIR } from '../workflows/core/ir.ts';
import { isLeaf } from '../workflows/core/ir-walk.ts';
import { seesAllClients } from './access.ts';
import { isAdmin } from './roles.ts';
import * as q from './records/dashboard-queries.ts';
import type { RecordsStore, User } from './records/types.ts';

export type { DrillDown } from './records/dashboard-queries.ts';

/** What the definitions say about their states, for every procedure@version given (deduplicated). */
export function dashboardModel(irs: Iterable<ProcedureIR>): q.DashboardModel {
  const model: q.DashboardModel = { sla: [], finals: [], awaits: [] };
  const seen = new Set<string>();
  for (const ir of irs) {
    const key = `${ir.id}@${ir.version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const pv = { procedure: ir.id, version: ir.version };
    const rolesOf = (s: StateIR): string[] => Object.values(s.on).flatMap((ts) => ts.flatMap((t) => t.roles));
    const walk = (s: StateIR, inherited: readonly string[]): void => {
      const ms = s.sla ? parseDuration(s.sla) : undefined;
      if (s.path && ms !== undefined) model.sla.push({ ...pv, path: s.path, ms });
      const roles = [...new Set([...inherited, ...rolesOf(s)])];
      if (s.path && isLeaf(s))
        for (const role of roles.sort()) model.awaits.push({ ...pv, state: s.path, role });
      for (const child of Object.values(s.states)) walk(child, roles);
    };
    walk(ir.root, []);
    for (const s of Object.values(ir.root.states))
      if (s.type === 'final') model.finals.push({ ...pv, state: s.path });
    // Only the root's own final children end an instance (a parallel root's regions do not).
  }
  return model;
}

/** The filters of a dashboard request. */
export interface DashboardFilter {
  client?: string;
  procedure?: string;
  /** Start of the period (default: 90 days before `to`). */
  from?: Date;
  /** End of the period, exclusive (default: now). */
  to?: Date;
}

/** The longest period the dashboard computes (its overdue series has one point per day). */
export const MAX_PERIOD_DAYS = 366;
/** The default period: the last 90 days. */
export const DEFAULT_PERIOD_DAYS = 90;
const DAY = 86_400_000;

/** A filter the dashboard cannot compute, with what to change. */
export class DashboardFilterError extends Error {
  override name = 'DashboardFilterError';
}

/** The period of a filter at `now`, or a `DashboardFilterError`. */
export function dashboardPeriod(filter: DashboardFilter, now: Date): q.DashboardPeriod {
  const to = filter.to ?? now;
  const from = filter.from ?? new Date(to.getTime() - DEFAULT_PERIOD_DAYS * DAY);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()))
    throw new DashboardFilterError('from and to must be dates (YYYY-MM-DD) or ISO-8601 times');
  if (from >= to)
    throw new DashboardFilterError(`from (${from.toISOString()}) must be before to (${to.toISOString()})`);
  if (to.getTime() - from.getTime() > MAX_PERIOD_DAYS * DAY)
    throw new DashboardFilterError(`the period may be at most ${MAX_PERIOD_DAYS} days`);
  return { from, to, now };
}

/**
 * Whose records a user's dashboard counts — exactly who sees which instances (`access.ts`): the
 * roles that see every client, everything; others their assigned clients, and admins also the
 * procedures without a client field (`clientless`).
 */
export function dashboardScope(
  user: User,
  filter: Pick<DashboardFilter, 'client' | 'procedure'>,
  clientless: readonly string[],
): q.DashboardScope {
  const scope: q.DashboardScope = {};
  if (!seesAllClients(user)) {
    scope.clients = [...user.clients];
    if (isAdmin(user)) scope.clientless = [...clientless];
  }
  if (filter.client !== undefined) scope.client = filter.client;
  if (filter.procedure !== undefined) scope.procedure = filter.procedure;
  return scope;
}

export interface Dashboard {
  /** When it was computed. */
  at: string;
  period: { from: string; to: string };
  openByState: q.OpenStateCount[];
  overdueByDay: q.OverduePoint[];
  cycleTimes: q.CycleTime[];
  breachesByMonth: q.BreachCount[];
  awaitingByRole: q.RoleWorkload[];
  transitionsByPerson: q.PersonWorkload[];
  /** How long each query took (ms). */
  timings: Record<DashboardChart, number>;
}

export type DashboardChart =
  | 'openByState'
  | 'overdueByDay'
  | 'cycleTimes'
  | 'breachesByMonth'
  | 'awaitingByRole'
  | 'transitionsByPerson';

/** Every chart's query, by name: the dashboard and the benchmark run the same list. */
export const DASHBOARD_QUERIES: {
  [K in DashboardChart]: (
    db: Parameters<typeof q.openByState>[0],
    scope: q.DashboardScope,
    model: q.DashboardModel,
    period: q.DashboardPeriod,
  ) => Promise<Dashboard[K]>;
} = {
  openByState: (db, scope, model) => q.openByState(db, scope, model),
  overdueByDay: q.overdueByDay,
  cycleTimes: q.cycleTimes,
  breachesByMonth: q.breachesByMonth,
  awaitingByRole: (db, scope, model) => q.awaitingByRole(db, scope, model),
  transitionsByPerson: (db, scope, _model, period) => q.transitionsByPerson(db, scope, period),
};

/** The definitions the dashboard interprets records with: every deployed version and the current files. */
export async function dashboardIRs(
  store: Pick<RecordsStore, 'definitionVersions'>,
  current: Iterable<{ ir: ProcedureIR }>,
): Promise<ProcedureIR[]> {
  return [...[...current].map((d) => d.ir), ...(await store.definitionVersions()).map((d) => d.ir)];
}

/** Compute every chart, one query after the other (the embedded store runs one at a time anyway). */
export async function computeDashboard(
  store: Pick<RecordsStore, 'readOnly'>,
  scope: q.DashboardScope,
  model: q.DashboardModel,
  period: q.DashboardPeriod,
): Promise<Dashboard> {
  return store.readOnly(async (db) => {
    const timings = {} as Record<DashboardChart, number>;
    const out: Partial<Dashboard> = {};
    for (const [name, query] of Object.entries(DASHBOARD_QUERIES) as [
      DashboardChart,
      (typeof DASHBOARD_QUERIES)[DashboardChart],
    ][]) {
      const t0 = performance.now();
      (out as Record<string, unknown>)[name] = await query(db, scope, model, period);
      timings[name] = Math.round((performance.now() - t0) * 10) / 10;
    }
    return {
      at: period.now.toISOString(),
      period: { from: period.from.toISOString(), to: period.to.toISOString() },
      ...(out as Omit<Dashboard, 'at' | 'period' | 'timings'>),
      timings,
    };
  });
}

/** The workflow ids behind one element of a chart. */
export function dashboardInstances(
  store: Pick<RecordsStore, 'readOnly'>,
  scope: q.DashboardScope,
  model: q.DashboardModel,
  period: q.DashboardPeriod,
  drill: q.DrillDown,
  limit?: number,
): Promise<{ workflowIds: string[]; total: number }> {
  return store.readOnly((db) => q.instancesBehind(db, scope, model, period, drill, limit));
}
