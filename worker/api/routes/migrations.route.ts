/**
 * Migrating running instances to another deployed version (admins): the dry run that classifies
 * every running instance of a procedure (moves / needs mapping / cannot move, with the reason), and
 * the batch that moves those that can — run on the server 8 at a time (`../../bulk.ts`), each by
 * the instance's own `migrate` update, with progress and a result per instance. Every move is a
 * `$migrate` record in the audit chain (old → new version); every refusal by the engine is a
 * refusal record; the batch ends with one summary record.
 *
 * The dry run also says, per instance that moves, which of the new version's deadlines (due time,
 * reminders, escalations, `after:` timers — counted from the state's entry) the move sets off at
 * once, and which fall due within `within` (default an hour), with totals (`deadlines`).
 *
 * Not a four-eyes proposal of its own: the mapping is part of the new version's definition
 * (`migrate:`), which a second admin approved with its proof; a migration only applies it, and
 * only into configurations that proof covers.
 */
import { actorSigner } from '../../actor-keys.ts';
import { BulkBusy, BulkJobs, type BulkResult } from '../../bulk.ts';
import {
  describeMove,
  dryRun,
  migrateInstance,
  migrationTarget,
  MigrationRefusedError,
  planInstance,
  runningInstances,
  VersionIndex,
  MAX_MIGRATION,
  parseHorizon,
  summarize,
  type MigrationDeps,
  type MigrationTarget,
} from '../../migration/migrations.ts';
import { auditRefusedEvent } from '../audit-events.ts';
import type { ApiContext } from '../context.ts';
import { ApiProblem, sendJson } from '../http.ts';
import { DURATION, ID, matching, VERSION } from '../patterns.ts';
import { defineRoute, objectSchema } from '../route.ts';
import { originOf } from './session.route.ts';

interface MigrationBody {
  /** The version to move to (default: the current one). */
  to?: string;
  /** Only these instances (default: every running instance of the procedure). */
  workflowIds?: string[];
}
const body = objectSchema<MigrationBody>({
  to: matching(VERSION),
  workflowIds: { type: 'array', items: matching(ID), minItems: 1, maxItems: MAX_MIGRATION },
});

interface DryRunBody extends MigrationBody {
  /** Horizon of the deadlines said to fall due soon after the dry run (ISO-8601; default PT1H). */
  within?: string;
}
const dryRunBody = objectSchema<DryRunBody>({
  to: matching(VERSION),
  workflowIds: { type: 'array', items: matching(ID), minItems: 1, maxItems: MAX_MIGRATION },
  within: matching(
    DURATION,
    'ISO-8601 duration (default PT1H, at most P30D): deadlines due within it after the dry run are listed as soon',
  ),
});

const jobsByApi = new WeakMap<ApiContext, BulkJobs>();
const jobsOf = (app: ApiContext): BulkJobs => {
  let jobs = jobsByApi.get(app);
  if (!jobs) jobsByApi.set(app, (jobs = new BulkJobs()));
  return jobs;
};

const depsOf = (app: ApiContext): MigrationDeps => ({
  client: app.client,
  store: app.store,
  definitions: app.definitions,
});

/** The target version, or 404. */
async function targetOrProblem(app: ApiContext, id: string, to?: string): Promise<MigrationTarget> {
  app.definitionOf(id); // 404 UNKNOWN_PROCEDURE
  try {
    return await migrationTarget(depsOf(app), id, to);
  } catch (err) {
    if (err instanceof MigrationRefusedError) throw new ApiProblem(404, 'UNKNOWN_VERSION', err.message);
    throw err;
  }
}

function tooMany(err: unknown): unknown {
  return err instanceof MigrationRefusedError && err.code === 'TOO_MANY'
    ? new ApiProblem(422, 'TOO_MANY', err.message)
    : err;
}

const dryRunRoute = defineRoute({
  method: 'POST',
  path: '/api/definitions/:id/migrations/dry-run',
  summary:
    'Classify every running instance of a procedure for a move to a deployed version (admin; nothing changes): moves, needs_mapping or cannot_move, with the reason and the plan (states, fields added and dropped)',
  auth: 'admin',
  action: 'migrating instances',
  params: { id: matching(ID) },
  body: dryRunBody,
  responses: {
    200: {
      description:
        '{procedure, to: {version, hash}, proof: {exhaustive, explored}, total, counts: {moves, needs_mapping, cannot_move}, ' +
        'deadlines: {withinMs, atOnce: {instances, due, remind, escalate, after}, soon: {…same}, unknown}, ' +
        'instances: [{workflowId, fromVersion, seq, plan, deadlines?: {atOnce: [deadline], soon: [deadline]}, deadlinesUnknown?}]} — ' +
        'a deadline is {kind: due|remind|escalate|after, state, at, since, delay, key?, to?, level?}: one of the new version, counted ' +
        'from the entry of the state (kept by the migration); atOnce are already past and fire the moment the instance migrates ' +
        '(reminders and escalations sent, after: timers fired, due times overdue), soon fall due within `within`; ' +
        'deadlines.atOnce.instances counts the instances that set anything off at once, the kinds count deadlines',
    },
  },
  problems: { 400: 'INVALID_BODY (within)', 404: 'UNKNOWN_PROCEDURE, UNKNOWN_VERSION', 422: 'TOO_MANY' },
  async handle({ params, body, res }, app) {
    const id = params.id ?? '';
    const withinMs = parseHorizon(body.within ?? 'PT1H');
    if (withinMs === undefined)
      throw new ApiProblem(
        400,
        'INVALID_BODY',
        'within must be an ISO-8601 duration of at most 30 days (PT1H, P1D…)',
      );
    const target = await targetOrProblem(app, id, body.to);
    let out;
    try {
      // Every running instance of the procedure, whatever its client: a migration that skipped the
      // clients the admin does not serve would leave the procedure half moved. The rows name no client.
      out = await dryRun(depsOf(app), id, target, undefined, { withinMs });
      out.instances = out.instances.map(({ client: _client, ...row }) => row);
    } catch (err) {
      throw tooMany(err);
    }
    if (body.workflowIds) {
      const picked = new Set(body.workflowIds);
      out.instances = out.instances.filter((i) => picked.has(i.workflowId));
      out.total = out.instances.length;
      ({ counts: out.counts, deadlines: out.deadlines } = summarize(out.instances, withinMs));
    }
    sendJson(res, 200, out);
  },
});

const startRoute = defineRoute({
  method: 'POST',
  path: '/api/definitions/:id/migrations',
  summary:
    'Migrate the running instances of a procedure (or the ones picked) to a deployed version (admin): each is planned again, checked against the new proof and moved by its own `migrate` update between two transitions; runs on the server 8 at a time; poll the job',
  auth: 'admin',
  action: 'migrating instances',
  params: { id: matching(ID) },
  body,
  responses: { 202: { description: '{jobId, total, to: {version, hash}}' } },
  problems: { 404: 'UNKNOWN_PROCEDURE, UNKNOWN_VERSION', 422: 'TOO_MANY', 503: 'BUSY' },
  async handle({ params, body, ip, req, res, session }, app) {
    const id = params.id ?? '';
    const { user } = session;
    const target = await targetOrProblem(app, id, body.to);
    const deps = depsOf(app);
    let rows;
    try {
      rows = await runningInstances(app.client, id);
    } catch (err) {
      throw tooMany(err);
    }
    const picked = body.workflowIds ? new Set(body.workflowIds) : undefined;
    const targets = rows.map((r) => r.workflowId).filter((w) => !picked || picked.has(w));
    const actor = { id: user.id, roles: [...user.roles] };
    const origin = originOf(app, req, ip);
    const versions = new VersionIndex(deps);
    const codes: Record<string, string> = {};
    const act = async (workflowId: string): Promise<BulkResult> => {
      const planned = await planInstance(deps, versions, target, workflowId);
      try {
        const r = await migrateInstance(app.client, actorSigner(), target, planned, actor);
        return { workflowId, ok: true, detail: describeMove(r.from.version, r.to.version, r.plan) };
      } catch (err) {
        if (!(err instanceof MigrationRefusedError)) throw err;
        codes[workflowId] = err.code;
        // The engine's refusals are audited like any refused request; a plan that does not move
        // sent nothing (the summary lists it).
        if (planned.plan.class === 'moves')
          await auditRefusedEvent(origin, actor, workflowId, '$migrate', err, planned.client);
        return { workflowId, ok: false, code: err.code, message: err.message, detail: planned.plan.class };
      }
    };
    let job;
    try {
      job = jobsOf(app).start(user.id, 'migrate', targets, act, async (j) => {
        await app.store.appendAdminRecord({
          kind: 'admin',
          subject: `migration:${j.id}`,
          actorId: user.id,
          body: {
            act: 'migration',
            procedure: id,
            toVersion: target.version,
            toHash: target.hash,
            total: j.total,
            ok: j.ok,
            refused: j.refused,
            refusedIds: j.results
              .filter((r) => !r.ok)
              .map((r) => `${r.workflowId}:${codes[r.workflowId] ?? r.code ?? ''}`),
          },
        });
      });
    } catch (err) {
      if (err instanceof BulkBusy) throw new ApiProblem(503, 'BUSY', err.message);
      throw err;
    }
    sendJson(res, 202, {
      jobId: job.id,
      total: job.total,
      to: { version: target.version, hash: target.hash },
    });
  },
});

const jobRoute = defineRoute({
  method: 'GET',
  path: '/api/definitions/:id/migrations/:job',
  summary: 'A migration batch’s progress and its result per instance (only for the admin who started it)',
  auth: 'admin',
  action: 'migrating instances',
  params: { id: matching(ID), job: { type: 'string', pattern: '^[0-9a-f-]{36}$' } },
  responses: {
    200: { description: '{id, action: migrate, total, done, ok, refused, startedAt, finishedAt?, results}' },
  },
  problems: { 404: 'NOT_FOUND' },
  handle({ params, res, session }, app) {
    const job = jobsOf(app).get(params.job ?? '', session.user.id);
    if (!job || job.action !== 'migrate')
      throw new ApiProblem(404, 'NOT_FOUND', 'no such migration (or not yours, or expired)');
    sendJson(res, 200, job);
    return Promise.resolve();
  },
});

export const migrationRoutes = [dryRunRoute, startRoute, jobRoute];
