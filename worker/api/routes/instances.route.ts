/** Instances: start one, list them (Temporal visibility), one's snapshot, and sending it an event. */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Json } from '../../../workflows/core/ir.ts';
import { REJECTION_CODES, rejectionMessage, type RejectionCode } from '../../../workflows/core/rejections.ts';
import { formatProblems } from '../../../workflows/core/schemas.ts';
import { startRefusal } from '../../../workflows/core/start-fields.ts';
import { mayAccessClient } from '../../access.ts';
import { actorSigner } from '../../actor-keys.ts';
import { EventRejected, getSnapshot, sendEvent, signedEvent, startProcedure } from '../../instances.ts';
import { auditRefusedEvent } from '../audit-events.ts';
import { resolveAttachments } from '../../attachments/service.ts';
import { DEFINITION_CHANGE, PROPOSED_THROUGH_DEPLOY } from '../../proposals.ts';
import { requestLanguage } from '../language.ts';
import { buildListQuery, quote } from '../../visibility.ts';
import { ApiProblem, sendJson } from '../http.ts';
import { EVENT, ID, KEYWORD, LIMIT, LIST_KEYWORD, matching, PAGE_TOKEN } from '../patterns.ts';
import { defineRoute, objectSchema } from '../route.ts';
import { originOf } from './session.route.ts';
import type { ApiContext } from '../context.ts';
import type { Actor } from '../../../workflows/core/ir.ts';
import type { AssignResult } from '../../../workflows/api.ts';
import { ASSIGN_EVENT } from '../../../workflows/core/assignment.ts';
import { AssignmentRejected, assignTask, directoryAssignee, signedAssignment } from '../../assignment.ts';

/** The engine's refusal of an event → the HTTP status it is answered with. */
export const REJECTION_STATUS: Record<RejectionCode, number> = {
  ROLE_NOT_ALLOWED: 403,
  DUTY_CONFLICT: 403,
  INVALID_DATA: 422,
  UNKNOWN_EVENT: 422,
  BAD_ACTOR: 422,
  BAD_EVENT: 422,
  CANNOT_TAKE: 409,
  GUARD_FALSE: 409,
  INSTANCE_FINISHED: 409,
  NOT_ASSIGNEE: 403,
  ASSIGNMENT_CONFLICT: 409,
  ASSIGNMENT_NOT_ALLOWED: 403,
  ASSIGNEE_NOT_QUALIFIED: 422,
  BAD_ASSIGNMENT: 422,
  BAD_ATTACHMENT: 422,
  ATTACHMENT_REQUIRED: 422,
};

const isRejectionCode = (code: string): code is RejectionCode =>
  (REJECTION_CODES as readonly string[]).includes(code);

/** The rejection codes answered with each status, for the OpenAPI document. */
function rejectionsByStatus(): Record<number, string> {
  const out: Record<number, string> = {};
  for (const code of REJECTION_CODES) {
    const status = REJECTION_STATUS[code];
    out[status] = out[status] ? `${out[status]}, ${code}` : code;
  }
  return out;
}

const instanceId = { id: matching(ID) };
const finished = (): ApiProblem =>
  new ApiProblem(409, 'INSTANCE_FINISHED', 'this instance has finished; it takes no events');

const start = defineRoute({
  method: 'POST',
  path: '/api/instances',
  summary: 'Start an instance (the starter is the signed-in user)',
  auth: 'user',
  body: objectSchema<{ procedure: string; input?: Record<string, Json> }>(
    { procedure: matching(ID), input: { type: 'object' } },
    ['procedure'],
  ),
  responses: {
    201: {
      description: 'Started',
      schema: {
        type: 'object',
        properties: {
          workflowId: { type: 'string' },
          procedure: { type: 'string' },
          version: { type: 'string' },
          hash: { type: 'string' },
        },
      },
    },
  },
  problems: {
    403: "CLIENT_NOT_ASSIGNED, CLIENT_REQUIRED (an instance you could not see afterwards), PROPOSED_THROUGH_DEPLOY, START_ROLE_REQUIRED (the definition's `start.roles`)",
    404: 'UNKNOWN_PROCEDURE',
    422: 'INVALID_INPUT, NOT_INPUT_FIELD (the input sets a field not declared `input: true`)',
  },
  async handle({ body, res, session }, app) {
    const def = app.definitionOf(body.procedure);
    // Its context (diff, proofs) is computed by the deploy route, never taken from a caller.
    if (def.ir.id === DEFINITION_CHANGE)
      throw new ApiProblem(403, 'PROPOSED_THROUGH_DEPLOY', PROPOSED_THROUGH_DEPLOY);
    const input = body.input ?? {};
    const refusal = startRefusal(def.ir, input, { id: session.user.id, roles: [...session.user.roles] });
    if (refusal?.code === 'NOT_INPUT_FIELD')
      throw new ApiProblem(422, 'NOT_INPUT_FIELD', refusal.message, { fields: refusal.fields });
    if (refusal) throw new ApiProblem(403, 'START_ROLE_REQUIRED', refusal.message, { roles: refusal.roles });
    const problems = app.schemasOf(def).startInputProblems(input);
    if (problems.length)
      throw new ApiProblem(422, 'INVALID_INPUT', `start input rejected: ${formatProblems(problems)}`, {
        errors: problems,
      });
    const value = def.ir.clientField ? input[def.ir.clientField] : undefined;
    const c = typeof value === 'string' && value ? value : undefined;
    // Only what the starter may then see (access.ts).
    if (!app.mayAccess(session.user, { ...(c ? { client: c } : {}), procedure: def.ir.id }))
      throw c
        ? new ApiProblem(403, 'CLIENT_NOT_ASSIGNED', `you are not assigned to client "${c}"`)
        : new ApiProblem(
            403,
            'CLIENT_REQUIRED',
            'an instance without a client is visible only to roles that see every client; give its client',
          );
    const workflowId = await startProcedure(app.client, def, {
      context: input,
      starter: { id: session.user.id, roles: [...session.user.roles] },
      taskQueue: app.taskQueue,
    });
    sendJson(
      res,
      201,
      { workflowId, procedure: def.ir.id, version: def.ir.version, hash: def.hash },
      { location: `/api/instances/${encodeURIComponent(workflowId)}` },
    );
  },
});

interface ListQuery {
  procedure?: string;
  version?: string;
  state?: string;
  client?: string;
  awaiting?: string;
  overdue?: boolean;
  all?: boolean;
  ids?: string;
  limit?: number;
  pageToken?: string;
}

/** Comma-separated workflow ids (the instances behind a dashboard chart), at most 200. */
const IDS = `^${ID.slice(1, -1)}(,${ID.slice(1, -1)}){0,199}$`;

const list = defineRoute({
  method: 'GET',
  path: '/api/instances',
  summary: 'List instances (Temporal visibility)',
  auth: 'user',
  query: objectSchema<ListQuery>({
    procedure: matching(KEYWORD),
    version: matching(KEYWORD),
    state: matching(LIST_KEYWORD),
    client: matching(KEYWORD),
    awaiting: matching(LIST_KEYWORD),
    overdue: { type: 'boolean' },
    all: { type: 'boolean', description: 'include closed instances' },
    ids: matching(IDS, 'only these workflow ids (comma-separated, at most 200)'),
    limit: LIMIT,
    pageToken: matching(PAGE_TOKEN),
  }),
  responses: {
    200: {
      description: 'A page of instances',
      schema: {
        type: 'object',
        properties: {
          instances: { type: 'array', items: { $ref: '#/components/schemas/InstanceRow' } },
          nextPageToken: { type: 'string' },
        },
      },
    },
  },
  problems: { 400: 'INVALID_PAGE_TOKEN' },
  async handle({ query, res, session }, app) {
    if (query.client && !mayAccessClient(session.user, query.client)) {
      sendJson(res, 200, { instances: [] });
      return;
    }
    const { limit, pageToken, ids, ...filter } = query;
    const parts = [buildListQuery(filter)];
    if (ids) parts.push(`WorkflowId IN (${ids.split(',').map(quote).join(', ')})`);
    const iso = app.isolation(session.user);
    if (iso) parts.push(iso);
    const page = await app.pageOf(parts.join(' AND '), limit ?? 50, pageToken);
    sendJson(res, 200, {
      instances: page.rows,
      ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
    });
  },
});

const snapshot = defineRoute({
  method: 'GET',
  path: '/api/instances/:id',
  summary:
    'An instance’s snapshot (state, context, available events, availableToMyRoles, assignees and tasks, transition log)',
  auth: 'user',
  params: instanceId,
  responses: { 200: { description: 'The snapshot' } },
  problems: { 404: 'NOT_FOUND' },
  async handle({ params, res, session }, app) {
    const workflowId = params.id ?? '';
    await app.accessibleInstance(session.user, workflowId);
    const snap = await getSnapshot(app.client, workflowId);
    // The events this user's roles may send now, before separation-of-duty rules (which depend on
    // who did what; the workflow applies them when an event is sent, and its answer lists them).
    const mine = new Set(session.user.roles.flatMap((r) => snap.available[r] ?? []));
    // Less the events of tasks someone else holds (or that must be claimed first).
    const blocked = new Set<string>();
    const open = new Set<string>();
    for (const t of snap.tasks ?? []) {
      const others = t.assignee ? t.assignee !== session.user.id : t.assignment === 'required';
      for (const e of t.events) (others ? blocked : open).add(e);
    }
    const availableToMyRoles = [...mine].filter((e) => !blocked.has(e) || open.has(e)).sort();
    sendJson(res, 200, { workflowId, ...snap, availableToMyRoles });
  },
});

const send = defineRoute({
  method: 'POST',
  path: '/api/instances/:id/events',
  summary: 'Send an event as the signed-in user (the workflow’s `event` update)',
  auth: 'user',
  params: instanceId,
  body: objectSchema<{ type: string; data?: Record<string, Json> }>(
    { type: matching(EVENT), data: { type: 'object' } },
    ['type'],
  ),
  responses: { 200: { description: 'Accepted: the new state and the events this user may send now' } },
  problems: {
    ...rejectionsByStatus(),
    404: 'NOT_FOUND',
    422: `${rejectionsByStatus()[422] ?? ''}, UNKNOWN_ATTACHMENT`,
  },
  async handle({ body, ip, params, req, res, session }, app) {
    const workflowId = params.id ?? '';
    const inst = await app.accessibleInstance(session.user, workflowId);
    if (!inst.running) throw finished();
    const actor = { id: session.user.id, roles: [...session.user.roles] };
    // Files named in data.attachments: held by this instance, or 422 before anything is sent.
    const data = await resolveAttachments(app.store, actorSigner(), workflowId, body.data);
    try {
      // Signed for the signed-in user and this instance: the engine verifies who acts.
      const event = signedEvent(actorSigner(), workflowId, {
        type: body.type,
        ...(data ? { data } : {}),
        actor,
      });
      const result = await sendEvent(app.client, workflowId, event);
      await app.viewIndex.touch(workflowId);
      sendJson(res, 200, result);
    } catch (err) {
      if (err instanceof EventRejected) {
        await auditRefusedEvent(originOf(app, req, ip), actor, workflowId, body.type, err, inst.client);
        // The engine's message in the asker's language (the audit keeps the English one).
        throw new ApiProblem(
          isRejectionCode(err.code) ? REJECTION_STATUS[err.code] : 409,
          err.code,
          rejectionMessage({ message: err.message, zh: err.zh ?? '' }, requestLanguage(req)),
        );
      }
      if (err instanceof WorkflowNotFoundError) throw finished();
      throw err;
    }
  },
});

interface AssignmentBody {
  state?: string;
  assignee: string | null;
}

const assignment = defineRoute({
  method: 'POST',
  path: '/api/instances/:id/assignment',
  summary:
    'Claim, release, delegate or assign the task of an active state (the workflow’s `assign` update); `assignee: null` leaves it unassigned',
  auth: 'user',
  params: instanceId,
  body: objectSchema<AssignmentBody>(
    {
      state: matching(LIST_KEYWORD),
      assignee: { anyOf: [{ type: 'string', minLength: 1, maxLength: 128 }, { type: 'null' }] },
    },
    ['assignee'],
  ),
  responses: { 200: { description: 'Assigned: {state, from, to, act, changed, seq, assignees}' } },
  problems: {
    ...rejectionsByStatus(),
    404: 'NOT_FOUND',
    422: `${rejectionsByStatus()[422]}, ASSIGNEE_UNKNOWN, ASSIGNEE_DISABLED, ASSIGNEE_NOT_QUALIFIED (not assigned to the instance’s client)`,
  },
  async handle({ body, ip, params, req, res, session }, app) {
    const workflowId = params.id ?? '';
    const inst = await app.accessibleInstance(session.user, workflowId);
    if (!inst.running) throw finished();
    const actor = { id: session.user.id, roles: [...session.user.roles] };
    try {
      const result = await assignOne(app, workflowId, inst, actor, body);
      await app.viewIndex.touch(workflowId);
      sendJson(res, 200, result);
    } catch (err) {
      if (err instanceof AssignmentRejected) {
        await auditRefusedEvent(originOf(app, req, ip), actor, workflowId, ASSIGN_EVENT, err, inst.client);
        throw new ApiProblem(
          isRejectionCode(err.code) ? REJECTION_STATUS[err.code] : 422,
          err.code,
          err.message,
        );
      }
      if (err instanceof WorkflowNotFoundError) throw finished();
      throw err;
    }
  },
});

/**
 * One assignment as `actor`: the assignee looked up in the directory (unknown, disabled, or not
 * allowed to see the instance's client → `AssignmentRejected`), then the signed `assign` update.
 */
export async function assignOne(
  app: ApiContext,
  workflowId: string,
  inst: { client?: string },
  actor: Actor,
  body: AssignmentBody,
): Promise<AssignResult> {
  let assignee: Actor | undefined;
  let assigneeId = body.assignee;
  if (assigneeId !== null) {
    const user = await directoryAssignee(app.store, assigneeId);
    assigneeId = user.id;
    if (inst.client !== undefined && !mayAccessClient(user, inst.client))
      throw new AssignmentRejected(
        `${user.id} is not assigned to client "${inst.client}" and may not see this instance`,
        'ASSIGNEE_NOT_QUALIFIED',
      );
    assignee = { id: user.id, roles: [...user.roles] };
  }
  const input = signedAssignment(
    actorSigner(),
    workflowId,
    { ...(body.state !== undefined ? { state: body.state } : {}), assignee: assigneeId, actor },
    assignee,
  );
  return assignTask(app.client, workflowId, input);
}

const candidates = defineRoute({
  method: 'GET',
  path: '/api/instances/:id/candidates',
  summary:
    'Who each active task could be assigned to: enabled users holding a role it awaits and seeing the instance’s client (the engine still checks separation of duties)',
  auth: 'user',
  params: instanceId,
  responses: {
    200: { description: '{tasks: [{state, roles, assignee?, candidates: [{id, displayName}]}]}' },
  },
  problems: { 404: 'NOT_FOUND' },
  async handle({ params, res, session }, app) {
    const workflowId = params.id ?? '';
    const inst = await app.accessibleInstance(session.user, workflowId);
    const snap = await getSnapshot(app.client, workflowId);
    const users = (await app.store.listUsers()).filter(
      (u) => !u.disabled && (inst.client === undefined || mayAccessClient(u, inst.client)),
    );
    const tasks = (snap.tasks ?? []).map((t) => ({
      ...t,
      candidates: users
        .filter((u) => u.roles.some((r) => t.roles.includes(r)))
        .map((u) => ({ id: u.id, displayName: u.displayName })),
    }));
    sendJson(res, 200, { tasks });
  },
});

export const instanceRoutes = [start, list, snapshot, send, assignment, candidates];
