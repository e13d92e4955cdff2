/**
 * The HTTP API against the real stack: a harness worker on the dev server, its records store, and
 * the API on a free port. Sign-in, CSRF, rate limiting, client isolation, the engine's refusals as
 * problems, bad input, and the audit trail.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { createApi, SESSION_COOKIE, type Api } from '../../worker/api/server.ts';
import type { LoadedDefinition } from '../../worker/definitions.ts';
import { refreshFromStore } from '../../worker/deploy.ts';
import { buildListQuery, countByProcedureAndState } from '../../worker/visibility.ts';
import { loadDeployedDefinitions, runWorker } from '../../worker/process.ts';
import { openPostgresClient } from '../../worker/records/sql.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import { ENGINE_FIXTURES, eventually, sharedBundle, startHarness, testConfig } from './harness.ts';

const PASSWORD = 'correct horse battery';

/** A worker on the test server and the records store it writes to (the API reads the same one). */
interface Stack {
  client: Client;
  store: RecordsStore;
  definitions: Map<string, LoadedDefinition>;
  taskQueue: string;
  close(): Promise<void>;
}

const postgresUrl = inject('postgresUrl');
if (!postgresUrl && process.env.CI)
  throw new Error(`CI is set but there is no PostgreSQL server: ${inject('postgresSkipReason')}`);

/** A procedure without a client field: not client-confidential, so every signed-in user sees it. */
const NOTE_YAML = `id: api_note
version: 1.0.0
title: { zh: 备忘, en: Note }
description: { zh: 无客户的流程。, en: A procedure without a client. }
clauses: ['4.6.3']
roles:
  project_staff: { zh: 项目人员, en: Project Staff }
events:
  DONE:
    title: { zh: 完成, en: Done }
initial: open
states:
  open:
    title: { zh: 打开, en: Open }
    clauses: ['4.6.3']
    on:
      DONE: { target: done, roles: project_staff, clauses: ['4.6.3'] }
  done: { title: { zh: 完成, en: Done }, type: final, clauses: ['4.6.3'] }
`;

const tempDirs: string[] = [];
afterAll(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

/** A task due `sla` after it opens (no client): to order the inbox by due time. */
const dueYaml = (id: string, sla: string): string =>
  NOTE_YAML.replace('id: api_note', `id: ${id}`).replace(
    "    clauses: ['4.6.3']\n    on:",
    `    clauses: ['4.6.3']\n    sla: ${sla}\n    on:`,
  );

function definitionDirs(): string[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'custodia-api-defs-'));
  tempDirs.push(dir);
  writeFileSync(path.join(dir, 'note.yaml'), NOTE_YAML);
  writeFileSync(path.join(dir, 'due-fast.yaml'), dueYaml('api_due_fast', 'PT1S'));
  writeFileSync(path.join(dir, 'due-slow.yaml'), dueYaml('api_due_slow', 'P1D'));
  return [ENGINE_FIXTURES, dir];
}

async function embeddedStack(): Promise<Stack> {
  const h = await startHarness(definitionDirs());
  return {
    client: h.client,
    store: h.running.store,
    definitions: h.definitions,
    taskQueue: h.config.taskQueue,
    close: () => h.close(),
  };
}

/** A worker with DATABASE_URL on a fresh database of the test PostgreSQL server (dropped after). */
async function postgresStack(): Promise<Stack> {
  const admin = await openPostgresClient(postgresUrl!, { max: 1 });
  const name = `custodia_api_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(postgresUrl!);
  url.pathname = `/${name}`;
  const { config, address } = testConfig();
  const definitions = loadDeployedDefinitions(definitionDirs());
  const saved = process.env.DATABASE_URL;
  process.env.DATABASE_URL = url.toString();
  const running = await runWorker(config, { address, definitions, bundle: sharedBundle() }).finally(() => {
    if (saved === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = saved;
  });
  expect(running.store.backend).toBe('postgres');
  return {
    client: running.client,
    store: running.store,
    definitions,
    taskQueue: config.taskQueue,
    async close() {
      await running.shutdown();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.close();
    },
  };
}

const backends = [
  { name: 'the embedded store', stack: embeddedStack, available: true },
  { name: 'PostgreSQL', stack: postgresStack, available: postgresUrl !== null },
];

let h: Stack;
let api: Api;
let base: string;
/** Unexpected (5xx) errors the API reported: none is the point. */
const serverErrors: unknown[] = [];

interface Session {
  cookie: string;
  csrf: string;
}

interface Res {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

async function call(
  method: string,
  path: string,
  opts: {
    session?: Session;
    body?: unknown;
    raw?: string;
    csrf?: string | null;
    contentType?: string;
  } = {},
): Promise<Res> {
  const headers: Record<string, string> = {};
  if (opts.session) headers.cookie = `${SESSION_COOKIE}=${opts.session.cookie}`;
  const csrf = opts.csrf === undefined ? opts.session?.csrf : opts.csrf;
  if (csrf) headers['x-csrf-token'] = csrf;
  const raw = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  if (raw !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  const res = await fetch(base + path, { method, headers, ...(raw !== undefined ? { body: raw } : {}) });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    /* CSV etc. */
  }
  return { status: res.status, headers: res.headers, body, text };
}

function expectProblem(res: Res, status: number, code?: string): void {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
  expect(res.body.type).toEqual(expect.any(String));
  if (code) expect(res.body.code).toBe(code);
}

async function login(id: string, password = PASSWORD): Promise<Session> {
  const res = await call('POST', '/api/session', { body: { id, password } });
  expect(res.status, res.text).toBe(201);
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? '';
  expect(setCookie).toMatch(/HttpOnly/);
  expect(setCookie).toMatch(/SameSite=Strict/);
  const cookie = /^[^=]+=([^;]*)/.exec(setCookie)?.[1] ?? '';
  return { cookie, csrf: String(res.body.csrfToken) };
}

let alice: Session; // project_staff, client acme
let dave: Session; // project_staff, client globex
let qm: Session; // quality_manager (every client)
let mia: Session; // project_staff + quality_manager: acts on instances without a client

for (const backend of backends)
  describe.skipIf(!backend.available)(`HTTP API on ${backend.name}`, () => {
    beforeAll(async () => {
      serverErrors.length = 0;
      h = await backend.stack();
      const store = h.store;
      await store.createUser(
        {
          id: 'alice',
          displayName: 'Alice',
          roles: ['project_staff'],
          clients: ['acme'],
          password: PASSWORD,
        },
        'test',
      );
      await store.createUser(
        {
          id: 'dave',
          displayName: 'Dave',
          roles: ['project_staff'],
          clients: ['globex'],
          password: PASSWORD,
        },
        'test',
      );
      await store.createUser(
        { id: 'quinn', displayName: 'Quinn', roles: ['quality_manager'], password: PASSWORD },
        'test',
      );
      await store.createUser(
        {
          id: 'mia',
          displayName: 'Mia',
          roles: ['project_staff', 'quality_manager'],
          password: PASSWORD,
        },
        'test',
      );
      await store.createUser(
        { id: 'rita', displayName: 'Rita', roles: ['project_staff'], clients: ['acme'], password: PASSWORD },
        'test',
      );
      api = createApi({
        client: h.client,
        store,
        definitions: h.definitions,
        taskQueue: h.taskQueue,
        onError: (err) => serverErrors.push(err),
        // Deploys at once (single-admin mode): version rules here; four-eyes in proposals.int.test.ts.
        singleAdminDeploy: true,
      });
      base = await api.listen(0);
      [alice, dave, qm, mia] = await Promise.all([
        login('alice'),
        login('dave'),
        login('quinn'),
        login('mia'),
      ]);
    });

    afterAll(async () => {
      expect(serverErrors).toEqual([]);
      await api?.close();
      await h?.close();
    });

    describe('HTTP API: sessions', () => {
      it('serves the OpenAPI document without a session', async () => {
        const res = await call('GET', '/api/openapi.json');
        expect(res.status).toBe(200);
        expect(res.body.openapi).toBe('3.1.0');
        expect(Object.keys(res.body.paths as object)).toEqual(
          expect.arrayContaining(['/api/session', '/api/instances/{id}/events', '/api/inbox', '/api/audit']),
        );
      });

      it('signs in, tells who I am, refuses a wrong password, signs out', async () => {
        const me = await call('GET', '/api/me', { session: alice });
        expect(me.status).toBe(200);
        expect(me.body.user).toMatchObject({ id: 'alice', roles: ['project_staff'], clients: ['acme'] });
        expect(me.body.csrfToken).toBe(alice.csrf);

        expectProblem(
          await call('POST', '/api/session', { body: { id: 'alice', password: 'wrong password!!' } }),
          401,
          'BAD_CREDENTIALS',
        );
        expectProblem(
          await call('POST', '/api/session', { body: { id: 'nobody', password: PASSWORD } }),
          401,
          'BAD_CREDENTIALS',
        );

        const s = await login('alice');
        expectProblem(await call('DELETE', '/api/session', { session: s, csrf: null }), 403, 'CSRF');
        const out = await call('DELETE', '/api/session', { session: s });
        expect(out.status).toBe(204);
        expectProblem(await call('GET', '/api/me', { session: s }), 401, 'UNAUTHENTICATED');
      });

      it('rate-limits failed sign-ins per user and address (even the right password then)', async () => {
        for (let i = 0; i < 5; i++)
          expectProblem(
            await call('POST', '/api/session', { body: { id: 'rita', password: `wrong password ${i}` } }),
            401,
            'BAD_CREDENTIALS',
          );
        const blocked = await call('POST', '/api/session', { body: { id: 'rita', password: PASSWORD } });
        expectProblem(blocked, 429, 'TOO_MANY_ATTEMPTS');
        expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
        // Another user from the same address is not affected.
        await login('alice');
      });

      it('ends the sessions of a disabled user', async () => {
        await h.store.createUser(
          { id: 'zoe', displayName: 'Zoe', roles: ['project_staff'], clients: ['acme'], password: PASSWORD },
          'test',
        );
        const zoe = await login('zoe');
        expect((await call('GET', '/api/me', { session: zoe })).status).toBe(200);
        await h.store.setDisabled('zoe', true, 'test');
        expectProblem(await call('GET', '/api/me', { session: zoe }), 401, 'UNAUTHENTICATED');
        expectProblem(
          await call('POST', '/api/session', { body: { id: 'zoe', password: PASSWORD } }),
          401,
          'BAD_CREDENTIALS',
        );
      });

      it('answers 401 without a session, with a forged one, or with an expired one', async () => {
        expectProblem(await call('GET', '/api/instances'), 401, 'UNAUTHENTICATED');
        expectProblem(
          await call('GET', '/api/inbox', { session: { cookie: 'x'.repeat(43), csrf: '' } }),
          401,
        );
        expectProblem(await call('GET', '/api/me', { session: { cookie: 'not a token;', csrf: '' } }), 401);
        const short = await h.store.createSession('alice', 1);
        await new Promise((r) => setTimeout(r, 20));
        expectProblem(
          await call('GET', '/api/me', { session: { cookie: short.id, csrf: short.csrfToken } }),
          401,
          'UNAUTHENTICATED',
        );
        expectProblem(
          await call('POST', '/api/instances', {
            session: { cookie: short.id, csrf: short.csrfToken },
            body: { procedure: 'engine_review', input: { client: 'acme' } },
          }),
          401,
          'UNAUTHENTICATED',
        );
      });
    });

    describe('HTTP API: definitions and instances', () => {
      let workflowId = '';

      it('lists and shows definitions', async () => {
        const list = await call('GET', '/api/definitions', { session: alice });
        expect(list.status).toBe(200);
        const ids = (list.body.definitions as { id: string }[]).map((d) => d.id);
        expect(ids).toContain('engine_review');
        const one = await call('GET', '/api/definitions/engine_review', { session: alice });
        expect(one.status).toBe(200);
        expect(one.body).toMatchObject({
          id: 'engine_review',
          clientField: 'client',
          ir: { id: 'engine_review' },
        });
        expect((one.body.versions as unknown[]).length).toBeGreaterThan(0);
        expectProblem(
          await call('GET', '/api/definitions/nope', { session: alice }),
          404,
          'UNKNOWN_PROCEDURE',
        );
        const pinned = await call('GET', '/api/definitions/engine_review?version=1.0.0', { session: alice });
        expect(pinned.status, pinned.text).toBe(200);
        expect(pinned.body).toMatchObject({ id: 'engine_review', version: '1.0.0', current: true });
        expect(pinned.body.yaml).toContain('id: engine_review');
        expectProblem(
          await call('GET', '/api/definitions/engine_review?version=9.9.9', { session: alice }),
          404,
          'UNKNOWN_VERSION',
        );
      });

      it('refuses events to a finished instance, still shows it, and lists it with all=true', async () => {
        const started = await call('POST', '/api/instances', {
          session: alice,
          body: { procedure: 'engine_review', input: { client: 'acme' } },
        });
        const id = String(started.body.workflowId);
        await call('POST', `/api/instances/${id}/events`, {
          session: alice,
          body: { type: 'SUBMIT', data: { purpose: 'audit prep' } },
        });
        const rejected = await call('POST', `/api/instances/${id}/events`, {
          session: qm,
          body: { type: 'REJECT' },
        });
        expect(rejected.body).toMatchObject({ done: true });
        await eventually(async () => {
          const res = await call('POST', `/api/instances/${id}/events`, {
            session: qm,
            body: { type: 'REJECT' },
          });
          return res.status === 409 && res.body.code === 'INSTANCE_FINISHED';
        });
        const snap = await call('GET', `/api/instances/${id}`, { session: alice });
        expect(snap.body).toMatchObject({ done: true, leaves: ['rejected'] });
        await eventually(async () => {
          const res = await call('GET', '/api/instances?all=true&client=acme', { session: alice });
          return (res.body.instances as { workflowId: string; status: string }[]).some(
            (r) => r.workflowId === id && r.status === 'COMPLETED',
          );
        });
        const running = await call('GET', '/api/instances?client=acme&overdue=false', { session: alice });
        expect((running.body.instances as { workflowId: string }[]).map((r) => r.workflowId)).not.toContain(
          id,
        );
      });

      it('validates a draft definition with positions, without deploying it', async () => {
        const yaml = readFileSync(path.join(ENGINE_FIXTURES, 'case.yaml'), 'utf8');
        // Drafts are for the roles that edit definitions (admin).
        await h.store.createUser(
          { id: 'vera', displayName: 'Vera', roles: ['admin'], password: PASSWORD },
          'test',
        );
        const vera = await login('vera');
        expectProblem(
          await call('POST', '/api/definitions/validate', { session: alice, body: { yaml } }),
          403,
          'NOT_ADMIN',
        );
        const good = await call('POST', '/api/definitions/validate', { session: vera, body: { yaml } });
        expect(good.status, good.text).toBe(200);
        expect(good.body).toMatchObject({ valid: true, id: 'engine_case', hash: expect.any(String) });
        const broken = await call('POST', '/api/definitions/validate', {
          session: vera,
          body: { yaml: yaml.replace('target: closed', 'target: nowhere'), file: 'case.yaml' },
        });
        expect(broken.status).toBe(200);
        expect(broken.body.valid).toBe(false);
        const d = (broken.body.diagnostics as { file: string; line: number; column: number }[])[0];
        expect(d).toMatchObject({ file: 'case.yaml', line: expect.any(Number), column: expect.any(Number) });
        const garbage = await call('POST', '/api/definitions/validate', {
          session: vera,
          body: { yaml: 'id: [unclosed' },
        });
        expect(garbage.status).toBe(200);
        expect(garbage.body.valid).toBe(false);
        expectProblem(
          await call('POST', '/api/definitions/validate', { session: vera, body: { yaml: 42 } }),
          400,
          'INVALID_BODY',
        );
      });

      it('refuses a start input that sets a field not declared `input: true`, naming it; nothing starts', async () => {
        const refused = await call('POST', '/api/instances', {
          session: alice,
          body: { procedure: 'engine_review', input: { client: 'acme', approver: 'bob' } },
        });
        expectProblem(refused, 422, 'NOT_INPUT_FIELD');
        expect(refused.body).toMatchObject({ fields: ['approver'] });
        expect(String(refused.body.detail)).toContain('"approver" is not an input field of engine_review');
      });

      it('starts an instance as the signed-in user and acts on it as the right role', async () => {
        expectProblem(
          await call('POST', '/api/instances', {
            session: alice,
            csrf: null,
            body: { procedure: 'engine_review', input: { client: 'acme' } },
          }),
          403,
          'CSRF',
        );
        expectProblem(
          await call('POST', '/api/instances', {
            session: alice,
            csrf: 'x'.repeat(43),
            body: { procedure: 'engine_review', input: { client: 'acme' } },
          }),
          403,
          'CSRF',
        );
        const started = await call('POST', '/api/instances', {
          session: alice,
          body: { procedure: 'engine_review', input: { client: 'acme' } },
        });
        expect(started.status, started.text).toBe(201);
        workflowId = String(started.body.workflowId);
        expect(started.headers.get('location')).toBe(`/api/instances/${workflowId}`);

        const sent = await call('POST', `/api/instances/${workflowId}/events`, {
          session: alice,
          body: { type: 'SUBMIT', data: { purpose: 'audit prep' } },
        });
        expect(sent.status, sent.text).toBe(200);
        expect(sent.body.state).toBe('submitted');

        const snap = await call('GET', `/api/instances/${workflowId}`, { session: alice });
        expect(snap.status).toBe(200);
        expect(snap.body).toMatchObject({ workflowId, procedure: 'engine_review', leaves: ['submitted'] });
        // Her role may approve, but she submitted: the separation-of-duty rule refuses her.
        expect(snap.body.availableToMyRoles).toEqual(['APPROVE']);
        expectProblem(
          await call('POST', `/api/instances/${workflowId}/events`, {
            session: alice,
            body: { type: 'APPROVE', data: { window_hours: 24 } },
          }),
          403,
          'DUTY_CONFLICT',
        );
        const qmView = await call('GET', `/api/instances/${workflowId}`, { session: qm });
        expect(qmView.body.availableToMyRoles).toEqual(['APPROVE', 'REJECT']);
        const log = snap.body.log as { event: string; actor: { id: string; roles: string[] } }[];
        expect(log.map((l) => [l.event, l.actor])).toEqual([
          ['$start', { id: 'alice', roles: ['project_staff'] }],
          ['SUBMIT', { id: 'alice', roles: ['project_staff'] }],
        ]);
      });

      it('refuses the wrong role with the engine’s code, and the wrong client’s staff with 404', async () => {
        expectProblem(
          await call('POST', `/api/instances/${workflowId}/events`, {
            session: alice,
            body: { type: 'REJECT' },
          }),
          403,
          'ROLE_NOT_ALLOWED',
        );
        expectProblem(
          await call('POST', `/api/instances/${workflowId}/events`, {
            session: alice,
            body: { type: 'NO_SUCH' },
          }),
          422,
          'UNKNOWN_EVENT',
        );
        expectProblem(
          await call('POST', `/api/instances/${workflowId}/events`, {
            session: qm,
            body: { type: 'APPROVE', data: { window_hours: 'many' } },
          }),
          422,
          'INVALID_DATA',
        );
        // Dave (globex) can neither see nor act on acme's instance.
        expectProblem(await call('GET', `/api/instances/${workflowId}`, { session: dave }), 404, 'NOT_FOUND');
        expectProblem(
          await call('POST', `/api/instances/${workflowId}/events`, {
            session: dave,
            body: { type: 'APPROVE', data: { window_hours: 24 } },
          }),
          404,
          'NOT_FOUND',
        );
        expectProblem(
          await call('GET', `/api/audit?workflowId=${workflowId}`, { session: dave }),
          404,
          'NOT_FOUND',
        );
        expectProblem(await call('GET', '/api/audit?client=acme', { session: dave }), 404, 'NOT_FOUND');
        expectProblem(
          await call('POST', '/api/instances', {
            session: dave,
            body: { procedure: 'engine_review', input: { client: 'acme' } },
          }),
          403,
          'CLIENT_NOT_ASSIGNED',
        );
        expectProblem(
          await call('GET', '/api/instances/no-such-instance', { session: qm }),
          404,
          'NOT_FOUND',
        );
      });

      it('lists instances per client and shows the inbox of my roles', async () => {
        const rows = async (s: Session, query = ''): Promise<string[]> => {
          const res = await call('GET', `/api/instances${query}`, { session: s });
          expect(res.status, res.text).toBe(200);
          return (res.body.instances as { workflowId: string }[]).map((r) => r.workflowId);
        };
        await eventually(async () => (await rows(alice, '?procedure=engine_review')).includes(workflowId));
        await eventually(async () => (await rows(qm, '?client=acme&state=submitted')).includes(workflowId));
        expect(await rows(dave)).not.toContain(workflowId);
        expect(await rows(dave, '?client=acme')).toEqual([]);

        const inbox = await eventually(async () => {
          const res = await call('GET', '/api/inbox', { session: qm });
          const tasks = res.body.tasks as { workflowId: string; awaiting: string[] }[];
          return tasks.find((t) => t.workflowId === workflowId);
        });
        expect(inbox.awaiting).toContain('quality_manager');
        const daveInbox = await call('GET', '/api/inbox', { session: dave });
        expect((daveInbox.body.tasks as { workflowId: string }[]).map((t) => t.workflowId)).not.toContain(
          workflowId,
        );

        // Paging: one row at a time.
        await call('POST', '/api/instances', {
          session: alice,
          body: { procedure: 'engine_review', input: { client: 'acme' } },
        });
        const page1 = await eventually(async () => {
          const res = await call('GET', '/api/instances?procedure=engine_review&client=acme&limit=1', {
            session: alice,
          });
          return res.body.nextPageToken ? res : undefined;
        });
        expect((page1.body.instances as unknown[]).length).toBe(1);
        const page2 = await call(
          'GET',
          `/api/instances?procedure=engine_review&client=acme&limit=1&pageToken=${String(page1.body.nextPageToken)}`,
          { session: alice },
        );
        expect(page2.status).toBe(200);
        expect((page2.body.instances as unknown[]).length).toBe(1);
        const ids = (p: Res): string[] =>
          (p.body.instances as { workflowId: string }[]).map((r) => r.workflowId);
        expect(ids(page2)).not.toEqual(ids(page1));
        expectProblem(
          await call('GET', '/api/instances?limit=1&pageToken=bm90LWEtdG9rZW4', { session: alice }),
          400,
          'INVALID_PAGE_TOKEN',
        );
        expectProblem(
          await call('GET', '/api/instances?limit=1&pageToken=not%20base64', { session: alice }),
          400,
          'INVALID_QUERY',
        );
      });

      it('shows instances without a client only to roles that see every client', async () => {
        // Its data may name any client: staff assigned to some clients neither start nor see it.
        expectProblem(
          await call('POST', '/api/instances', { session: dave, body: { procedure: 'api_note' } }),
          403,
          'CLIENT_REQUIRED',
        );
        const started = await call('POST', '/api/instances', {
          session: mia,
          body: { procedure: 'api_note' },
        });
        expect(started.status, started.text).toBe(201);
        const id = String(started.body.workflowId);
        for (const s of [mia, qm]) {
          expect((await call('GET', `/api/instances/${id}`, { session: s })).status).toBe(200);
          await eventually(async () => {
            const res = await call('GET', '/api/instances?procedure=api_note', { session: s });
            return (res.body.instances as { workflowId: string }[]).some((r) => r.workflowId === id);
          });
        }
        for (const s of [alice, dave]) {
          expectProblem(await call('GET', `/api/instances/${id}`, { session: s }), 404, 'NOT_FOUND');
          const res = await call('GET', '/api/instances?procedure=api_note', { session: s });
          expect((res.body.instances as { workflowId: string }[]).map((r) => r.workflowId)).not.toContain(id);
        }
        const done = await call('POST', `/api/instances/${id}/events`, {
          session: mia,
          body: { type: 'DONE' },
        });
        expect(done.body).toMatchObject({ done: true });
      });

      it('lists stalled instances of my clients with how long they have waited', async () => {
        const stalled = async (s: Session): Promise<{ workflowId: string; idleMs: number }[]> => {
          const res = await call('GET', '/api/stalled?idle=PT0S', { session: s });
          expect(res.status, res.text).toBe(200);
          return res.body.instances as { workflowId: string; idleMs: number }[];
        };
        const row = await eventually(async () =>
          (await stalled(qm)).find((r) => r.workflowId === workflowId),
        );
        expect(row.idleMs).toBeGreaterThan(0);
        expect((await stalled(dave)).map((r) => r.workflowId)).not.toContain(workflowId);
        // Exact counts per procedure and state (count queries, nothing listed), isolated per client.
        const counts = async (s: Session) => {
          const res = await call('GET', '/api/stalled/counts?idle=PT0S', { session: s });
          expect(res.status, res.text).toBe(200);
          return res.body as { total: number; groups: { procedure: string; state: string; count: number }[] };
        };
        const all = await counts(qm);
        const group = all.groups.find((g) => g.procedure === 'engine_review' && g.state === 'draft');
        expect(group?.count).toBeGreaterThan(0);
        expect(all.total).toBeGreaterThanOrEqual(all.groups.reduce((n, g) => Math.max(n, g.count), 0));
        const mine = await counts(dave);
        expect(mine.total).toBeLessThan(all.total);
        // Counting by count queries (large sets) agrees with counting listed rows (small sets).
        const query = buildListQuery({ stalled: true, idle: 'PT0S' });
        const irs = [...h.definitions.values()].map((d) => d.ir);
        const now = new Date();
        const listed = await countByProcedureAndState(h.client, query, irs, now);
        const counted = await countByProcedureAndState(h.client, query, irs, now, { listUpTo: 0 });
        expect(listed.method).toBe('list');
        expect(counted.method).toBe('count');
        const shape = (r: typeof listed) => r.groups.map((g) => [g.procedure, g.state, g.count, g.overdue]);
        expect(shape(counted)).toEqual(shape(listed));
        expect(counted.total).toBe(listed.total);
        expect(counted.groups.find((g) => g.state === 'draft')?.awaiting).toEqual(['project_staff']);
        // One group page by page.
        const first = await call(
          'GET',
          '/api/stalled?idle=PT0S&procedure=engine_review&state=draft&limit=1',
          {
            session: qm,
          },
        );
        expect((first.body.instances as { state: string[] }[])[0]?.state).toContain('draft');
        expectProblem(await call('GET', '/api/stalled?idle=P', { session: qm }), 400, 'INVALID_QUERY');
        expectProblem(await call('GET', '/api/stalled?idle=3%20days', { session: qm }), 400, 'INVALID_QUERY');
      });

      it('lets the quality manager approve, and keeps the audit trail as JSON and CSV', async () => {
        const approved = await call('POST', `/api/instances/${workflowId}/events`, {
          session: qm,
          body: { type: 'APPROVE', data: { window_hours: 24 } },
        });
        expect(approved.status, approved.text).toBe(200);
        expect(approved.body.state).toEqual({ checks: { a: 'pending', b: 'pending' } });

        const entries = await eventually(async () => {
          const res = await call('GET', `/api/audit?workflowId=${workflowId}`, { session: alice });
          const list = res.body.entries as { seq: number; actorId: string; client: string }[];
          return list.some((e) => e.actorId === 'quinn') ? list : undefined;
        });
        // Gapless, in order; on a slow machine the state's 2 s reminder (a transition of the system)
        // may have come before the approval (actor `timer`) — people's entries are the three this scenario made.
        expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i));
        expect(entries.filter((e) => e.actorId !== 'timer').map((e) => [e.actorId, e.client])).toEqual([
          ['alice', 'acme'],
          ['alice', 'acme'],
          ['quinn', 'acme'],
        ]);
        expect(entries.length).toBeLessThanOrEqual(4);
        const csv = await call('GET', `/api/audit?workflowId=${workflowId}&format=csv`, { session: qm });
        expect(csv.status).toBe(200);
        expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
        const lines = csv.text.trim().split(/\r?\n/);
        expect(lines.length).toBe(entries.length + 1);
        expect(csv.text).toContain('APPROVE');
        const byClient = await call('GET', '/api/audit?client=acme', { session: alice });
        expect((byClient.body.entries as unknown[]).length).toBeGreaterThanOrEqual(3);
        expectProblem(await call('GET', '/api/audit', { session: qm }), 400, 'INVALID_QUERY');
        expect((await h.store.verifyAudit()).ok).toBe(true);
      });
      it('puts the most overdue tasks first, exactly, reading only a few rows', async () => {
        // An API that reads one row per step: the window is narrowed by count queries instead.
        const small = createApi({
          client: h.client,
          store: h.store,
          definitions: h.definitions,
          taskQueue: h.taskQueue,
          inboxScan: 1,
          onError: (err) => serverErrors.push(err),
        });
        const smallBase = await small.listen(0);
        try {
          const start = async (procedure: string): Promise<string> => {
            const res = await call('POST', '/api/instances', { session: mia, body: { procedure } });
            expect(res.status, res.text).toBe(201);
            return String(res.body.workflowId);
          };
          const oldest = await start('api_due_fast');
          await new Promise((r) => setTimeout(r, 300));
          const older = await start('api_due_fast');
          await new Promise((r) => setTimeout(r, 1500));
          for (let i = 0; i < 3; i++) await start('api_due_slow');
          type Inbox = {
            tasks: { workflowId: string; overdue: boolean; dueAt?: string }[];
            total: number;
            truncated: boolean;
          };
          const inbox = async (limit: number): Promise<Inbox> => {
            const res = await fetch(`${smallBase}/api/inbox?limit=${limit}`, {
              headers: { cookie: `${SESSION_COOKIE}=${mia.cookie}` },
            });
            expect(res.status).toBe(200);
            return (await res.json()) as Inbox;
          };
          // The full inbox (the regular API reads them all): ours in order, overdue first, earliest due first.
          const full = await eventually(async () => {
            const res = await call('GET', '/api/inbox?limit=100', { session: mia });
            const body = res.body as unknown as Inbox;
            const ids = body.tasks.map((t) => t.workflowId);
            return ids.includes(oldest) && ids.includes(older) && body.total >= 5 ? body : undefined;
          });
          const ids = full.tasks.map((t) => t.workflowId);
          expect(ids.indexOf(oldest)).toBeLessThan(ids.indexOf(older));
          const flags = full.tasks.map((t) => t.overdue);
          expect(flags).toEqual([...flags].sort((a, b) => Number(b) - Number(a)));
          // The one-row-at-a-time API finds the same first task (by narrowing the window, exactly).
          const few = await inbox(1);
          expect(few.tasks.map((t) => t.workflowId)).toEqual(ids.slice(0, 1));
          expect(few.truncated).toBe(true);
          // One row per step gives one task, never a later one in its place.
          expect((await inbox(2)).tasks.map((t) => t.workflowId)).toEqual(ids.slice(0, 1));
        } finally {
          await small.close();
        }
      });
    });

    describe('HTTP API: bad input', () => {
      it('answers malformed, oversized, mistyped and over-specified requests with 4xx problems', async () => {
        const post = (body: Partial<Parameters<typeof call>[2]>): Promise<Res> =>
          call('POST', '/api/instances', { session: alice, ...body });
        expectProblem(await post({ raw: '{"procedure": "engine_review",' }), 400, 'MALFORMED_JSON');
        expectProblem(await post({ raw: '[1,2]' }), 400, 'INVALID_BODY');
        expectProblem(await post({ raw: 'null' }), 400, 'INVALID_BODY');
        expectProblem(
          await post({
            raw: JSON.stringify({ procedure: 'engine_review', input: { client: 'x'.repeat(300_000) } }),
          }),
          413,
          'BODY_TOO_LARGE',
        );
        expectProblem(
          await post({ raw: '{"procedure":"engine_review"}', contentType: 'text/plain' }),
          415,
          'UNSUPPORTED_MEDIA_TYPE',
        );
        expectProblem(await post({ body: { procedure: 42 } }), 400, 'INVALID_BODY');
        expectProblem(
          await post({ body: { procedure: 'engine_review', input: 'acme' } }),
          400,
          'INVALID_BODY',
        );
        expectProblem(await post({ body: {} }), 400, 'INVALID_BODY');
        expectProblem(await post({ body: { procedure: 'nope' } }), 404, 'UNKNOWN_PROCEDURE');
        expectProblem(
          await post({ body: { procedure: 'engine_review', input: { client: 7 } } }),
          422,
          'INVALID_INPUT',
        );
        expectProblem(
          await post({
            body: { procedure: 'engine_review', input: { client: 'acme' }, actor: { id: 'quinn' } },
          }),
          400,
          'UNKNOWN_FIELD',
        );
        expectProblem(
          await call('GET', '/api/instances?overdue=maybe', { session: alice }),
          400,
          'INVALID_QUERY',
        );
        expectProblem(
          await call('GET', '/api/instances?color=red', { session: alice }),
          400,
          'UNKNOWN_PARAMETER',
        );
        expectProblem(
          await call('GET', '/api/instances?client=a%27b', { session: alice }),
          400,
          'INVALID_QUERY',
        );
        expectProblem(
          await call('GET', '/api/instances?limit=1&limit=2', { session: alice }),
          400,
          'INVALID_QUERY',
        );
        expectProblem(await call('GET', '/api/nowhere', { session: alice }), 404, 'NOT_FOUND');
        expectProblem(
          await call('PUT', '/api/instances', { session: alice, body: {} }),
          405,
          'METHOD_NOT_ALLOWED',
        );
        expectProblem(
          await call('POST', '/api/session', { body: { id: 'alice', password: PASSWORD, roles: ['admin'] } }),
          400,
          'UNKNOWN_FIELD',
        );
      });

      it('never takes the actor from the body of an event', async () => {
        const started = await call('POST', '/api/instances', {
          session: alice,
          body: { procedure: 'engine_review', input: { client: 'acme' } },
        });
        const id = String(started.body.workflowId);
        const forged = await call('POST', `/api/instances/${id}/events`, {
          session: alice,
          body: {
            type: 'SUBMIT',
            data: { purpose: 'audit prep' },
            actor: { id: 'quinn', roles: ['quality_manager'] },
          },
        });
        expectProblem(forged, 400, 'UNKNOWN_FIELD');
        expectProblem(
          await call('POST', `/api/instances/${id}/events`, { session: alice, body: { type: 5 } }),
          400,
          'INVALID_BODY',
        );
        expectProblem(
          await call('POST', `/api/instances/${id}/events`, { session: alice, raw: '{"type":' }),
          400,
          'MALFORMED_JSON',
        );
        const snap = await call('GET', `/api/instances/${id}`, { session: alice });
        expect(snap.body.leaves).toEqual(['draft']);
      });
    });

    describe('HTTP API: deploying a definition version', () => {
      const v110 = NOTE_YAML.replace('version: 1.0.0', 'version: 1.1.0').replace(
        'en: Note }',
        'en: Note (revised) }',
      );

      it('deploys a validated, proved, higher version as admin; instances of it pin it', async () => {
        await h.store.createUser(
          { id: 'ada', displayName: 'Ada', roles: ['admin'], password: PASSWORD },
          'test',
        );
        const ada = await login('ada');
        expectProblem(
          await call('POST', '/api/definitions', { session: alice, body: { yaml: v110 } }),
          403,
          'NOT_ADMIN',
        );
        expectProblem(
          await call('POST', '/api/definitions', { session: ada, body: { yaml: v110 }, csrf: null }),
          403,
          'CSRF',
        );
        // An error at a known line: nothing deployed, the diagnostics say where.
        const broken = v110.replace('target: done', 'target: nowhere');
        const refused = await call('POST', '/api/definitions', {
          session: ada,
          body: { yaml: broken, file: 'note.yaml' },
        });
        expectProblem(refused, 422, 'DEFINITION_INVALID');
        const line = broken.split('\n').findIndex((l) => l.includes('target: nowhere')) + 1;
        expect(refused.body.diagnostics).toEqual(
          expect.arrayContaining([expect.objectContaining({ file: 'note.yaml', line, severity: 'error' })]),
        );
        expect((await h.store.definitionVersions('api_note')).map((v) => v.version)).toEqual(['1.0.0']);

        const ok = await call('POST', '/api/definitions', { session: ada, body: { yaml: v110 } });
        expect(ok.status, ok.text).toBe(201);
        expect(ok.body).toMatchObject({ id: 'api_note', version: '1.1.0', deployedBy: 'ada' });
        expect(ok.headers.get('location')).toBe('/api/definitions/api_note?version=1.1.0');

        const shown = await call('GET', '/api/definitions/api_note', { session: alice });
        expect(shown.body).toMatchObject({ version: '1.1.0', title: { en: 'Note (revised)' }, yaml: v110 });
        expect((shown.body.versions as { version: string }[]).map((v) => v.version).sort()).toEqual([
          '1.0.0',
          '1.1.0',
        ]);
        const old = await call('GET', '/api/definitions/api_note?version=1.0.0', { session: alice });
        expect(old.body).toMatchObject({ version: '1.0.0', current: false });
        // In document order (the store's jsonb sorts keys: 'done' before 'open'); the UI relies on it.
        const stored = old.body.ir as { root: { states: Record<string, unknown> } };
        expect(Object.keys(stored.root.states)).toEqual(['open', 'done']);

        const started = await call('POST', '/api/instances', {
          session: mia,
          body: { procedure: 'api_note' },
        });
        expect(started.status, started.text).toBe(201);
        expect(started.body.version).toBe('1.1.0');
        const snap = await call('GET', `/api/instances/${String(started.body.workflowId)}`, {
          session: mia,
        });
        expect(snap.body).toMatchObject({ version: '1.1.0', title: { en: 'Note (revised)' } });

        const chain = await call('GET', '/api/audit/verify', { session: ada });
        expect(chain.status, chain.text).toBe(200);
        expect(chain.body).toMatchObject({ ok: true, problems: [], checked: expect.any(Number) });
        expectProblem(await call('GET', '/api/audit/verify', { session: alice }), 403, 'NOT_ALLOWED');
        const audit = await h.store.audit({ kind: 'deployment', subject: 'api_note@1.1.0' });
        expect(audit).toHaveLength(1);
        expect(audit[0]?.actorId).toBe('ada');
      });

      it('refuses the same version again, other content under it, and a lower version', async () => {
        const ada = await login('ada');
        expectProblem(
          await call('POST', '/api/definitions', { session: ada, body: { yaml: v110 } }),
          409,
          'ALREADY_DEPLOYED',
        );
        expectProblem(
          await call('POST', '/api/definitions', {
            session: ada,
            body: { yaml: v110.replace('(revised)', '(other)') },
          }),
          409,
          'VERSION_EXISTS',
        );
        expectProblem(
          await call('POST', '/api/definitions', {
            session: ada,
            body: { yaml: NOTE_YAML.replace('version: 1.0.0', 'version: 1.0.5') },
          }),
          409,
          'VERSION_NOT_NEWER',
        );
        expect((await h.store.definitionVersions('api_note')).length).toBe(2);
      });

      it('makes the deployed version current again after a restart (from the records store)', async () => {
        const fresh = loadDeployedDefinitions(definitionDirs());
        expect(fresh.get('api_note')?.ir.version).toBe('1.0.0');
        expect(await refreshFromStore(h.store, fresh)).toEqual(['api_note']);
        expect(fresh.get('api_note')?.ir.version).toBe('1.1.0');
        expect(fresh.get('api_note')?.hash).toBe(h.definitions.get('api_note')?.hash);
        expect(await refreshFromStore(h.store, fresh)).toEqual([]);
      });
    });
  });
