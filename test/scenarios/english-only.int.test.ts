/**
 * An English-only definition (`languages: [en]`, `test/fixtures/english/leave_request.yaml`) on the
 * real stack — a harness worker on the dev server, its records store, the HTTP API: it validates,
 * deploys through the API and runs; the engine's refusals reach each user in the language their
 * client asks for (`Accept-Language`): Chinese for a Chinese user, English otherwise.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi, SESSION_COOKIE, type Api } from '../../worker/api/server.ts';
import { REPO_ROOT } from '../../worker/config.ts';
import { knownRoles } from '../../worker/roles.ts';
import type { Role } from '../../worker/records/types.ts';
import { ENGINE_FIXTURES, startHarness, type Harness } from '../integration/harness.ts';

const PASSWORD = 'correct horse battery';
const YAML = readFileSync(path.join(REPO_ROOT, 'test/fixtures/english/leave_request.yaml'), 'utf8');

interface Session {
  cookie: string;
  csrf: string;
}

let h: Harness;
let api: Api;
let base: string;

async function call(
  method: string,
  url: string,
  session: Session,
  body?: unknown,
  lang?: string,
): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
  const headers: Record<string, string> = {
    cookie: `${SESSION_COOKIE}=${session.cookie}`,
    'x-csrf-token': session.csrf,
  };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (lang) headers['accept-language'] = lang;
  const res = await fetch(base + url, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, text };
}

async function login(id: string): Promise<Session> {
  const res = await fetch(`${base}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, password: PASSWORD }),
  });
  const body = (await res.json()) as { csrfToken: string };
  expect(res.status).toBe(201);
  const set = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? '';
  return { cookie: /^[^=]+=([^;]*)/.exec(set)?.[1] ?? '', csrf: body.csrfToken };
}

beforeAll(async () => {
  h = await startHarness([ENGINE_FIXTURES]);
  api = createApi({
    client: h.client,
    store: h.running.store!,
    definitions: h.definitions,
    taskQueue: h.config.taskQueue,
    // Deploys at once (single-admin mode): the language is under test here; four-eyes in
    // proposals.int.test.ts.
    singleAdminDeploy: true,
  });
  base = await api.listen(0);
  await h.running.store!.createUser(
    { id: 'ada', displayName: 'ada', roles: ['admin'] as Role[], clients: [], password: PASSWORD },
    'test',
  );
});
afterAll(async () => {
  await api?.close();
  await h?.close();
});

describe('an English-only definition', () => {
  it('validates, deploys through the API and runs; refusals come back in the asker’s language', async () => {
    const ada = await login('ada');
    const validated = await call('POST', '/api/definitions/validate', ada, {
      yaml: YAML,
      file: 'leave.yaml',
    });
    expect(validated.status, validated.text).toBe(200);
    expect(validated.body).toMatchObject({ valid: true });
    const deployed = await call('POST', '/api/definitions', ada, { yaml: YAML, file: 'leave.yaml' });
    expect(deployed.status, deployed.text).toBe(201);

    // Its roles can now be held (they come from the definitions the product runs).
    const roles = knownRoles([...h.definitions.values()]);
    const user = (id: string, r: string) =>
      h.running.store!.createUser(
        { id, displayName: id, roles: [r] as Role[], clients: ['acme'], password: PASSWORD },
        'test',
        roles,
      );
    await user('erin', 'employee');
    await user('wang', 'manager');
    const [erin, wang] = await Promise.all([login('erin'), login('wang')]);

    const started = await call('POST', '/api/instances', erin, {
      procedure: 'leave_request',
      input: { client: 'acme' },
    });
    expect(started.status, started.text).toBe(201);
    const id = String(started.body.workflowId);
    const sent = await call('POST', `/api/instances/${id}/events`, erin, {
      type: 'REQUEST',
      data: { days: 25 },
    });
    expect(sent.status, sent.text).toBe(200);
    expect(sent.body).toMatchObject({ state: 'deciding' });

    // The same refusal, asked for in Chinese and in English.
    const zh = await call('POST', `/api/instances/${id}/events`, wang, { type: 'APPROVE' }, 'zh-CN,zh;q=0.9');
    expect(zh.status, zh.text).toBe(409);
    expect(zh.body).toMatchObject({
      code: 'GUARD_FALSE',
      detail: 'APPROVE 被拒绝：条件不满足：ctx.days <= 20',
    });
    const en = await call('POST', `/api/instances/${id}/events`, wang, { type: 'APPROVE' }, 'en-GB');
    expect(en.body).toMatchObject({
      code: 'GUARD_FALSE',
      detail: 'APPROVE refused: condition not met: ctx.days <= 20',
    });
    const role = await call('POST', `/api/instances/${id}/events`, erin, { type: 'APPROVE' }, 'zh');
    expect(role.body).toMatchObject({ code: 'ROLE_NOT_ALLOWED' });
    expect(String(role.body.detail)).toContain('不能在状态 deciding 执行 APPROVE；允许的角色：manager');

    const done = await call('POST', `/api/instances/${id}/events`, wang, { type: 'REFUSE' });
    expect(done.body).toMatchObject({ state: 'refused', done: true });
    const snap = await call('GET', `/api/instances/${id}`, erin);
    expect(snap.body).toMatchObject({ title: { en: 'Leave request' } });
    expect((snap.body.title as Record<string, unknown>).zh).toBeUndefined();
  });
});
