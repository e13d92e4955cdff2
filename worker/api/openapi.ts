/** The hand-written OpenAPI 3.1 description of the HTTP API, served at `/api/openapi.json`. */

const problem = { $ref: '#/components/responses/Problem' };
const json = (schema: object): object => ({ 'application/json': { schema } });
const ok = (description: string, schema: object = { type: 'object' }): object => ({
  description,
  content: json(schema),
});
const errors = (...codes: number[]): Record<string, object> =>
  Object.fromEntries(codes.map((c) => [String(c), problem]));
const csrf = { $ref: '#/components/parameters/Csrf' };
/** A definition draft: `{yaml, file?}` (validate and deploy). */
const draftBody = {
  required: true,
  content: json({
    type: 'object',
    required: ['yaml'],
    properties: { yaml: { type: 'string', maxLength: 200000 }, file: { type: 'string' } },
    additionalProperties: false,
  }),
};
const instanceId = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

export function openApiDocument(): object {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Custodia API',
      version: '0.1.0',
      description:
        'Procedures as durable Temporal workflows. Sign in with POST /api/session (a session cookie ' +
        'plus a CSRF token); send the token as X-CSRF-Token on every POST/PUT/PATCH/DELETE. Staff whose ' +
        'roles are not quality_manager or general_manager see and act on their assigned clients only; ' +
        'other clients’ instances answer 404. Every error is application/problem+json with a stable `code`.',
    },
    servers: [{ url: '/' }],
    security: [{ session: [] }],
    paths: {
      '/api/session': {
        post: {
          summary: 'Sign in',
          security: [],
          requestBody: {
            required: true,
            content: json({
              type: 'object',
              required: ['id', 'password'],
              properties: { id: { type: 'string' }, password: { type: 'string' } },
              additionalProperties: false,
            }),
          },
          responses: {
            '201': ok('Signed in; the session cookie is set', { $ref: '#/components/schemas/Me' }),
            ...errors(400, 401, 413, 415, 429),
          },
        },
        delete: {
          summary: 'Sign out',
          parameters: [csrf],
          responses: { '204': { description: 'Signed out' }, ...errors(401, 403) },
        },
      },
      '/api/auth': {
        get: {
          summary: 'How to sign in (no session needed): {password: true, oidc?: {label, loginUrl}}',
          responses: { '200': ok('Sign-in methods') },
        },
      },
      '/api/oidc/login': {
        get: {
          summary: 'Begin sign-in at the OpenID Connect provider (302 there); returnTo: a path on this site',
          parameters: [{ name: 'returnTo', in: 'query', schema: { type: 'string' } }],
          responses: { '302': { description: 'To the provider' }, ...errors(400, 404, 503) },
        },
      },
      '/api/oidc/callback': {
        get: {
          summary:
            "The provider's redirect back: checks state, code (PKCE) and ID token, signs the directory user in, 302 to returnTo",
          responses: {
            '302': { description: 'Signed in (or, with the UI, back to it with ?signinError=CODE)' },
            ...errors(401, 403, 404, 503),
          },
        },
      },
      '/api/me': {
        get: {
          summary: 'The signed-in user and the CSRF token',
          responses: { '200': ok('The user', { $ref: '#/components/schemas/Me' }), ...errors(401) },
        },
      },
      '/api/definitions': {
        get: {
          summary: 'The procedures that can be started',
          responses: { '200': ok('Definitions'), ...errors(401) },
        },
        post: {
          summary:
            'Deploy a new version (admin): validated, every invariant proved, start links checked, ' +
            'version new and higher than the current; immutable once deployed; running instances keep theirs',
          parameters: [csrf],
          requestBody: draftBody,
          responses: {
            '201': ok('Deployed: {id, version, hash, deployedBy, deployedAt, diagnostics (warnings)}', {
              type: 'object',
              properties: {
                id: { type: 'string' },
                version: { type: 'string' },
                hash: { type: 'string' },
                deployedBy: { type: 'string' },
                deployedAt: { type: 'string', format: 'date-time' },
                diagnostics: { type: 'array', items: { type: 'object' } },
              },
            }),
            '409': {
              description:
                'ALREADY_DEPLOYED (identical), VERSION_EXISTS (other content under that version), VERSION_NOT_NEWER',
            },
            '422': {
              description: 'DEFINITION_INVALID, with `diagnostics` (file, line, column, code, message)',
            },
            ...errors(400, 401, 403, 413, 415),
          },
        },
      },
      '/api/audit/verify': {
        get: {
          summary:
            'Recompute the hash chain (quality manager, general manager, admin): ok, records checked, head, problems',
          responses: { '200': ok('{backend, ok, checked, head, problems, truncated}'), ...errors(401, 403) },
        },
      },
      '/api/clauses': {
        get: {
          summary: 'The clauses of the procedure text (zh authoritative, en translation)',
          responses: {
            '200': ok('{clauses: [{id, section, zh, en, parent?, heading?}]}'),
            ...errors(401),
          },
        },
      },
      '/api/definitions/{id}': {
        get: {
          summary: 'One procedure: IR, YAML, deployed versions (or one deployed version with ?version=)',
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'version', in: 'query', schema: { type: 'string' } },
          ],
          responses: { '200': ok('The definition'), ...errors(401, 404) },
        },
      },
      '/api/definitions/validate': {
        post: {
          summary: 'Validate a draft definition (schema, semantic checks, all-paths invariant proof)',
          parameters: [csrf],
          requestBody: draftBody,
          responses: {
            '200': ok('The diagnostics (file, line, column, code, message, pointer, hint)', {
              type: 'object',
              properties: {
                valid: { type: 'boolean' },
                id: { type: 'string' },
                version: { type: 'string' },
                hash: { type: 'string' },
                diagnostics: { type: 'array', items: { type: 'object' } },
              },
            }),
            ...errors(400, 401, 403, 413, 415),
          },
        },
      },
      '/api/instances': {
        post: {
          summary: 'Start an instance (the starter is the signed-in user)',
          parameters: [csrf],
          requestBody: {
            required: true,
            content: json({
              type: 'object',
              required: ['procedure'],
              properties: { procedure: { type: 'string' }, input: { type: 'object' } },
              additionalProperties: false,
            }),
          },
          responses: {
            '201': ok('Started', {
              type: 'object',
              properties: {
                workflowId: { type: 'string' },
                procedure: { type: 'string' },
                version: { type: 'string' },
                hash: { type: 'string' },
              },
            }),
            ...errors(400, 401, 403, 404, 413, 415, 422),
          },
        },
        get: {
          summary: 'List instances (Temporal visibility)',
          parameters: [
            ...['procedure', 'version', 'state', 'client', 'awaiting'].map((name) => ({
              name,
              in: 'query',
              schema: { type: 'string' },
            })),
            { name: 'overdue', in: 'query', schema: { type: 'boolean' } },
            {
              name: 'all',
              in: 'query',
              schema: { type: 'boolean' },
              description: 'include closed instances',
            },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500 } },
            { name: 'pageToken', in: 'query', schema: { type: 'string' } },
          ],
          responses: {
            '200': ok('A page of instances', {
              type: 'object',
              properties: {
                instances: { type: 'array', items: { $ref: '#/components/schemas/InstanceRow' } },
                nextPageToken: { type: 'string' },
              },
            }),
            ...errors(400, 401),
          },
        },
      },
      '/api/instances/{id}': {
        get: {
          summary:
            'An instance’s snapshot (state, context, available events, availableToMyRoles, transition log)',
          parameters: [instanceId],
          responses: { '200': ok('The snapshot'), ...errors(401, 404) },
        },
      },
      '/api/instances/{id}/events': {
        post: {
          summary: 'Send an event as the signed-in user (the workflow’s `event` update)',
          parameters: [instanceId, csrf],
          requestBody: {
            required: true,
            content: json({
              type: 'object',
              required: ['type'],
              properties: { type: { type: 'string' }, data: { type: 'object' } },
              additionalProperties: false,
            }),
          },
          responses: {
            '200': ok('Accepted: the new state and the events this user may send now'),
            '403': {
              description: 'ROLE_NOT_ALLOWED, DUTY_CONFLICT (engine) or CSRF',
              content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
            },
            '409': {
              description: 'CANNOT_TAKE, GUARD_FALSE, INSTANCE_FINISHED',
              content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
            },
            '422': {
              description: 'INVALID_DATA, UNKNOWN_EVENT',
              content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
            },
            ...errors(400, 401, 404, 413, 415),
          },
        },
      },
      '/api/inbox': {
        get: {
          summary: 'Running instances awaiting one of my roles, overdue first then oldest deadline',
          parameters: [{ name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500 } }],
          responses: { '200': ok('Tasks'), ...errors(400, 401) },
        },
      },
      '/api/stalled': {
        get: {
          summary:
            'One page of running instances past their SLA or idle longer than `idle` (default P3D), worst first within the page',
          parameters: [
            { name: 'idle', in: 'query', schema: { type: 'string' }, description: 'ISO-8601 duration' },
            { name: 'procedure', in: 'query', schema: { type: 'string' } },
            { name: 'state', in: 'query', schema: { type: 'string' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500 } },
            { name: 'pageToken', in: 'query', schema: { type: 'string' } },
          ],
          responses: {
            '200': ok('Stalled instances with idleMs, overdueMs and who is awaited; nextPageToken'),
            ...errors(400, 401),
          },
        },
      },
      '/api/stalled/counts': {
        get: {
          summary: 'Exact counts of stalled instances per procedure and leaf state (count queries)',
          parameters: [{ name: 'idle', in: 'query', schema: { type: 'string' } }],
          responses: {
            '200': ok('{idle, at, total, groups: [{procedure, state, count, overdue}]}'),
            ...errors(400, 401),
          },
        },
      },
      '/api/audit': {
        get: {
          summary: 'Audit records of one instance or one client (exactly one of workflowId, client)',
          parameters: [
            { name: 'workflowId', in: 'query', schema: { type: 'string' } },
            { name: 'client', in: 'query', schema: { type: 'string' } },
            { name: 'format', in: 'query', schema: { enum: ['json', 'csv'] } },
          ],
          responses: {
            '200': {
              description: 'The records in chain order',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: { entries: { type: 'array', items: { type: 'object' } } },
                  },
                },
                'text/csv': { schema: { type: 'string' } },
              },
            },
            ...errors(400, 401, 404),
          },
        },
      },
      '/api/openapi.json': {
        get: { summary: 'This document', security: [], responses: { '200': ok('OpenAPI 3.1') } },
      },
    },
    components: {
      securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'custodia_session' } },
      parameters: {
        Csrf: { name: 'X-CSRF-Token', in: 'header', required: true, schema: { type: 'string' } },
      },
      responses: {
        Problem: {
          description: 'A problem (RFC 9457)',
          content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
        },
      },
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'detail', 'code'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            code: { type: 'string' },
            errors: { type: 'array', items: {} },
          },
        },
        Me: {
          type: 'object',
          properties: {
            user: {
              type: 'object',
              properties: {
                id: { type: 'string' },
                displayName: { type: 'string' },
                roles: { type: 'array', items: { type: 'string' } },
                clients: { type: 'array', items: { type: 'string' } },
              },
            },
            csrfToken: { type: 'string' },
            expiresAt: { type: 'string', format: 'date-time' },
          },
        },
        InstanceRow: {
          type: 'object',
          properties: {
            workflowId: { type: 'string' },
            status: { type: 'string' },
            procedure: { type: 'string' },
            version: { type: 'string' },
            client: { type: 'string' },
            state: { type: 'array', items: { type: 'string' } },
            awaiting: { type: 'array', items: { type: 'string' } },
            stateSince: { type: 'string', format: 'date-time' },
            dueAt: { type: 'string', format: 'date-time' },
            overdue: { type: 'boolean' },
          },
        },
      },
    },
  };
}
