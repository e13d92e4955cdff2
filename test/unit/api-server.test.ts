/**
 * The API server without Temporal or a database (routes that never reach them): body limits,
 * malformed JSON, routing and the problem format.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { createApi, type Api } from '../../worker/api/server.ts';
import type { RecordsStore } from '../../worker/records/types.ts';

let api: Api;
let base: URL;

beforeAll(async () => {
  const store = {
    getSession: () => Promise.resolve(undefined),
    checkPassword: () => Promise.resolve(undefined),
    deleteExpiredSessions: () => Promise.resolve(0),
    appendSecurityRecord: () => Promise.resolve({}),
  } as unknown as RecordsStore;
  api = createApi({ client: {} as Client, store, definitions: new Map(), taskQueue: 'none' });
  base = new URL(await api.listen(0));
});

afterAll(async () => {
  await api.close();
});

/** A raw request (headers as given, body possibly shorter than announced). */
function raw(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; headers: Record<string, unknown>; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: base.hostname, port: base.port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
        }),
      );
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

describe('API server (no Temporal)', () => {
  it('refuses an announced body far over the limit at once, and closes the connection', async () => {
    const res = await raw('POST', '/api/session', {
      'content-type': 'application/json',
      'content-length': String(100 * 1024 * 1024),
    });
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ status: 413, code: 'BODY_TOO_LARGE' });
    expect(res.headers.connection).toBe('close');
  });

  it('refuses a chunked body over the limit', async () => {
    const res = await raw(
      'POST',
      '/api/session',
      { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      JSON.stringify({ id: 'x'.repeat(300 * 1024), password: 'p' }),
    );
    expect([res.status, res.json.code]).toEqual([413, 'BODY_TOO_LARGE']);
  });

  it('answers malformed JSON, empty bodies and unknown routes with problems', async () => {
    const bad = await raw('POST', '/api/session', { 'content-type': 'application/json' }, '{"id":');
    expect([bad.status, bad.json.code]).toEqual([400, 'MALFORMED_JSON']);
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
    const empty = await raw('POST', '/api/session', { 'content-type': 'application/json' });
    expect([empty.status, empty.json.code]).toEqual([400, 'BODY_REQUIRED']);
    const wrong = await raw(
      'POST',
      '/api/session',
      { 'content-type': 'application/json' },
      JSON.stringify({ id: 'alice', password: 'correct horse battery' }),
    );
    expect([wrong.status, wrong.json.code]).toEqual([401, 'BAD_CREDENTIALS']);
    const nowhere = await raw('GET', '/api/nowhere', {});
    expect([nowhere.status, nowhere.json.code]).toEqual([404, 'NOT_FOUND']);
    const badPath = await raw('GET', '/api/instances/%E0%A4%A', {});
    expect(badPath.status).toBeGreaterThanOrEqual(400);
    expect(badPath.status).toBeLessThan(500);
    const method = await raw('PATCH', '/api/session', {});
    expect([method.status, method.headers.allow]).toEqual([405, 'POST, DELETE']);
    const openapi = await raw('GET', '/api/openapi.json', {});
    expect(openapi.status).toBe(200);
  });
});
