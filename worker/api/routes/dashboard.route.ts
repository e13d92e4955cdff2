/**
 * The manager's dashboard (`../../dashboard.ts`): every chart computed from the records store, and
 * the workflow ids behind one element of a chart. Managers, admins and auditors; each sees the
 * figures of the clients they may see.
 */
import { mayAccessClient } from '../../access.ts';
import {
  computeDashboard,
  dashboardIRs,
  dashboardInstances,
  dashboardModel,
  dashboardPeriod,
  dashboardScope,
  DashboardFilterError,
  type DashboardFilter,
  type DrillDown,
} from '../../dashboard.ts';
import type { User } from '../../records/types.ts';
import type { ApiContext } from '../context.ts';
import { ApiProblem, sendJson } from '../http.ts';
import { ID, KEYWORD, matching } from '../patterns.ts';
import { defineRoute, objectSchema } from '../route.ts';

/** A day (`2026-03-01`, UTC) or an ISO-8601 UTC time. */
const TIME = matching(
  '^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,3})?)?Z)?$',
  'a day (YYYY-MM-DD, UTC) or an ISO-8601 UTC time',
);

interface FilterQuery {
  client?: string;
  procedure?: string;
  from?: string;
  to?: string;
}

const FILTER = {
  client: matching(KEYWORD),
  procedure: matching(ID),
  from: TIME,
  to: { ...TIME, description: 'end of the period: a day is included whole (default: now)' },
};

/** A day or time as a Date; a day given as `to` means its end. */
function timeOf(text: string | undefined, end: boolean): Date | undefined {
  if (text === undefined) return undefined;
  const d = new Date(text);
  if (Number.isNaN(d.getTime()))
    throw new ApiProblem(400, 'INVALID_QUERY', `"${text}" is not a date (YYYY-MM-DD) or an ISO-8601 time`);
  return end && text.length === 10 ? new Date(d.getTime() + 86_400_000) : d;
}

/** What the request asks for, checked: the scope, the definitions' model and the period. */
async function resolve(app: ApiContext, user: User, query: FilterQuery, now: Date) {
  if (query.client !== undefined && !mayAccessClient(user, query.client))
    throw new ApiProblem(404, 'NOT_FOUND', `no client "${query.client}"`);
  const irs = await dashboardIRs(app.store, app.definitions.values());
  if (query.procedure !== undefined && !irs.some((ir) => ir.id === query.procedure))
    throw new ApiProblem(404, 'UNKNOWN_PROCEDURE', `no procedure "${query.procedure}"`);
  const to = timeOf(query.to, true);
  const filter: DashboardFilter = {
    ...(query.client !== undefined ? { client: query.client } : {}),
    ...(query.procedure !== undefined ? { procedure: query.procedure } : {}),
    ...(query.from !== undefined ? { from: timeOf(query.from, false) } : {}),
    // Nothing is known beyond now.
    ...(to !== undefined ? { to: to < now ? to : now } : {}),
  };
  let period;
  try {
    period = dashboardPeriod(filter, now);
  } catch (err) {
    if (err instanceof DashboardFilterError) throw new ApiProblem(400, 'INVALID_QUERY', err.message);
    throw err;
  }
  const clientless = [...app.definitions.values()].filter((d) => !d.ir.clientField).map((d) => d.ir.id);
  return { scope: dashboardScope(user, filter, clientless), model: dashboardModel(irs), period };
}

const dashboard = defineRoute({
  method: 'GET',
  path: '/api/dashboard',
  summary:
    'Open instances by procedure and state, overdue instances per day, cycle times, SLA breaches per month, ' +
    'workload per role and person — from the records store (default period: the last 90 days)',
  auth: 'dashboard',
  action: 'opening the dashboard',
  query: objectSchema<FilterQuery>(FILTER),
  responses: {
    200: {
      description:
        '{at, period, openByState, overdueByDay, cycleTimes, breachesByMonth, awaitingByRole, transitionsByPerson, timings}',
    },
  },
  problems: { 404: 'NOT_FOUND (a client you may not see), UNKNOWN_PROCEDURE' },
  async handle({ query, res, session }, app) {
    const { scope, model, period } = await resolve(app, session.user, query, new Date());
    sendJson(res, 200, await computeDashboard(app.store, scope, model, period));
  },
});

type Chart = DrillDown['chart'];

interface DrillQuery extends FilterQuery {
  chart: Chart;
  day?: string;
  month?: string;
  actor?: string;
  limit?: number;
}

const instances = defineRoute({
  method: 'GET',
  path: '/api/dashboard/instances',
  summary:
    'The workflow ids behind one element of a chart: overdue at the end of `day`, SLA breaches due in `month`, ' +
    'instances of `procedure` that ended in the period, instances `actor` acted in',
  auth: 'dashboard',
  action: 'opening the dashboard',
  query: objectSchema<DrillQuery>(
    {
      ...FILTER,
      chart: { enum: ['overdue', 'breaches', 'cycle', 'person'] satisfies Chart[] },
      day: matching('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', 'overdue: the day (UTC)'),
      month: matching('^[0-9]{4}-(0[1-9]|1[0-2])$', 'breaches: the month (UTC)'),
      actor: matching(KEYWORD, 'person: the user id'),
      limit: { type: 'integer', minimum: 1, maximum: 500 },
    },
    ['chart'],
  ),
  responses: { 200: { description: '{workflowIds (most recent first), total}' } },
  problems: { 404: 'NOT_FOUND (a client you may not see), UNKNOWN_PROCEDURE' },
  async handle({ query, res, session }, app) {
    const { scope, model, period } = await resolve(app, session.user, query, new Date());
    const need = (v: string | undefined, name: string): string => {
      if (v === undefined) throw new ApiProblem(400, 'INVALID_QUERY', `chart=${query.chart} needs ${name}`);
      return v;
    };
    let drill: DrillDown;
    switch (query.chart) {
      case 'overdue':
        drill = { chart: 'overdue', day: need(query.day, 'day') };
        if (Number.isNaN(new Date(drill.day).getTime()))
          throw new ApiProblem(400, 'INVALID_QUERY', `day "${drill.day}" is not a date`);
        break;
      case 'breaches':
        drill = { chart: 'breaches', month: need(query.month, 'month') };
        break;
      case 'cycle':
        drill = { chart: 'cycle', procedure: need(query.procedure, 'procedure') };
        break;
      case 'person':
        drill = { chart: 'person', actor: need(query.actor, 'actor') };
        break;
    }
    sendJson(res, 200, await dashboardInstances(app.store, scope, model, period, drill, query.limit));
  },
});

export const dashboardRoutes = [dashboard, instances];
