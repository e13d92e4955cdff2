/**
 * The manager's dashboard: open instances by procedure and state, overdue instances day by day,
 * cycle times, SLA breaches per month and workload per role and person — computed from the records
 * store's transition records (`dashboard-index.ts` keeps them per process, reading only what was
 * appended since; `dashboard-charts.ts` computes the figures), with what only the definitions know
 * (final states, SLAs, awaited roles) taken from every deployed version and the current files.
 */
import { parseDuration } from '../workflows/core/duration.ts';
import type { ProcedureIR, StateIR } from '../workflows/core/ir.ts';
import { isLeaf } from '../workflows/core/ir-walk.ts';
import type { InstanceHistory } from './dashboard-index.ts';
import { seesAllClients } from './access.ts';
import { isAdmin } from './roles.ts';
import * as c from './dashboard-charts.ts';
import { transitionIndex } from './dashboard-index.ts';
import type { RecordsStore, User } from './records/types.ts';

export type { DashboardModel, DashboardPeriod, DashboardScope, DrillDown } from './dashboard-charts.ts';

/** What the definitions say about their states, for every procedure@version given (first one wins). */
export function dashboardModel(irs: Iterable<ProcedureIR>): c.DashboardModel {
  const model: c.DashboardModel = { sla: new Map(), finals: new Map(), awaits: new Map() };
  for (const ir of irs) {
    const key = `${ir.id}@${ir.version}`;
    if (model.sla.has(key)) continue;
    const sla = new Map<string, number>();
    const awaits = new Map<string, readonly string[]>();
    const rolesOf = (s: StateIR): string[] => Object.values(s.on).flatMap((ts) => ts.flatMap((t) => t.roles));
    const walk = (s: StateIR, inherited: readonly string[]): void => {
      const ms = s.sla ? parseDuration(s.sla) : undefined;
      if (s.path && ms !== undefined) sla.set(s.path, ms);
      const roles = [...new Set([...inherited, ...rolesOf(s)])].sort();
      if (s.path && isLeaf(s)) awaits.set(s.path, roles);
      for (const child of Object.values(s.states)) walk(child, roles);
    };
    walk(ir.root, []);
    model.sla.set(key, sla);
    model.awaits.set(key, awaits);
    // Only the root's own final children end an instance (a parallel root's regions do not).
    model.finals.set(
      key,
      new Set(
        Object.values(ir.root.states)
          .filter((s) => s.type === 'final')
          .map((s) => s.path),
      ),
    );
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
export function dashboardPeriod(filter: DashboardFilter, now: Date): c.DashboardPeriod {
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
): c.DashboardScope {
  const scope: c.DashboardScope = {};
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
  openByState: c.OpenStateCount[];
  overdueByDay: c.OverduePoint[];
  cycleTimes: c.CycleTime[];
  breachesByMonth: c.BreachCount[];
  awaitingByRole: c.RoleWorkload[];
  transitionsByPerson: c.PersonWorkload[];
  /** How long reading the new transition records and each chart took (ms). */
  timings: Record<'read' | DashboardChart, number>;
}

export type DashboardChart =
  | 'openByState'
  | 'overdueByDay'
  | 'cycleTimes'
  | 'breachesByMonth'
  | 'awaitingByRole'
  | 'transitionsByPerson';

/** Every chart, by name: the dashboard and the benchmark compute the same list. */
export const DASHBOARD_CHARTS: {
  [K in DashboardChart]: (
    instances: InstanceHistory[],
    model: c.DashboardModel,
    period: c.DashboardPeriod,
  ) => Dashboard[K];
} = {
  openByState: (all, model) => c.openByState(all, model),
  overdueByDay: c.overdueByDay,
  cycleTimes: c.cycleTimes,
  breachesByMonth: c.breachesByMonth,
  awaitingByRole: (all, model) => c.awaitingByRole(all, model),
  transitionsByPerson: (all, _model, period) => c.transitionsByPerson(all, period),
};

/** The definitions the dashboard interprets records with: every deployed version and the current files. */
export async function dashboardIRs(
  store: Pick<RecordsStore, 'definitionVersions'>,
  current: Iterable<{ ir: ProcedureIR }>,
): Promise<ProcedureIR[]> {
  return [...[...current].map((d) => d.ir), ...(await store.definitionVersions()).map((d) => d.ir)];
}

const ms = (t0: number): number => Math.round((performance.now() - t0) * 10) / 10;

/** The instances in scope, with the transition records appended since the last call read first. */
async function scoped(store: Pick<RecordsStore, 'readOnly'>, scope: c.DashboardScope) {
  const t0 = performance.now();
  const index = await transitionIndex(store);
  return { instances: [...c.inScope(index.instances(), scope)], read: ms(t0) };
}

/** Compute every chart. */
export async function computeDashboard(
  store: Pick<RecordsStore, 'readOnly'>,
  scope: c.DashboardScope,
  model: c.DashboardModel,
  period: c.DashboardPeriod,
): Promise<Dashboard> {
  const { instances, read } = await scoped(store, scope);
  const timings = { read } as Dashboard['timings'];
  const out: Partial<Dashboard> = {};
  for (const name of Object.keys(DASHBOARD_CHARTS) as DashboardChart[]) {
    const t0 = performance.now();
    (out as Record<string, unknown>)[name] = DASHBOARD_CHARTS[name](instances, model, period);
    timings[name] = ms(t0);
  }
  return {
    at: period.now.toISOString(),
    period: { from: period.from.toISOString(), to: period.to.toISOString() },
    ...(out as Omit<Dashboard, 'at' | 'period' | 'timings'>),
    timings,
  };
}

/** The workflow ids behind one element of a chart. */
export async function dashboardInstances(
  store: Pick<RecordsStore, 'readOnly'>,
  scope: c.DashboardScope,
  model: c.DashboardModel,
  period: c.DashboardPeriod,
  drill: c.DrillDown,
  limit?: number,
): Promise<{ workflowIds: string[]; total: number }> {
  const { instances } = await scoped(store, scope);
  return c.instancesBehind(instances, model, period, drill, limit);
}
