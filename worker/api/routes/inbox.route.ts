/** Work waiting for people: my inbox, and instances stalled past their SLA or idle too long. */
import { parseDuration } from '../../../workflows/core/duration.ts';
import { INBOX_TABS, inboxCounts, inboxOf, type InboxTab } from '../../inbox.ts';
import { buildListQuery, countByProcedureAndState } from '../../visibility.ts';
import { ApiProblem, sendJson } from '../http.ts';
import { DURATION, KEYWORD, LIMIT, LIST_KEYWORD, matching, PAGE_TOKEN } from '../patterns.ts';
import { defineRoute, objectSchema } from '../route.ts';

const inbox = defineRoute({
  method: 'GET',
  path: '/api/inbox',
  summary:
    'My tasks, overdue first then oldest deadline: tab `mine` (assigned to me), `unassigned` (my roles, nobody holds it) or `all` (default: either), with the count of each tab',
  auth: 'user',
  query: objectSchema<{ limit?: number; tab?: InboxTab }>({
    limit: LIMIT,
    tab: { type: 'string', enum: [...INBOX_TABS] },
  }),
  responses: { 200: { description: 'Tasks: {tab, tasks, total, truncated, counts: {mine, unassigned, all}}' } },
  async handle({ query, res, session }, app) {
    const { user } = session;
    const iso = app.isolation(user);
    const who = { userId: user.id, roles: user.roles, ...(iso ? { within: iso } : {}) };
    const tab = query.tab ?? 'all';
    const [out, counts] = await Promise.all([
      inboxOf(app.client, { ...who, tab, limit: query.limit ?? 100, scan: app.inboxScan }),
      inboxCounts(app.client, who),
    ]);
    sendJson(res, 200, { tab, ...out, counts });
  },
});

const idle = matching(DURATION, 'ISO-8601 duration (default P3D)');

/** The longest `idle` asked about: ten years (beyond, the date it names is not a date). */
const MAX_IDLE_MS = 3650 * 86_400_000;

/** The stalled query (past the SLA, or idle longer than `idle`) within `iso`, or a 400. */
function stalledQuery(
  iso: string | undefined,
  idleFor: string,
  now: Date,
  filter: { procedure?: string; state?: string },
): string {
  const ms = parseDuration(idleFor);
  if (ms === undefined)
    throw new ApiProblem(400, 'INVALID_QUERY', `idle must be an ISO-8601 duration such as P3D or PT12H`);
  if (!Number.isFinite(ms) || ms > MAX_IDLE_MS)
    throw new ApiProblem(400, 'INVALID_QUERY', 'idle may be at most ten years (P3650D)');
  const parts = [buildListQuery({ stalled: true, idle: idleFor, ...filter }, now)];
  if (iso) parts.push(iso);
  return parts.join(' AND ');
}

interface StalledQuery {
  idle?: string;
  procedure?: string;
  state?: string;
  limit?: number;
  pageToken?: string;
}

const stalled = defineRoute({
  method: 'GET',
  path: '/api/stalled',
  summary:
    'One page of running instances past their SLA or idle longer than `idle` (default P3D), worst first within the page',
  auth: 'user',
  query: objectSchema<StalledQuery>({
    idle,
    procedure: matching(KEYWORD),
    state: matching(LIST_KEYWORD),
    limit: LIMIT,
    pageToken: matching(PAGE_TOKEN),
  }),
  responses: {
    200: { description: 'Stalled instances with idleMs, overdueMs and who is awaited; nextPageToken' },
  },
  problems: { 400: 'INVALID_PAGE_TOKEN' },
  async handle({ query, res, session }, app) {
    const idleFor = query.idle ?? 'P3D';
    const now = new Date();
    const q = stalledQuery(app.isolation(session.user), idleFor, now, {
      ...(query.procedure ? { procedure: query.procedure } : {}),
      ...(query.state ? { state: query.state } : {}),
    });
    // One visibility page (newest first; SQL visibility has no ORDER BY on our attributes),
    // the most overdue / longest idle first within it; the exact totals: /api/stalled/counts.
    const page = await app.pageOf(q, query.limit ?? 100, query.pageToken, now);
    const since = (iso?: string): number => (iso ? now.getTime() - Date.parse(iso) : 0);
    const out = page.rows
      .map((r) => ({
        ...r,
        idleMs: since(r.stateSince),
        ...(r.overdue && r.dueAt ? { overdueMs: since(r.dueAt) } : {}),
      }))
      .sort((a, b) => (b.overdueMs ?? -1) - (a.overdueMs ?? -1) || b.idleMs - a.idleMs);
    sendJson(res, 200, {
      idle: idleFor,
      instances: out,
      ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
    });
  },
});

const stalledCounts = defineRoute({
  method: 'GET',
  path: '/api/stalled/counts',
  summary: 'Exact counts of stalled instances per procedure and leaf state (count queries)',
  auth: 'user',
  query: objectSchema<{ idle?: string }>({ idle }),
  responses: { 200: { description: '{idle, at, total, groups: [{procedure, state, count, overdue}]}' } },
  async handle({ query, res, session }, app) {
    const idleFor = query.idle ?? 'P3D';
    const now = new Date();
    const q = stalledQuery(app.isolation(session.user), idleFor, now, {});
    const irs = [...app.definitions.values()].map((d) => d.ir);
    const counts = await countByProcedureAndState(app.client, q, irs, now);
    sendJson(res, 200, { idle: idleFor, at: now.toISOString(), ...counts });
  },
});

export const inboxRoutes = [inbox, stalled, stalledCounts];
