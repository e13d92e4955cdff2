/** The API's HTTP plumbing without a server: settings from env, cookies, queries, validators, OpenAPI. */
import { describe, expect, it } from 'vitest';
import { httpSettings } from '../../worker/api/listen.ts';
import {
  ApiProblem,
  bodyValidator,
  parseCookies,
  parseQuery,
  queryValidator,
} from '../../worker/api/http.ts';
import { openApiDocument } from '../../worker/api/openapi.ts';

function problemOf(fn: () => unknown): ApiProblem {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiProblem);
    return err as ApiProblem;
  }
  throw new Error('no problem raised');
}

describe('API http helpers', () => {
  it('reads the port, host and cookie security from the environment', () => {
    expect(httpSettings({})).toEqual({ port: 8080, host: '127.0.0.1', secureCookies: false });
    expect(
      httpSettings({ CUSTODIA_HTTP_PORT: '0', CUSTODIA_HTTP_HOST: '0.0.0.0', CUSTODIA_SECURE_COOKIES: '1' }),
    ).toEqual({ port: 0, host: '0.0.0.0', secureCookies: true });
    expect(() => httpSettings({ CUSTODIA_HTTP_PORT: 'http' })).toThrow(/CUSTODIA_HTTP_PORT/);
    expect(() => httpSettings({ CUSTODIA_HTTP_PORT: '70000' })).toThrow(/CUSTODIA_HTTP_PORT/);
    expect(() => httpSettings({ CUSTODIA_SECURE_COOKIES: 'yes please' })).toThrow(/CUSTODIA_SECURE_COOKIES/);
  });

  it('parses cookies (first one wins) and refuses repeated query parameters', () => {
    const c = parseCookies('a=1; custodia_session=abc; custodia_session=evil; junk');
    expect(c.get('custodia_session')).toBe('abc');
    expect(c.get('a')).toBe('1');
    expect(parseCookies(undefined).size).toBe(0);
    expect(parseQuery(new URLSearchParams('x=1&y=2'))).toEqual({ x: '1', y: '2' });
    expect(problemOf(() => parseQuery(new URLSearchParams('x=1&x=2'))).code).toBe('INVALID_QUERY');
  });

  it('validates bodies and queries, naming unknown fields', () => {
    const body = bodyValidator<{ type: string }>({
      type: 'object',
      required: ['type'],
      properties: { type: { type: 'string' } },
      additionalProperties: false,
    });
    expect(body({ type: 'A' })).toEqual({ type: 'A' });
    const unknown = problemOf(() => body({ type: 'A', actor: { id: 'x' } }));
    expect([unknown.status, unknown.code]).toEqual([400, 'UNKNOWN_FIELD']);
    expect(unknown.message).toContain('unknown field "actor"');
    expect(problemOf(() => body({ type: 5 })).code).toBe('INVALID_BODY');

    const query = queryValidator<{ limit?: number; overdue?: boolean }>({
      type: 'object',
      properties: { limit: { type: 'integer', minimum: 1 }, overdue: { type: 'boolean' } },
      additionalProperties: false,
    });
    expect(query({ limit: '5', overdue: 'true' })).toEqual({ limit: 5, overdue: true });
    expect(problemOf(() => query({ limit: 'x' })).code).toBe('INVALID_QUERY');
    expect(problemOf(() => query({ colour: 'red' })).code).toBe('UNKNOWN_PARAMETER');
  });

  it('describes every route in the OpenAPI document', () => {
    const doc = openApiDocument() as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    const ops = Object.entries(doc.paths).flatMap(([p, m]) =>
      Object.keys(m).map((k) => `${k.toUpperCase()} ${p}`),
    );
    expect(ops.sort()).toEqual(
      [
        'POST /api/session',
        'DELETE /api/session',
        'POST /api/session/revoke-all',
        'GET /api/me',
        'GET /api/definitions',
        'GET /api/definitions/{id}',
        'POST /api/instances',
        'GET /api/instances',
        'GET /api/instances/{id}',
        'POST /api/instances/{id}/events',
        'POST /api/instances/{id}/assignment',
        'GET /api/instances/{id}/candidates',
        'GET /api/instances/{id}/notifications',
        'POST /api/instances/{id}/attachments',
        'GET /api/instances/{id}/attachments',
        'GET /api/instances/{id}/attachments/{file}',
        'GET /api/inbox',
        'GET /api/stalled',
        'POST /api/stalled/bulk/preview',
        'POST /api/stalled/bulk',
        'GET /api/stalled/bulk/{job}',
        'POST /api/definitions/validate',
        'GET /api/audit',
        'GET /api/openapi.json',
        'POST /api/definitions',
        'GET /api/clauses',
        'POST /api/definitions/{id}/migrations/dry-run',
        'POST /api/definitions/{id}/migrations',
        'GET /api/definitions/{id}/migrations/{job}',
        'GET /api/audit/verify',
        'GET /api/evidence',
        'GET /api/records',
        'GET /api/records/{name}',
        'POST /api/records/{name}/corrections',
        'GET /api/stalled/counts',
        'GET /api/dashboard',
        'GET /api/dashboard/instances',
        'GET /api/auth',
        'GET /api/oidc/login',
        'GET /api/oidc/callback',
        'POST /api/actors/check',
        'GET /api/notifications',
        'POST /api/notifications/read',
        'GET /api/notifications/outbox',
        'GET /api/me/notification-preferences',
        'PUT /api/me/notification-preferences',
        'GET /api/calendars',
        'POST /api/calendars/validate',
        'GET /api/calendars/{version}',
        'POST /api/calendars',
        'GET /api/users',
        'POST /api/users',
        'PATCH /api/users/{id}',
        'POST /api/users/{id}/password-reset',
        'GET /api/users/names',
        'GET /api/roles',
        'GET /api/setup',
        'POST /api/setup',
        'POST /api/password-reset',
        'GET /healthz',
        'GET /readyz',
        'GET /metrics',
      ].sort(),
    );
  });
});
