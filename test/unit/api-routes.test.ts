/**
 * The route declarations are the one source: the OpenAPI document lists every declared route with
 * the very schemas (patterns included) the router validates against, and the router refuses what
 * a declaration does not allow — without Temporal (requests are refused before any handler runs).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { openApiDocument } from '../../worker/api/openapi.ts';
import type { JsonSchema, Route } from '../../worker/api/route.ts';
import { API_ROUTES } from '../../worker/api/routes/index.ts';
import { createApi, CSRF_HEADER, SESSION_COOKIE, type Api } from '../../worker/api/server.ts';
import type { RecordsStore, User } from '../../worker/records/types.ts';

interface Operation {
  security?: unknown[];
  parameters?: { name?: string; in?: string; required?: boolean; schema?: unknown; $ref?: string }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { description: string }>;
}

const doc = openApiDocument() as { paths: Record<string, Record<string, Operation>> };
const openApiPath = (path: string): string => path.replace(/:([a-zA-Z]+)/g, '{$1}');
const operationOf = (route: Route): Operation | undefined =>
  doc.paths[openApiPath(route.path)]?.[route.method.toLowerCase()];
const queryProperties = (route: Route): [string, JsonSchema][] =>
  route.query && route.query !== 'unchecked' ? Object.entries(route.query.json.properties) : [];
const bodyProperties = (route: Route): [string, JsonSchema][] =>
  route.body ? Object.entries(route.body.json.properties) : [];
const label = (route: Route): string => `${route.method} ${route.path}`;

/** Violates every pattern the API declares (a quote and a line break). */
const BAD = "it's\nbad";

describe('OpenAPI document generated from the route declarations', () => {
  it('has exactly one operation per declared route', () => {
    const ops = Object.entries(doc.paths).flatMap(([p, m]) => Object.keys(m).map((k) => `${k} ${p}`));
    expect(ops.sort()).toEqual(
      API_ROUTES.map((r) => `${r.method.toLowerCase()} ${openApiPath(r.path)}`).sort(),
    );
  });

  it.each(API_ROUTES.map((r) => [label(r), r] as const))('%s: parameters, body and security', (_, route) => {
    const op = operationOf(route)!;
    expect(op.responses).toBeDefined();
    const query = (op.parameters ?? []).filter((p) => p.in === 'query');
    expect(query.map((p) => [p.name, p.schema])).toEqual(queryProperties(route));
    if (route.body) expect(op.requestBody?.content['application/json']?.schema).toEqual(route.body.json);
    else expect(op.requestBody).toBeUndefined();
    expect(op.security).toEqual(route.auth === 'public' ? [] : undefined);
    const csrf = (op.parameters ?? []).some((p) => p.$ref === '#/components/parameters/Csrf');
    expect(csrf).toBe(route.auth !== 'public' && route.method !== 'GET');
    if (route.auth !== 'public') expect(op.responses['401']).toBeDefined();
  });

  it('carries the declared patterns', () => {
    const list = doc.paths['/api/instances']!.get!.parameters!;
    expect(list.find((p) => p.name === 'procedure')?.schema).toEqual({
      type: 'string',
      pattern: "^[^'\\\\\\n\\r]{1,200}$",
    });
    const events = doc.paths['/api/instances/{id}/events']!.post!;
    expect(events.requestBody?.content['application/json']?.schema).toMatchObject({
      required: ['type'],
      additionalProperties: false,
      properties: { type: { pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,99}$' } },
    });
    expect(events.parameters?.find((p) => p.in === 'path')?.schema).toMatchObject({
      pattern: expect.any(String),
    });
    // The engine's refusals, from the rejection-code map.
    expect(events.responses['422']?.description).toContain('BAD_EVENT');
    expect(events.responses['403']?.description).toMatch(/ROLE_NOT_ALLOWED.*DUTY_CONFLICT.*CSRF|CSRF.*ROLE/);
    const patterns = API_ROUTES.flatMap((r) => [...queryProperties(r), ...bodyProperties(r)]).filter(
      ([, s]) => typeof s.pattern === 'string',
    );
    expect(patterns.length).toBeGreaterThan(10);
  });
});

describe('the router enforces the declarations', () => {
  let api: Api;
  let base: string;
  const csrfToken = 't'.repeat(43);
  const user: User = {
    id: 'root',
    displayName: 'Root',
    roles: ['admin', 'quality_manager'],
    clients: [],
    disabled: false,
    createdAt: new Date(0).toISOString(),
  };

  beforeAll(async () => {
    const store = {
      getSession: (id: string) =>
        Promise.resolve({ id, userId: 'root', csrfToken, createdAt: '', expiresAt: '2999-01-01T00:00:00Z' }),
      getUser: () => Promise.resolve(user),
      deleteExpiredSessions: () => Promise.resolve(0),
    } as unknown as RecordsStore;
    api = createApi({ client: {} as Client, store, definitions: new Map(), taskQueue: 'none' });
    base = await api.listen(0);
  });

  afterAll(async () => {
    await api.close();
  });

  async function call(route: Route, query: Record<string, string>, body?: Record<string, unknown>) {
    const path = route.path.replace(/:([a-zA-Z]+)/g, 'x');
    const res = await fetch(`${base}${path}?${new URLSearchParams(query).toString()}`, {
      method: route.method,
      headers: {
        cookie: `${SESSION_COOKIE}=${'s'.repeat(32)}`,
        [CSRF_HEADER]: csrfToken,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as { code: string; errors?: string[] } };
  }

  const queryPatterns = API_ROUTES.flatMap((r) =>
    queryProperties(r)
      .filter(([, s]) => typeof s.pattern === 'string')
      .map(([name, s]) => [`${label(r)} ?${name}`, r, name, s.pattern as string] as const),
  );
  it.each(queryPatterns)('%s violating its pattern: 400 INVALID_QUERY', async (_, route, name, pattern) => {
    expect(new RegExp(pattern).test(BAD)).toBe(false);
    const res = await call(route, { [name]: BAD }, route.body ? {} : undefined);
    expect([res.status, res.body.code]).toEqual([400, 'INVALID_QUERY']);
    expect(res.body.errors).toContain(`/${name}: must match pattern "${pattern}"`);
  });

  const bodyPatterns = API_ROUTES.flatMap((r) =>
    bodyProperties(r)
      .filter(([, s]) => typeof s.pattern === 'string')
      .map(([name, s]) => [`${label(r)} {${name}}`, r, name, s.pattern as string] as const),
  );
  it.each(bodyPatterns)('%s violating its pattern: 400 INVALID_BODY', async (_, route, name, pattern) => {
    expect(new RegExp(pattern).test(BAD)).toBe(false);
    const res = await call(route, {}, { [name]: BAD });
    expect([res.status, res.body.code]).toEqual([400, 'INVALID_BODY']);
    expect(res.body.errors).toContain(`/${name}: must match pattern "${pattern}"`);
  });

  const checked = API_ROUTES.filter((r) => r.query !== 'unchecked').map((r) => [label(r), r] as const);
  it.each(checked)('%s refuses an undeclared parameter', async (_, route) => {
    const res = await call(route, { colour: 'red' }, route.body ? {} : undefined);
    expect([res.status, res.body.code]).toEqual([400, 'UNKNOWN_PARAMETER']);
  });

  it('checks the permission after the query and before the body', async () => {
    const roles = user.roles;
    user.roles = ['project_staff'];
    try {
      const deploy = API_ROUTES.find((r) => r.auth === 'admin')!;
      expect((await call(deploy, { colour: 'red' })).body.code).toBe('UNKNOWN_PARAMETER');
      expect(await call(deploy, {}, { yaml: 5 })).toMatchObject({ status: 403, body: { code: 'NOT_ADMIN' } });
      const verify = API_ROUTES.find((r) => r.auth === 'verifyAuditChain')!;
      const res = await call(verify, {});
      expect(res).toMatchObject({ status: 403, body: { code: 'NOT_ALLOWED' } });
      expect((res.body as { detail?: string }).detail).toMatch(/^verifying the whole audit chain is for /);
    } finally {
      user.roles = roles;
    }
  });

  it('asks for the session before anything else, and the CSRF token when state may change', async () => {
    const res = await fetch(`${base}/api/instances?procedure=${encodeURIComponent(BAD)}`);
    expect(res.status).toBe(401);
    const noCsrf = await fetch(`${base}/api/instances`, {
      method: 'POST',
      headers: { cookie: `${SESSION_COOKIE}=${'s'.repeat(32)}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect([noCsrf.status, ((await noCsrf.json()) as { code: string }).code]).toEqual([403, 'CSRF']);
  });
});
