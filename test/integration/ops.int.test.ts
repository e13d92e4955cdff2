/**
 * Operations: `npm start` (worker/main.ts) as a child process on a temp data folder and free
 * ports. /healthz and /readyz answer; a scenario through the API (an instance, an event, a
 * refused event) shows up in /metrics; then the Temporal dev server is SIGKILLed: /readyz goes
 * 503 naming Temporal, the supervisor restarts the server on the same SQLite file (one log line),
 * /readyz is 200 again and both the instance started before the kill and a new one take events —
 * without restarting the product.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../worker/config.ts';
import { openStore } from '../../worker/records/store.ts';
import { ENGINE_FIXTURES } from './harness.ts';
import { tempDir } from '../temp-dir.ts';

const PASSWORD = 'correct horse battery staple';
const dir = tempDir('custodia-ops-');
let main: ChildProcess | undefined;
let base = '';
let devServerPid = 0;
const lines: Record<string, unknown>[] = [];
let output = '';

interface Session {
  cookie: string;
  csrf: string;
}

async function call(
  method: string,
  url: string,
  opts: { session?: Session; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; text: string; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.session) {
    headers.cookie = `custodia_session=${opts.session.cookie}`;
    headers['x-csrf-token'] = opts.session.csrf;
  }
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + url, {
    method,
    headers,
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* Prometheus text */
  }
  return { status: res.status, headers: res.headers, text, body };
}

async function login(id: string): Promise<Session> {
  const res = await call('POST', '/api/session', { body: { id, password: PASSWORD } });
  expect(res.status, res.text).toBe(201);
  const set = res.headers.getSetCookie().find((c) => c.startsWith('custodia_session=')) ?? '';
  return { cookie: /^[^=]+=([^;]*)/.exec(set)?.[1] ?? '', csrf: String(res.body.csrfToken) };
}

/** Poll `fn` every 100 ms until it returns true (or fail after `ms`). */
async function until(what: string, ms: number, fn: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await fn().catch(() => false)) return Date.now() - t0;
    if (Date.now() - t0 > ms) throw new Error(`${what} within ${ms} ms; output:\n${output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const readyStatus = async (): Promise<number> => (await call('GET', '/readyz')).status;

beforeAll(async () => {
  const store = await openStore({ dataDir: path.join(dir, 'records') });
  try {
    await store.createUser(
      { id: 'alice', displayName: 'Alice', roles: ['project_staff'], clients: ['acme'], password: PASSWORD },
      'ops-test',
    );
    await store.createUser(
      { id: 'quinn', displayName: 'Quinn', roles: ['quality_manager'], clients: [], password: PASSWORD },
      'ops-test',
    );
  } finally {
    await store.close();
  }
  main = spawn(process.execPath, ['bin/launch.mjs', 'worker/main.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: '',
      CUSTODIA_UI_DIR: 'off',
      CUSTODIA_DEFINITIONS: ENGINE_FIXTURES,
      CUSTODIA_RECORDS_DIR: path.join(dir, 'records'),
      TEMPORAL_DEV_DB_FILE: path.join(dir, 'temporal.db'),
      TEMPORAL_DEV_PORT: '0',
      TEMPORAL_DEV_UI_PORT: 'off',
      CUSTODIA_HTTP_PORT: '0',
      CUSTODIA_LOG_FORMAT: 'json',
      CUSTODIA_READY_TIMEOUT_MS: '1000',
      CUSTODIA_LOG_LEVEL: 'WARN',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let pending = '';
  const onData = (chunk: Buffer): void => {
    output += chunk.toString();
    const parts = (pending + chunk.toString()).split('\n');
    pending = parts.pop() ?? '';
    for (const line of parts) {
      try {
        const obj = JSON.parse(line) as Record<string, unknown>;
        lines.push(obj);
        if (obj.event === 'dev_server_started') devServerPid = Number(obj.pid);
        if (obj.event === 'ready') base = String(obj.url);
      } catch {
        /* a plain line (SDK, first-run link) */
      }
    }
  };
  main.stdout!.on('data', onData);
  main.stderr!.on('data', onData);
  await until('npm start ready', 110_000, () => {
    if (main?.exitCode !== null) throw new Error(`main exited:\n${output}`);
    return Promise.resolve(base !== '');
  });
}, 120_000);

afterAll(async () => {
  if (main && main.exitCode === null) {
    const exited = new Promise((r) => main!.once('exit', r));
    main.kill('SIGTERM');
    const timer = setTimeout(() => main?.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(dir, { recursive: true, force: true });
}, 40_000);

describe('npm start: health, metrics, supervision', () => {
  let alice: Session;
  let quinn: Session;
  let before = '';

  it('answers /healthz and /readyz (public, JSON) and echoes a request id', async () => {
    const health = await call('GET', '/healthz', { headers: { 'x-request-id': 'ops-test-1' } });
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok' });
    expect(health.headers.get('x-request-id')).toBe('ops-test-1');
    expect((await call('GET', '/healthz')).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await until('/readyz 200', 30_000, async () => (await readyStatus()) === 200);
    const ready = await call('GET', '/readyz');
    expect(ready.body).toMatchObject({
      ready: true,
      down: [],
      checks: { temporal: { ok: true }, records: { ok: true } },
    });
    expect(devServerPid).toBeGreaterThan(0);
  });

  it('shows transitions, refusals, audit latency and request latency in /metrics', async () => {
    alice = await login('alice');
    quinn = await login('quinn');
    const started = await call('POST', '/api/instances', {
      session: alice,
      body: { procedure: 'engine_review', input: { client: 'acme' } },
      headers: { 'x-request-id': 'ops-start' },
    });
    expect(started.status, started.text).toBe(201);
    before = String(started.body.workflowId);
    const submit = await call('POST', `/api/instances/${before}/events`, {
      session: alice,
      body: { type: 'SUBMIT', data: { purpose: 'metrics' } },
    });
    expect(submit.status, submit.text).toBe(200);
    const refused = await call('POST', `/api/instances/${before}/events`, {
      session: alice,
      body: { type: 'SUBMIT', data: { purpose: 'again' } },
    });
    expect(refused.status).toBe(409);
    const refusedCode = String(refused.body.code);

    const metrics = await call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = metrics.text;
    expect(text).toMatch(/^custodia_transitions_total\{procedure="engine_review",event="SUBMIT"\} [1-9]/m);
    expect(text).toContain(`custodia_refusals_total{code="${refusedCode}"} 1`);
    expect(text).toMatch(/^custodia_audit_append_seconds_count [1-9]/m);
    expect(text).toMatch(/^custodia_audit_append_seconds_bucket\{le="\+Inf"\} [1-9]/m);
    expect(text).toMatch(
      /^custodia_http_request_duration_seconds_count\{method="POST",route="\/api\/instances\/:id\/events",status="200"\} 1$/m,
    );
    expect(text).toMatch(
      /^custodia_http_request_duration_seconds_count\{method="POST",route="\/api\/instances\/:id\/events",status="409"\} 1$/m,
    );
    expect(text).toMatch(/^custodia_sla_overdue_instances\{procedure="engine_review"\} 0$/m);
    // Never the raw URL (it would carry the workflow id).
    expect(text).not.toContain(before);
    // JSON request lines carry the request id and the instance.
    await until('the request log line', 5_000, () =>
      Promise.resolve(lines.some((l) => l.msg === 'request' && l.workflowId === before && l.status === 409)),
    );
    expect(lines.find((l) => l.requestId === 'ops-start')).toMatchObject({
      route: '/api/instances',
      status: 201,
    });
  });

  it('restarts a killed dev server on the same data; readiness follows; instances keep working', async () => {
    const restartsBefore = lines.filter((l) => l.event === 'dev_server_restart').length;
    process.kill(devServerPid, 'SIGKILL');
    await until('/readyz 503', 10_000, async () => {
      const res = await call('GET', '/readyz');
      return res.status === 503 && (res.body.down as string[]).includes('temporal');
    });
    const back = await until('/readyz 200 again', 60_000, async () => (await readyStatus()) === 200);
    expect(back).toBeLessThan(60_000);
    expect(main?.exitCode).toBeNull();
    const restarts = lines.filter((l) => l.event === 'dev_server_restart');
    expect(restarts.length - restartsBefore).toBe(1);
    expect(String(restarts.at(-1)?.msg)).toMatch(/restarting it on the same data in 1 s/);

    // The instance started before the kill (same SQLite file) takes an event; the worker survived.
    await until('an event after the restart', 45_000, async () => {
      const res = await call('POST', `/api/instances/${before}/events`, {
        session: quinn,
        body: { type: 'REJECT' },
      });
      return res.status === 200;
    });
    const after = await call('POST', '/api/instances', {
      session: alice,
      body: { procedure: 'engine_review', input: { client: 'acme' } },
    });
    expect(after.status, after.text).toBe(201);
    const submit = await call('POST', `/api/instances/${String(after.body.workflowId)}/events`, {
      session: alice,
      body: { type: 'SUBMIT', data: { purpose: 'after restart' } },
    });
    expect(submit.status, submit.text).toBe(200);
    const text = (await call('GET', '/metrics')).text;
    expect(text).toMatch(/^custodia_temporal_dev_server_restarts_total 1$/m);
    expect(text).toMatch(/^custodia_transitions_total\{procedure="engine_review",event="REJECT"\} 1$/m);
  }, 150_000);
});
