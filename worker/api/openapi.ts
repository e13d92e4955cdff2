/**
 * The OpenAPI 3.1 description of the HTTP API, served at `/api/openapi.json` — generated from the
 * route declarations (`routes/`): paths, methods, path and query parameters with the schemas the
 * router validates against, request bodies, who may call, and the problems each route answers.
 */
import { PERMISSIONS } from '../access.ts';
import { API_ROUTES } from './routes/index.ts';
import { needsCsrf, permissionOf, type JsonSchema, type ResponseDoc, type Route } from './route.ts';
import { pathKeys } from './router.ts';

const PROBLEM_CONTENT = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };

/** The problems the router itself answers for a route (from its declaration), by status. */
function routerProblems(route: Route): Record<number, string[]> {
  const out: Record<number, string[]> = {};
  const add = (status: number, codes: string): void => {
    (out[status] ??= []).push(codes);
  };
  if (route.query !== 'unchecked') add(400, 'INVALID_QUERY, UNKNOWN_PARAMETER');
  if (route.body) {
    add(400, 'BODY_REQUIRED, MALFORMED_JSON, TOO_DEEP, INVALID_BODY, UNKNOWN_FIELD');
    add(413, 'BODY_TOO_LARGE');
    add(415, 'UNSUPPORTED_MEDIA_TYPE');
  }
  if (route.auth !== 'public') add(401, 'UNAUTHENTICATED');
  if (needsCsrf(route)) add(403, 'CSRF');
  const permission = permissionOf(route);
  if (permission) add(403, PERMISSIONS[permission].code);
  return out;
}

function responses(route: Route): Record<string, object> {
  const out: Record<string, object> = {};
  for (const [status, doc] of Object.entries(route.responses) as [string, ResponseDoc][]) {
    const content: Record<string, object> = {};
    if (doc.schema) content['application/json'] = { schema: doc.schema };
    for (const [type, schema] of Object.entries(doc.alsoAs ?? {})) content[type] = { schema };
    out[status] = { description: doc.description, ...(Object.keys(content).length ? { content } : {}) };
  }
  const problems = routerProblems(route);
  for (const [status, codes] of Object.entries(route.problems ?? {}))
    (problems[Number(status)] ??= []).push(codes);
  for (const status of Object.keys(problems).sort())
    out[status] = { description: (problems[Number(status)] ?? []).join('; '), content: PROBLEM_CONTENT };
  return out;
}

function parameters(route: Route): object[] {
  const params: object[] = pathKeys(route.path).map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: route.params?.[name] ?? { type: 'string' },
  }));
  if (route.query && route.query !== 'unchecked') {
    const { properties, required = [] } = route.query.json;
    for (const [name, schema] of Object.entries(properties))
      params.push({
        name,
        in: 'query',
        ...(required.includes(name) ? { required: true } : {}),
        schema: schema satisfies JsonSchema,
      });
  }
  if (needsCsrf(route)) params.push({ $ref: '#/components/parameters/Csrf' });
  return params;
}

/** The OpenAPI operation of one route. */
function operation(route: Route): object {
  const permission = permissionOf(route);
  const params = parameters(route);
  return {
    summary: route.summary,
    ...(permission ? { description: `Only for ${PERMISSIONS[permission].holders}.` } : {}),
    ...(route.auth === 'public' ? { security: [] } : {}),
    ...(permission ? { 'x-custodia-permission': permission } : {}),
    ...(params.length ? { parameters: params } : {}),
    ...(route.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: route.body.json } } } }
      : {}),
    responses: responses(route),
  };
}

/** The document for these routes (default: every route the API serves). */
export function openApiDocument(routes: readonly Route[] = API_ROUTES): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([a-zA-Z]+)/g, '{$1}');
    (paths[path] ??= {})[route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Custodia API',
      version: '0.1.0',
      description:
        'Procedures as durable Temporal workflows. Sign in with POST /api/session (a session cookie ' +
        'plus a CSRF token); send the token as X-CSRF-Token on every POST/PUT/PATCH/DELETE. Staff who ' +
        'do not see every client see and act on their assigned clients only; other clients’ instances ' +
        'answer 404. Every error is application/problem+json with a stable `code`. Bodies and queries ' +
        'with fields not listed here are refused.',
    },
    servers: [{ url: '/' }],
    security: [{ session: [] }],
    paths,
    components: COMPONENTS,
  };
}

const COMPONENTS = {
  securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'custodia_session' } },
  parameters: {
    Csrf: { name: 'X-CSRF-Token', in: 'header', required: true, schema: { type: 'string' } },
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
            permissions: {
              type: 'array',
              items: { type: 'string' },
              description: 'what the user may do beyond signing in (admin, verifyAuditChain, dashboard)',
            },
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
};
