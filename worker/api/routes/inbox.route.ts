/** Work waiting for people: my inbox, and instances stalled past their SLA or idle too long. */
import { parseDuration } from '../../../workflows/core/duration.ts';
import { INBOX_TABS, inboxCounts, inboxOf, type InboxTab } from '../../inbox.ts';
import { inboxFromIndex, indexAge, stalledCountsOf } from '../../view-index.ts';
import {
  buildListQuery,
  countByProcedureAndState,
  listRows,
  quote,
  type InstanceRow,
} from '../../visibility.ts';
import { actorSigner } from '../../actor-keys.ts';
import { AssignmentRejected, directoryAssignee, remindTask } from '../../assignment.ts';
import { BULK_ACTIONS, BulkBusy, BulkJobs, type BulkAction, type BulkResult } from '../../bulk.ts';
import type { User } from '../../records/types.ts';
import { auditRefusedEvent } from '../audit-events.ts';
import type { ApiContext } from '../context.ts';
import { assignOne } from './instances.route.ts';
import { originOf } from './session.route.ts';
import { ApiProblem, sendJson } from '../http.ts';
import { DURATION, ID, KEYWORD, LIMIT, LIST_KEYWORD, matching, PAGE_TOKEN } from '../patterns.ts';
import { defineRoute, objectSchema } from '../route.ts';
import { slaOfRow } from '../../sla-rows.ts';

const slaField = <T>(sla: T | undefined): { sla?: T } => (sla ? { sla } : {});

/**
 * Whether `user` may see an index row; what does not depend on the row is decided once
 * (`accessFilter`: per row, the all-client check read its setting again — 0.5–0.8 s over 100,000
 * rows on the 2-core VM).
 */
function visibleRows(app: ApiContext, user: User): (r: InstanceRow) => boolean {
  const may = app.accessFilter(user);
  return (r) => may({ client: r.client, procedure: r.procedure });
}

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
  responses: {
    200: { description: 'Tasks: {tab, tasks, total, truncated, counts: {mine, unassigned, all}}' },
  },
  async handle({ query, res, session }, app) {
    const { user } = session;
    const iso = app.isolation(user);
    const who = { userId: user.id, roles: user.roles, ...(iso ? { within: iso } : {}) };
    const tab = query.tab ?? 'all';
    const now = new Date();
    const snapshot = app.viewIndex.current(now.getTime());
    if (snapshot) {
      // Many running instances: counts from the index (with its age), the tasks checked live.
      const out = await inboxFromIndex(app.client, snapshot, {
        userId: user.id,
        roles: user.roles,
        tab,
        limit: query.limit ?? 100,
        visible: visibleRows(app, user),
        now,
      });
      sendJson(res, 200, { tab, ...out, ...indexAge(snapshot, now) });
      return;
    }
    const [out, counts] = await Promise.all([
      inboxOf(app.client, { ...who, tab, limit: query.limit ?? 100, scan: app.inboxScan, now }),
      inboxCounts(app.client, who),
    ]);
    app.viewIndex.noteTotal(counts.all);
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
        ...slaField(slaOfRow(r, r.procedure ? app.definitions.get(r.procedure) : undefined, now.getTime())),
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
    const snapshot = app.viewIndex.current(now.getTime());
    if (snapshot) {
      // Many running instances: counted in the index at `now` (with its age), no count query.
      const { user } = session;
      const counts = stalledCountsOf(
        snapshot,
        irs,
        visibleRows(app, user),
        now.getTime(),
        parseDuration(idleFor)!,
      );
      sendJson(res, 200, { idle: idleFor, at: now.toISOString(), ...counts, ...indexAge(snapshot, now) });
      return;
    }
    const counts = await countByProcedureAndState(app.client, q, irs, now);
    app.viewIndex.noteTotal(counts.total);
    sendJson(res, 200, { idle: idleFor, at: now.toISOString(), ...counts });
  },
});

/** What a bulk act applies to: the rows picked, or every stalled instance matching a filter. */
interface BulkBody {
  action: BulkAction;
  /** reassign: the new assignee (null: leave unassigned). */
  assignee?: string | null;
  /** reassign: the state, when instances have several assignable ones. */
  state?: string;
  workflowIds?: string[];
  filter?: { idle?: string; procedure?: string; state?: string };
}

/** The most instances one bulk act may cover. */
const MAX_BULK = 10_000;

const bulkBody = objectSchema<BulkBody>(
  {
    action: { type: 'string', enum: [...BULK_ACTIONS] },
    assignee: { anyOf: [{ type: 'string', minLength: 1, maxLength: 128 }, { type: 'null' }] },
    state: matching(LIST_KEYWORD),
    workflowIds: { type: 'array', items: matching(ID), minItems: 1, maxItems: MAX_BULK },
    filter: {
      type: 'object',
      additionalProperties: false,
      properties: { idle, procedure: matching(KEYWORD), state: matching(LIST_KEYWORD) },
    },
  },
  ['action'],
);

/** Bulk jobs by API (one registry per API instance). */
const bulkJobs = new WeakMap<ApiContext, BulkJobs>();
const jobsOf = (app: ApiContext): BulkJobs => {
  let jobs = bulkJobs.get(app);
  if (!jobs) bulkJobs.set(app, (jobs = new BulkJobs()));
  return jobs;
};

/**
 * The instances a bulk act covers, as rows: the stalled instances matching the filter, or the
 * picked ones among the running instances the user may see (a picked id that is not one of them
 * is reported as missing, never acted on).
 */
async function bulkTargets(
  app: ApiContext,
  user: User,
  body: BulkBody,
): Promise<{ rows: InstanceRow[]; missing: string[] }> {
  if (body.action === 'reassign' && body.assignee === undefined)
    throw new ApiProblem(422, 'INVALID_INPUT', 'reassign needs "assignee" (a user id, or null)');
  if (!body.workflowIds === !body.filter)
    throw new ApiProblem(422, 'INVALID_INPUT', 'give either "workflowIds" or "filter"');
  const now = new Date();
  const f = body.filter ?? {};
  const q = stalledQuery(app.isolation(user), f.idle ?? 'P3D', now, {
    ...(f.procedure ? { procedure: f.procedure } : {}),
    ...(f.state ? { state: f.state } : {}),
  });
  if (body.filter) {
    const rows = await listRows(app.client, q, MAX_BULK + 1, now);
    if (rows.length > MAX_BULK)
      throw new ApiProblem(422, 'TOO_MANY', `more than ${MAX_BULK} instances match; narrow the filter`);
    return { rows, missing: [] };
  }
  const ids = [...new Set(body.workflowIds)];
  const found = new Map<string, InstanceRow>();
  // The picked ids, in chunks: running instances the user may see (picked from the stalled
  // view; one that has moved on since is still acted on, and the engine decides).
  const iso = app.isolation(user);
  const visible = [buildListQuery({}, now), ...(iso ? [iso] : [])].join(' AND ');
  for (let i = 0; i < ids.length; i += 200) {
    const chunk = ids.slice(i, i + 200);
    const rows = await listRows(
      app.client,
      `${visible} AND WorkflowId IN (${chunk.map(quote).join(', ')})`,
      chunk.length,
      now,
    );
    for (const r of rows) found.set(r.workflowId, r);
  }
  return {
    rows: ids.filter((id) => found.has(id)).map((id) => found.get(id)!),
    missing: ids.filter((id) => !found.has(id)),
  };
}

/** What the act will do to one instance, for the preview. */
function planOf(row: InstanceRow, body: BulkBody, assignee: User | undefined): string {
  if (body.action === 'remind')
    return `notify ${row.assignees?.length ? `${row.assignees.join(', ')} (${row.awaiting.join(', ')})` : row.awaiting.join(', ') || 'nobody'}`;
  const from = row.assignees?.join(', ') || '(nobody)';
  if (assignee && !assignee.roles.some((r) => row.awaiting.includes(r)))
    return `refused: ${assignee.id} holds none of ${row.awaiting.join(', ')}`;
  return `${from} → ${body.assignee ?? '(nobody)'}`;
}

const bulkPreview = defineRoute({
  method: 'POST',
  path: '/api/stalled/bulk/preview',
  summary:
    'What a bulk reassign or remind would do: the instances it covers and the plan for each (nothing changes)',
  auth: 'user',
  body: bulkBody,
  responses: { 200: { description: '{action, total, missing, instances: [row + plan] (the first 1,000)}' } },
  problems: { 422: 'INVALID_INPUT, TOO_MANY, ASSIGNEE_UNKNOWN, ASSIGNEE_DISABLED' },
  async handle({ body, res, session }, app) {
    const { rows, missing } = await bulkTargets(app, session.user, body);
    const assignee = body.assignee ? await directoryAssigneeOrProblem(app, body.assignee) : undefined;
    sendJson(res, 200, {
      action: body.action,
      total: rows.length,
      missing,
      instances: rows.slice(0, 1000).map((r) => ({ ...r, plan: planOf(r, body, assignee) })),
    });
  },
});

async function directoryAssigneeOrProblem(app: ApiContext, id: string): Promise<User> {
  try {
    return await directoryAssignee(app.store, id);
  } catch (err) {
    if (err instanceof AssignmentRejected) throw new ApiProblem(422, err.code, err.message);
    throw err;
  }
}

const bulkStart = defineRoute({
  method: 'POST',
  path: '/api/stalled/bulk',
  summary:
    'Start a bulk reassign or remind over picked or filtered stalled instances: runs on the server in batches; poll the job for progress and the result per instance',
  auth: 'user',
  body: bulkBody,
  responses: { 202: { description: '{jobId, total, missing}' } },
  problems: { 422: 'INVALID_INPUT, TOO_MANY, ASSIGNEE_UNKNOWN, ASSIGNEE_DISABLED', 503: 'BUSY' },
  async handle({ body, ip, req, res, session }, app) {
    const { user } = session;
    const { rows, missing } = await bulkTargets(app, user, body);
    if (body.assignee) await directoryAssigneeOrProblem(app, body.assignee);
    const actor = { id: user.id, roles: [...user.roles] };
    const byId = new Map(rows.map((r) => [r.workflowId, r]));
    const origin = originOf(app, req, ip);
    const act = async (workflowId: string): Promise<BulkResult> => {
      const inst = { ...(byId.get(workflowId)?.client ? { client: byId.get(workflowId)!.client! } : {}) };
      try {
        if (body.action === 'remind') {
          const r = await remindTask(app.client, actorSigner(), workflowId, actor);
          return { workflowId, ok: true, detail: `notified ${r.roles.join(', ')}` };
        }
        const a = await assignOne(app, workflowId, inst, actor, {
          ...(body.state ? { state: body.state } : {}),
          assignee: body.assignee ?? null,
        });
        await app.viewIndex.touch(workflowId);
        return { workflowId, ok: true, detail: `${a.from ?? '(nobody)'} → ${a.to ?? '(nobody)'}` };
      } catch (err) {
        if (!(err instanceof AssignmentRejected)) throw err;
        await auditRefusedEvent(origin, actor, workflowId, `$${body.action}`, err, inst.client);
        return { workflowId, ok: false, code: err.code, message: err.message };
      }
    };
    let job;
    try {
      job = jobsOf(app).start(
        user.id,
        body.action,
        rows.map((r) => r.workflowId),
        act,
        async (j) => {
          await app.store.appendAdminRecord({
            kind: 'admin',
            subject: `bulk:${j.id}`,
            actorId: user.id,
            body: {
              act: `bulk.${j.action}`,
              ...(body.assignee !== undefined ? { assignee: body.assignee } : {}),
              ...(body.filter ? { filter: body.filter } : {}),
              total: j.total,
              ok: j.ok,
              refused: j.refused,
              refusedIds: j.results.filter((r) => !r.ok).map((r) => r.workflowId),
            },
          });
        },
      );
    } catch (err) {
      if (err instanceof BulkBusy) throw new ApiProblem(503, 'BUSY', err.message);
      throw err;
    }
    sendJson(res, 202, { jobId: job.id, total: job.total, missing });
  },
});

const bulkJob = defineRoute({
  method: 'GET',
  path: '/api/stalled/bulk/:job',
  summary: 'A bulk act’s progress and its result per instance (only for who started it)',
  auth: 'user',
  params: { job: { type: 'string', pattern: '^[0-9a-f-]{36}$' } },
  responses: {
    200: { description: '{id, action, total, done, ok, refused, startedAt, finishedAt?, results}' },
  },
  problems: { 404: 'NOT_FOUND' },
  handle({ params, res, session }, app) {
    const job = jobsOf(app).get(params.job ?? '', session.user.id);
    if (!job) throw new ApiProblem(404, 'NOT_FOUND', 'no such bulk act (or not yours, or expired)');
    sendJson(res, 200, job);
    return Promise.resolve();
  },
});

/** The inbox, the stalled view and its bulk acts. */
export const inboxRoutes = [inbox, stalled, stalledCounts, bulkPreview, bulkStart, bulkJob];
