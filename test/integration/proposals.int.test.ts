/**
 * Four-eyes deployment on the real stack (a harness worker on the dev server, its records store,
 * the API on a free port): `POST /api/definitions` answers 202 with a `definition_change` instance;
 * the version becomes current only when another admin approves it; the author's approval is the
 * engine's duty refusal; a rejection deploys nothing; a draft that could not be deployed starts no
 * instance; an approval that can no longer deploy ends in `failed` with nothing written; admins see
 * proposals, other users do not; single-admin mode deploys at once unless a safeguard is dropped.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi, SESSION_COOKIE, type Api } from '../../worker/api/server.ts';
import type { Role } from '../../worker/records/types.ts';
import { ENGINE_FIXTURES, eventually, startHarness, type Harness } from './harness.ts';
import { recordHistory } from './record-history.ts';

const PASSWORD = 'correct horse battery';
const CASE = readFileSync(path.join(ENGINE_FIXTURES, 'case.yaml'), 'utf8');
const REVIEW = readFileSync(path.join(ENGINE_FIXTURES, 'review.yaml'), 'utf8');
const caseV = (version: string, title = 'Case'): string =>
  CASE.replace('version: 1.0.0', `version: ${version}`).replace("en: 'Engine test: case'", `en: '${title}'`);

interface Session {
  cookie: string;
  csrf: string;
}
interface Res {
  status: number;
  body: Record<string, unknown>;
  text: string;
}

let h: Harness;
let api: Api;
let single: Api;
let base: string;
let singleBase: string;
let ada: Session; // admin, the author
let bob: Session; // admin, the reviewer
let alice: Session; // project_staff of acme
let quinn: Session; // quality_manager: sees every client
const serverErrors: unknown[] = [];

async function call(method: string, url: string, session?: Session, body?: unknown, at = base): Promise<Res> {
  const headers: Record<string, string> = {};
  if (session) {
    headers.cookie = `${SESSION_COOKIE}=${session.cookie}`;
    headers['x-csrf-token'] = session.csrf;
  }
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(at + url, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, text };
}

async function login(id: string, at = base): Promise<Session> {
  const res = await fetch(`${at}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, password: PASSWORD }),
  });
  const body = (await res.json()) as { csrfToken: string };
  expect(res.status).toBe(201);
  const set = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? '';
  return { cookie: /^[^=]+=([^;]*)/.exec(set)?.[1] ?? '', csrf: body.csrfToken };
}

/** Propose `yaml` as ada; the proposal's workflow id. */
async function propose(yaml: string, note?: string): Promise<string> {
  const res = await call('POST', '/api/definitions', ada, { yaml, ...(note ? { note } : {}) });
  expect(res.status, res.text).toBe(202);
  return String(res.body.workflowId);
}

async function snapshot(id: string, who = bob): Promise<Record<string, unknown>> {
  const res = await call('GET', `/api/instances/${id}`, who);
  expect(res.status, res.text).toBe(200);
  return res.body;
}

/** Wait until the proposal has finished in one of its final states; that state. */
async function settled(id: string): Promise<{ state: string; context: Record<string, unknown> }> {
  return eventually(async () => {
    const snap = await snapshot(id);
    const leaves = snap.leaves as string[];
    return snap.done ? { state: leaves[0]!, context: snap.context as Record<string, unknown> } : undefined;
  });
}

beforeAll(async () => {
  // The process runs no definition_change file: the first proposal brings the shipped one.
  h = await startHarness([ENGINE_FIXTURES]);
  const store = h.running.store;
  const user = (id: string, roles: Role[], clients: string[] = []) =>
    store.createUser({ id, displayName: id, roles, clients, password: PASSWORD }, 'test');
  await user('ada', ['admin']);
  await user('bob', ['admin']);
  await user('alice', ['project_staff'], ['acme']);
  await user('quinn', ['quality_manager']);
  const opts = {
    client: h.client,
    store,
    definitions: h.definitions,
    taskQueue: h.config.taskQueue,
    onError: (err: unknown) => serverErrors.push(err),
  };
  api = createApi({ ...opts, singleAdminDeploy: false });
  single = createApi({ ...opts, singleAdminDeploy: true });
  base = await api.listen(0);
  singleBase = await single.listen(0);
  [ada, bob, alice, quinn] = await Promise.all([login('ada'), login('bob'), login('alice'), login('quinn')]);
}, 120_000);

afterAll(async () => {
  expect(serverErrors).toEqual([]);
  await api?.close();
  await single?.close();
  await h?.close();
});

describe('four-eyes deployment', () => {
  it('a draft that could not be deployed starts nothing: 422 / 409 / 413, and no definition_change', async () => {
    const broken = caseV('1.1.0').replace('target: closed', 'target: nowhere');
    const bad = await call('POST', '/api/definitions', ada, { yaml: broken, file: 'case.yaml' });
    expect(bad.status, bad.text).toBe(422);
    expect(bad.body.code).toBe('DEFINITION_INVALID');
    const same = await call('POST', '/api/definitions', ada, { yaml: CASE });
    expect(same.status, same.text).toBe(409);
    expect(same.body.code).toBe('ALREADY_DEPLOYED');
    const big = caseV('1.1.0') + `# ${'x'.repeat(120_000)}\n`;
    const large = await call('POST', '/api/definitions', ada, { yaml: big });
    expect(large.status, large.text).toBe(413);
    expect(large.body.code).toBe('PROPOSAL_TOO_LARGE');
    // Nothing was started: the definition change procedure was not even needed yet.
    expect(h.definitions.has('definition_change')).toBe(false);
  });

  it('proposal → another admin approves → the version is current; instances afterwards run it', async () => {
    const v110 = caseV('1.1.0', 'Case (revised)');
    const id = await propose(v110, 'retitle');
    expect(h.definitions.get('engine_case')?.ir.version).toBe('1.0.0');
    const byHand = await call('POST', '/api/instances', ada, { procedure: 'definition_change', input: {} });
    expect(byHand.status, byHand.text).toBe(403);
    expect(byHand.body.code).toBe('PROPOSED_THROUGH_DEPLOY');

    const snap = await snapshot(id);
    expect(snap.leaves).toEqual(['proposed']);
    const ctx = snap.context as Record<string, unknown>;
    expect(ctx).toMatchObject({
      procedure: 'engine_case',
      version: '1.1.0',
      base_version: '1.0.0',
      author: 'ada',
      note: 'retitle',
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(ctx.diff).toContain("-title: { zh: 引擎测试：案件, en: 'Engine test: case' }");
    expect(ctx.diff).toContain("+title: { zh: 引擎测试：案件, en: 'Case (revised)' }");
    expect(ctx.diff).toContain('-version: 1.0.0');
    expect((ctx.validation as { valid: boolean }).valid).toBe(true);
    expect((await snapshot(id, bob)).availableToMyRoles).toEqual(
      expect.arrayContaining(['APPROVE', 'REJECT']),
    );

    // Admins see it in the inbox; a staff member of one client does not see it at all.
    const inbox = await call('GET', '/api/inbox', bob);
    expect((inbox.body.tasks as { workflowId: string }[]).map((t) => t.workflowId)).toContain(id);
    expect((await call('GET', `/api/instances/${id}`, alice)).status).toBe(404);
    const listed = await call('GET', '/api/instances?procedure=definition_change', alice);
    expect(listed.body.instances ?? []).toEqual([]);
    // Those who see every client see it (isolation rule), but may not act on it.
    expect((await snapshot(id, quinn)).availableToMyRoles).toEqual([]);

    // The author's approval: the engine's separation-of-duties refusal.
    const own = await call('POST', `/api/instances/${id}/events`, ada, { type: 'APPROVE', data: {} });
    expect(own.status, own.text).toBe(403);
    expect(own.body.code).toBe('DUTY_CONFLICT');
    expect(h.definitions.get('engine_case')?.ir.version).toBe('1.0.0');
    // Nobody but the engine reports the outcome.
    const fake = await call('POST', `/api/instances/${id}/events`, bob, {
      type: 'DEPLOYED',
      data: { hash: 'x' },
    });
    expect(fake.status).toBeGreaterThanOrEqual(400);

    const ok = await call('POST', `/api/instances/${id}/events`, bob, {
      type: 'APPROVE',
      data: { note: 'fine' },
    });
    expect(ok.status, ok.text).toBe(200);
    const end = await settled(id);
    expect(end.state).toBe('deployed');
    expect(end.context).toMatchObject({ decided_by: 'bob', hash: h.definitions.get('engine_case')?.hash });
    await recordHistory(h.client, id, 'proposal-definition-change-deployed');
    expect(h.definitions.get('engine_case')?.ir.version).toBe('1.1.0');
    const stored = await h.running.store.definitionVersion('engine_case', '1.1.0');
    expect(stored).toMatchObject({ deployedBy: 'bob', yaml: v110 });
    const audit = await h.running.store.audit({ kind: 'deployment', subject: 'engine_case@1.1.0' });
    expect(audit).toHaveLength(1);

    const started = await call('POST', '/api/instances', alice, {
      procedure: 'engine_case',
      input: { client: 'acme' },
    });
    expect(started.status, started.text).toBe(201);
    expect(started.body.version).toBe('1.1.0');
  });

  it('a rejection deploys nothing; the author may withdraw, not reject', async () => {
    const id = await propose(caseV('1.2.0', 'Rejected'));
    const selfReject = await call('POST', `/api/instances/${id}/events`, ada, {
      type: 'REJECT',
      data: { reason: 'mine' },
    });
    expect(selfReject.body.code).toBe('DUTY_CONFLICT');
    const rejected = await call('POST', `/api/instances/${id}/events`, bob, {
      type: 'REJECT',
      data: { reason: 'no' },
    });
    expect(rejected.status, rejected.text).toBe(200);
    expect((await settled(id)).state).toBe('rejected');
    expect(await h.running.store.definitionVersion('engine_case', '1.2.0')).toBeUndefined();
    expect(h.definitions.get('engine_case')?.ir.version).toBe('1.1.0');

    const other = await propose(caseV('1.2.0', 'Withdrawn'));
    const notHis = await call('POST', `/api/instances/${other}/events`, bob, { type: 'WITHDRAW' });
    expect(notHis.status).toBe(409); // the guard: only the author withdraws
    const withdrawn = await call('POST', `/api/instances/${other}/events`, ada, { type: 'WITHDRAW' });
    expect(withdrawn.status, withdrawn.text).toBe(200);
    expect((await settled(other)).state).toBe('withdrawn');
    expect(await h.running.store.definitionVersion('engine_case', '1.2.0')).toBeUndefined();
  });

  it('an approval that can no longer deploy (the version was deployed meanwhile) ends in failed, nothing written', async () => {
    const first = await propose(caseV('1.3.0', 'First'));
    const second = await propose(caseV('1.3.0', 'Second'));
    await call('POST', `/api/instances/${first}/events`, bob, { type: 'APPROVE', data: {} });
    expect((await settled(first)).state).toBe('deployed');
    const firstHash = (await h.running.store.definitionVersion('engine_case', '1.3.0'))?.hash;
    const ok = await call('POST', `/api/instances/${second}/events`, bob, { type: 'APPROVE', data: {} });
    expect(ok.status, ok.text).toBe(200);
    const end = await settled(second);
    expect(end.state).toBe('failed');
    expect(String(end.context.failure)).toMatch(/^VERSION_EXISTS: /);
    expect((await h.running.store.definitionVersion('engine_case', '1.3.0'))?.hash).toBe(firstHash);
    expect(h.definitions.get('engine_case')?.ir.title.en).toBe('First');
  });

  it('single-admin mode deploys at once (201), but a draft dropping a duty still needs a second admin', async () => {
    const meta = await call('GET', '/api/definitions', ada, undefined, singleBase);
    expect(meta.body.deployment).toEqual({ singleAdmin: true });
    expect((await call('GET', '/api/definitions', ada)).body.deployment).toEqual({ singleAdmin: false });

    const at = await login('ada', singleBase);
    const now = await call('POST', '/api/definitions', at, { yaml: caseV('1.4.0', 'Now') }, singleBase);
    expect(now.status, now.text).toBe(201);
    expect(now.body).toMatchObject({ id: 'engine_case', version: '1.4.0', deployedBy: 'ada' });
    expect(h.definitions.get('engine_case')?.ir.version).toBe('1.4.0');

    // Without the duty and the invariant proving it: one admin may not do that alone.
    const weaker =
      REVIEW.replace('version: 1.0.0', 'version: 1.1.0').slice(0, REVIEW.indexOf('duties:')) + 'duties: []\n';
    expect(weaker).not.toBe(REVIEW);
    const res = await call('POST', '/api/definitions', at, { yaml: weaker }, singleBase);
    expect(res.status, res.text).toBe(202);
    const weakened = ['duty APPROVE ≠ SUBMIT', 'invariant approver_not_submitter'];
    expect(res.body.weakened).toEqual(weakened);
    expect(h.definitions.get('engine_review')?.ir.version).toBe('1.0.0');
    const snap = await snapshot(String(res.body.workflowId));
    expect((snap.context as { validation: { weakened: string[] } }).validation.weakened).toEqual(weakened);
  });
});
