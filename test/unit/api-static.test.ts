/**
 * The built UI served beside the API (no Temporal, no database): files, client-side routes, caching,
 * the page's Content-Security-Policy, and nothing outside the folder.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { createApi, type Api } from '../../worker/api/server.ts';
import { uiFiles } from '../../worker/api/static.ts';
import type { RecordsStore } from '../../worker/records/types.ts';

let api: Api;
let base: URL;
let dir: string;

beforeAll(async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'custodia-ui-'));
  dir = path.join(root, 'dist');
  mkdirSync(path.join(dir, 'assets'), { recursive: true });
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Custodia</title>');
  writeFileSync(path.join(dir, 'assets', 'app-1234.js'), 'console.log(1)');
  writeFileSync(path.join(root, 'secret.txt'), 'outside');
  const store = {
    getSession: () => Promise.resolve(undefined),
    deleteExpiredSessions: () => Promise.resolve(0),
  } as unknown as RecordsStore;
  api = createApi({ client: {} as Client, store, definitions: new Map(), taskQueue: 'none', uiDir: dir });
  base = new URL(await api.listen(0));
});

afterAll(async () => {
  await api.close();
  rmSync(path.dirname(dir), { recursive: true, force: true });
});

/** A raw GET (the path sent as is, not normalised by a URL parser). */
function get(
  p: string,
  method = 'GET',
): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: base.hostname, port: base.port, method, path: p }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the web UI served by the API', () => {
  it('serves index.html at / and for client-side routes, with a strict CSP and no caching', async () => {
    for (const p of ['/', '/inbox', '/instances/file_access-123', '/definitions/new']) {
      const res = await get(p);
      expect(res.status, p).toBe(200);
      expect(res.text).toContain('<title>Custodia</title>');
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(String(res.headers['content-security-policy'])).toContain("default-src 'self'");
      expect(String(res.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
    }
  });

  it('serves hashed assets as immutable, HEAD without a body', async () => {
    const res = await get('/assets/app-1234.js');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['cache-control']).toContain('immutable');
    expect(res.text).toBe('console.log(1)');
    const head = await get('/assets/app-1234.js', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
  });

  it('never serves a file outside its folder, and 404s missing files', async () => {
    for (const p of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/assets/missing.js',
    ]) {
      const res = await get(p);
      expect(res.text, p).not.toContain('outside');
      expect([404, 400], p).toContain(res.status);
    }
  });

  it('leaves /api to the API: unknown API routes are problems, not the page', async () => {
    const res = await get('/api/nothing-here');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const post = await get('/inbox', 'POST');
    expect(post.status).toBe(404);
  });

  it('refuses to start without a built UI', () => {
    expect(() => uiFiles(path.join(dir, 'nope'))).toThrow(/npm run ui:build/);
  });
});
