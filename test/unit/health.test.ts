/**
 * /healthz, /readyz and /metrics without Temporal: a fake client and store decide what answers.
 * Requests are timed by their declared route, never the raw URL, and carry a request id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { createApi, type Api } from '../../worker/api/server.ts';
import { httpRequestSeconds, serveMetrics } from '../../worker/metrics.ts';
import type { RecordsStore } from '../../worker/records/types.ts';

let api: Api;
let base: string;
let temporalUp = true;
let storeUp = true;

beforeAll(async () => {
  const client = {
    connection: { withDeadline: <T>(_: number, fn: () => Promise<T>) => fn() },
    workflowService: {
      getSystemInfo: () => (temporalUp ? Promise.resolve({}) : Promise.reject(new Error('14 UNAVAILABLE'))),
    },
    workflow: { count: () => Promise.resolve({ count: 0 }) },
  } as unknown as Client;
  const store = {
    // Down: never answers, so the deadline decides.
    setupPending: () => (storeUp ? Promise.resolve(false) : new Promise(() => {})),
    deleteExpiredSessions: () => Promise.resolve(0),
  } as unknown as RecordsStore;
  api = createApi({ client, store, definitions: new Map(), taskQueue: 'none', onError: () => {} });
  base = await api.listen(0);
});

afterAll(async () => {
  await api.close();
});

describe('health routes', () => {
  it('/healthz is 200 JSON and echoes a sane request id (else makes one)', async () => {
    const res = await fetch(`${base}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    const odd = await fetch(`${base}/healthz`, { headers: { 'x-request-id': 'a b"c' } });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('/readyz names what is down', async () => {
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    temporalUp = false;
    storeUp = false;
    try {
      const res = await fetch(`${base}/readyz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { down: string[]; checks: Record<string, { error?: string }> };
      expect(body.down).toEqual(['temporal', 'records']);
      expect(body.checks.records?.error).toMatch(/did not answer within/);
    } finally {
      temporalUp = storeUp = true;
    }
  }, 10_000);

  it('/metrics is Prometheus text, requests labelled by route pattern and status', async () => {
    await fetch(`${base}/api/instances/some-instance-id`); // 401: no session
    await fetch(`${base}/nowhere/at/all`);
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(
      /^custodia_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} 2$/m,
    );
    expect(text).toContain('route="/api/instances/:id",status="401"');
    expect(text).toContain('route="(other)",status="404"');
    expect(text).not.toContain('some-instance-id');
    expect(httpRequestSeconds.count({ method: 'GET', route: '/readyz', status: '503' })).toBeGreaterThan(0);
  });
});

describe('worker-only metrics endpoint', () => {
  it('serves the registry on its own port', async () => {
    const served = await serveMetrics(0);
    try {
      const text = await (await fetch(`${served.url}/metrics`)).text();
      expect(text).toContain('# TYPE custodia_transitions_total counter');
      expect((await fetch(`${served.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${served.url}/other`)).status).toBe(404);
    } finally {
      await served.close();
    }
  });
});
