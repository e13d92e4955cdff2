/**
 * The procedures: what can be started, one definition and its deployed versions, drafts, deploying
 * (a proposal a second admin approves, `../../proposals.ts`), clauses.
 */
import type { LoadedDefinition } from '../../definitions.ts';
import { draftReport, type DraftAssessment } from '../../drafts.ts';
import { DraftPoolBusy, DraftTooCostly } from '../../draft-pool.ts';
import { commitDeployment, DeployRefused } from '../../deploy.ts';
import { prepareProposal, ProposalTooLarge, startProposal } from '../../proposals.ts';
import type { ApiContext } from '../context.ts';
import { ApiProblem, sendJson } from '../http.ts';
import { FILE_NAME, ID, matching, VERSION } from '../patterns.ts';
import { defineRoute, objectSchema } from '../route.ts';

/** A definition draft: `{yaml, file?}` (validate and deploy). */
const draft = objectSchema<{ yaml: string; file?: string }>(
  { yaml: { type: 'string', maxLength: 200_000 }, file: matching(FILE_NAME) },
  ['yaml'],
);
const diagnosticList = { type: 'array', items: { type: 'object' } };

/**
 * Assess a draft on the draft threads (never on the serving thread): a draft whose YAML aliases
 * expand beyond the budget is 422 `DEFINITION_INVALID` with one `YAML_ALIAS_BUDGET` diagnostic, one
 * that runs out of time or memory 422 `DEFINITION_TOO_COSTLY`, a full pool 503 `DRAFTS_BUSY` at once.
 */
async function assessOffThread(app: ApiContext, yaml: string, file: string): Promise<DraftAssessment> {
  try {
    const a = await app.draftPool.assess(yaml, file, app.definitions);
    const bomb = a.diagnostics.find((d) => d.code === 'YAML_ALIAS_BUDGET');
    if (bomb) throw new ApiProblem(422, 'DEFINITION_INVALID', bomb.message, { diagnostics: [bomb] });
    return a;
  } catch (err) {
    throw costProblem(err);
  }
}

/** The pool's refusals as problems; anything else unchanged. */
function costProblem(err: unknown): unknown {
  if (err instanceof DraftTooCostly)
    return new ApiProblem(422, 'DEFINITION_TOO_COSTLY', err.message, { resource: err.resource });
  if (err instanceof DraftPoolBusy)
    return new ApiProblem(503, 'DRAFTS_BUSY', err.message, {}, { 'retry-after': '2' });
  return err;
}

const costProblems = {
  422: 'DEFINITION_INVALID (with `diagnostics`), DEFINITION_TOO_COSTLY (the draft ran out of time or memory; `resource` says which)',
  503: 'DRAFTS_BUSY (too many drafts being assessed; with Retry-After)',
};

function summary(def: LoadedDefinition): Record<string, unknown> {
  return {
    id: def.ir.id,
    version: def.ir.version,
    hash: def.hash,
    title: def.ir.title,
    description: def.ir.description,
    roles: def.ir.roles,
    ...(def.ir.clientField ? { clientField: def.ir.clientField } : {}),
    events: Object.keys(def.ir.events),
  };
}

const list = defineRoute({
  method: 'GET',
  path: '/api/definitions',
  summary: 'The procedures that can be started',
  auth: 'user',
  responses: { 200: { description: 'Definitions' } },
  async handle({ res }, app) {
    const out = [...app.definitions.values()].sort((a, b) => a.ir.id.localeCompare(b.ir.id)).map(summary);
    // `deployment.singleAdmin`: deploys need no second admin (development); the UI warns.
    sendJson(res, 200, { definitions: out, deployment: { singleAdmin: app.singleAdminDeploy } });
  },
});

const one = defineRoute({
  method: 'GET',
  path: '/api/definitions/:id',
  summary: 'One procedure: IR, YAML, deployed versions (or one deployed version with ?version=)',
  auth: 'user',
  params: { id: matching(ID) },
  query: objectSchema<{ version?: string }>({ version: matching(VERSION) }),
  responses: { 200: { description: 'The definition' } },
  problems: { 404: 'UNKNOWN_PROCEDURE, UNKNOWN_VERSION' },
  async handle({ params, query, res }, app) {
    const id = params.id ?? '';
    if (query.version !== undefined) {
      // A deployed version (e.g. the one a running instance pinned), from the records store.
      const v = new RegExp(ID).test(id) ? await app.store.definitionVersion(id, query.version) : undefined;
      if (!v) throw new ApiProblem(404, 'UNKNOWN_VERSION', `no deployed version ${query.version} of "${id}"`);
      const live = app.definitions.get(id);
      sendJson(res, 200, {
        id: v.procedure,
        version: v.version,
        hash: v.hash,
        current: live?.hash === v.hash,
        ir: v.ir,
        yaml: v.yaml,
        deployedBy: v.deployedBy,
        deployedAt: v.deployedAt,
      });
      return;
    }
    const def = app.definitionOf(id);
    const versions = await app.store.definitionVersions(def.ir.id);
    const current = versions.find((v) => v.version === def.ir.version && v.hash === def.hash);
    sendJson(res, 200, {
      ...summary(def),
      ir: def.ir,
      ...(current
        ? { yaml: current.yaml, deployedBy: current.deployedBy, deployedAt: current.deployedAt }
        : {}),
      versions: versions.map((v) => ({
        version: v.version,
        hash: v.hash,
        deployedBy: v.deployedBy,
        deployedAt: v.deployedAt,
      })),
    });
  },
});

const validate = defineRoute({
  method: 'POST',
  path: '/api/definitions/validate',
  summary:
    'Validate a draft definition (admin; schema, semantic checks, all-paths invariant proof, start links)',
  auth: 'admin',
  action: 'validating definitions',
  body: draft,
  responses: {
    200: {
      description: 'The diagnostics (file, line, column, code, message, pointer, hint)',
      schema: {
        type: 'object',
        properties: {
          valid: { type: 'boolean' },
          id: { type: 'string' },
          version: { type: 'string' },
          hash: { type: 'string' },
          diagnostics: diagnosticList,
        },
      },
    },
  },
  problems: costProblems,
  async handle({ body, res }, app) {
    const file = body.file ?? 'draft.yaml';
    // The one draft pipeline (load → check → prove → start targets), as deploy runs it.
    sendJson(res, 200, draftReport(await assessOffThread(app, body.yaml, file)));
  },
});

/** `{yaml, file?, note?}`: a draft to deploy, with the author's note for the reviewer. */
const proposalBody = objectSchema<{ yaml: string; file?: string; note?: string }>(
  {
    yaml: { type: 'string', maxLength: 200_000 },
    file: matching(FILE_NAME),
    note: { type: 'string', maxLength: 2000 },
  },
  ['yaml'],
);

/** A refusal of the draft (nothing started, nothing written) as a problem. */
function refusalProblem(err: unknown): unknown {
  if (err instanceof ProposalTooLarge) return new ApiProblem(413, 'PROPOSAL_TOO_LARGE', err.message);
  if (!(err instanceof DeployRefused)) return costProblem(err);
  const status = err.code === 'DEFINITION_INVALID' ? 422 : 409;
  return new ApiProblem(status, err.code, err.message, { diagnostics: err.diagnostics });
}

const deploy = defineRoute({
  method: 'POST',
  path: '/api/definitions',
  summary:
    'Propose a new version (admin): validated, every invariant proved, start links checked, version new ' +
    'and higher than the current — then a `definition_change` instance that another admin must APPROVE ' +
    '(the approval deploys it). With CUSTODIA_SINGLE_ADMIN_DEPLOY (development) it deploys at once, ' +
    'unless it drops or changes a duty or invariant of the current version',
  auth: 'admin',
  action: 'deploying definitions',
  body: proposalBody,
  responses: {
    202: {
      description:
        'Proposed: {workflowId (the definition_change instance), id, version, sha256, weakened (safeguards the change drops or alters)}',
      schema: {
        type: 'object',
        properties: {
          workflowId: { type: 'string' },
          id: { type: 'string' },
          version: { type: 'string' },
          sha256: { type: 'string' },
          weakened: { type: 'array', items: { type: 'string' } },
        },
      },
    },
    201: {
      description:
        'Deployed at once (single-admin mode only): {id, version, hash, deployedBy, deployedAt, diagnostics (warnings)}',
      schema: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          version: { type: 'string' },
          hash: { type: 'string' },
          deployedBy: { type: 'string' },
          deployedAt: { type: 'string', format: 'date-time' },
          diagnostics: diagnosticList,
        },
      },
    },
  },
  problems: {
    409: 'ALREADY_DEPLOYED (identical), VERSION_EXISTS (other content under that version), VERSION_NOT_NEWER',
    413: 'PROPOSAL_TOO_LARGE (the text is over 100 kB)',
    ...costProblems,
  },
  async handle({ body, req, res, session }, app) {
    const deps = {
      client: app.client,
      store: app.store,
      definitions: app.definitions,
      taskQueue: app.taskQueue,
      assess: app.draftPool.assess,
    };
    let assessed;
    try {
      assessed = await prepareProposal(deps, body.yaml, body.file ?? 'draft.yaml');
    } catch (err) {
      throw refusalProblem(err);
    }
    const author = { id: session.user.id, roles: [...session.user.roles] };
    if (!app.singleAdminDeploy || assessed.weakened.length) {
      const p = await startProposal(deps, body.yaml, assessed, author, body.note);
      sendJson(
        res,
        202,
        {
          workflowId: p.workflowId,
          id: p.procedure,
          version: p.version,
          sha256: p.sha256,
          weakened: p.weakened,
        },
        { location: `/api/instances/${encodeURIComponent(p.workflowId)}` },
      );
      return;
    }
    let deployed;
    try {
      deployed = await commitDeployment(app.store, app.definitions, assessed.prepared, body.yaml, author.id);
    } catch (err) {
      throw refusalProblem(err);
    }
    const { definition: def, version: v } = deployed;
    try {
      await app.onDeployed?.(def);
    } catch (err) {
      // Deployed and current; what follows (schedules) is reported, not undone.
      app.onError(err, req);
    }
    sendJson(
      res,
      201,
      {
        id: v.procedure,
        version: v.version,
        hash: v.hash,
        deployedBy: v.deployedBy,
        deployedAt: v.deployedAt,
        diagnostics: deployed.diagnostics,
      },
      {
        location: `/api/definitions/${encodeURIComponent(v.procedure)}?version=${encodeURIComponent(v.version)}`,
      },
    );
  },
});

const clauses = defineRoute({
  method: 'GET',
  path: '/api/clauses',
  summary: 'The clauses of the procedure text (zh authoritative, en translation)',
  auth: 'user',
  responses: { 200: { description: '{clauses: [{id, section, zh, en, parent?, heading?}]}' } },
  async handle({ res }, app) {
    sendJson(res, 200, { clauses: app.clauses });
  },
});

export const definitionRoutes = [list, one, validate, deploy, clauses];
