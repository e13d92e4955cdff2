/**
 * People over HTTP, on the embedded store and on PostgreSQL: the first administrator through the
 * one-time setup token (then 409), the directory for administrators (list, create with a
 * set-password link, change roles/clients/name/enabled, reset links, roles with titles), the
 * rules that refuse a change (unknown role or user, disabling yourself, the last administrator —
 * nothing changes), display names for every signed-in user, and the token routes' rate limit.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { createApi, SESSION_COOKIE, type Api } from '../../worker/api/server.ts';
import { loadDeployedDefinitions } from '../../worker/process.ts';
import { openPostgresClient } from '../../worker/records/sql.ts';
import { openStore } from '../../worker/records/store.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import { laneTemporalAddress, SHIPPED_DEFINITIONS } from './harness.ts';

const PASSWORD = 'correct horse battery staple';
const postgresUrl = inject('postgresUrl');

interface Session {
  cookie: string;
  csrf: string;
}
interface Res {
  status: number;
  body: Record<string, unknown>;
  text: string;
}

async function freshPostgres(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = await openPostgresClient(postgresUrl!, { max: 1 });
  const name = `custodia_people_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(postgresUrl!);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.close();
    },
  };
}

const backends = [
  { name: 'the embedded store', available: true },
  { name: 'PostgreSQL', available: postgresUrl !== null },
];

for (const backend of backends)
  describe.skipIf(!backend.available)(`people over HTTP on ${backend.name}`, () => {
    let store: RecordsStore;
    let api: Api;
    let base: string;
    let connection: Connection;
    const cleanups: (() => Promise<unknown>)[] = [];
    const serverErrors: unknown[] = [];

    beforeAll(async () => {
      if (backend.name === 'PostgreSQL') {
        const db = await freshPostgres();
        cleanups.push(() => db.drop());
        store = await openStore({ databaseUrl: db.url });
      } else store = await openStore({ dataDir: null });
      cleanups.push(() => store.close());
      // The directory needs no Temporal; the API gets a client that connects only if asked.
      connection = Connection.lazy({ address: laneTemporalAddress() });
      const definitions = loadDeployedDefinitions(
        ['file_access', 'violation_case'].map((id) => path.join(SHIPPED_DEFINITIONS, `${id}.yaml`)),
      );
      api = createApi({
        client: new Client({ connection }),
        store,
        definitions,
        taskQueue: 'people-test',
        onError: (err) => serverErrors.push(err),
      });
      base = await api.listen(0);
      cleanups.push(
        () => api.close(),
        () => connection.close(),
      );
    }, 120_000);

    afterAll(async () => {
      for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
      expect(serverErrors).toEqual([]);
    });

    async function call(method: string, url: string, body?: unknown, session?: Session): Promise<Res> {
      const headers: Record<string, string> = {};
      if (session) {
        headers.cookie = `${SESSION_COOKIE}=${session.cookie}`;
        headers['x-csrf-token'] = session.csrf;
      }
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(base + url, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, text };
    }
    function expectProblem(res: Res, status: number, code: string): void {
      expect(res.status, res.text).toBe(status);
      expect(res.body.code, res.text).toBe(code);
    }
    async function login(id: string, password = PASSWORD): Promise<Session> {
      const res = await fetch(`${base}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id, password }),
      });
      const body = (await res.json()) as { csrfToken: string };
      expect(res.status).toBe(201);
      const cookie = /^[^=]+=([^;]*)/.exec(res.headers.getSetCookie()[0] ?? '')?.[1] ?? '';
      return { cookie, csrf: body.csrfToken };
    }
    const tokenOf = (path: unknown): string => String(path).split('#')[1] ?? '';

    let root: Session;

    it('creates the first administrator with the setup token, once; then setup answers 409', async () => {
      expect((await call('GET', '/api/setup')).body).toEqual({ pending: true });
      const issued = await store.issueSetupToken();
      const admin = { id: 'Root', displayName: 'Root Admin', password: PASSWORD };
      expectProblem(
        await call('POST', '/api/setup', { ...admin, token: 'x'.repeat(43) }),
        400,
        'TOKEN_INVALID',
      );
      expectProblem(
        await call('POST', '/api/setup', { ...admin, token: issued!.token, password: 'short' }),
        422,
        'WEAK_PASSWORD',
      );
      const created = await call('POST', '/api/setup', { ...admin, token: issued!.token });
      expect(created.status, created.text).toBe(201);
      expect(created.body.user).toMatchObject({ id: 'root', roles: ['admin'], disabled: false });
      expectProblem(
        await call('POST', '/api/setup', { ...admin, id: 'eve', token: issued!.token }),
        409,
        'SETUP_DONE',
      );
      expect((await call('GET', '/api/setup')).body).toEqual({ pending: false });
      root = await login('root');
    });

    it('offers the roles users may hold with their titles, and says which see every client', async () => {
      const res = await call('GET', '/api/roles', undefined, root);
      expect(res.status).toBe(200);
      const roles = res.body.roles as { id: string; title: { en: string }; seesAllClients: boolean }[];
      expect(roles.map((r) => r.id)).toEqual(
        expect.arrayContaining(['admin', 'auditor', 'project_staff', 'quality_manager']),
      );
      expect(roles.find((r) => r.id === 'project_staff')).toMatchObject({
        title: { en: 'Project Staff', zh: '项目人员' },
        seesAllClients: false,
      });
      expect(roles.find((r) => r.id === 'quality_manager')?.seesAllClients).toBe(true);
      expect(res.body.allClientRoles).toContain('quality_manager');
    });

    let liLink = '';
    it('creates a user with a one-time set-password link; refuses unknown roles and existing ids', async () => {
      const res = await call(
        'POST',
        '/api/users',
        { id: 'li', displayName: 'Li Na', roles: ['project_staff'], clients: ['acme'] },
        root,
      );
      expect(res.status, res.text).toBe(201);
      expect(res.body.user).toMatchObject({ id: 'li', roles: ['project_staff'], clients: ['acme'] });
      liLink = String((res.body.passwordLink as { path: string }).path);
      expect(liLink).toMatch(/^\/password-reset#[A-Za-z0-9_-]{43}$/);
      const unknown = await call(
        'POST',
        '/api/users',
        { id: 'wu', displayName: 'Wu', roles: ['wizard'] },
        root,
      );
      expectProblem(unknown, 422, 'UNKNOWN_ROLE');
      expect(String(unknown.body.detail)).toContain('wizard');
      expect(await store.getUser('wu')).toBeUndefined();
      expectProblem(
        await call('POST', '/api/users', { id: 'LI', displayName: 'Li', roles: ['project_staff'] }, root),
        409,
        'USER_EXISTS',
      );
    });

    let li: Session;
    it('lets the user set a password with the link, once', async () => {
      const set = await call('POST', '/api/password-reset', {
        token: tokenOf(liLink),
        password: 'li chooses this one',
      });
      expect(set.status, set.text).toBe(200);
      expect(set.body).toEqual({ userId: 'li' });
      expectProblem(
        await call('POST', '/api/password-reset', { token: tokenOf(liLink), password: 'li chooses again' }),
        400,
        'TOKEN_INVALID',
      );
      li = await login('li', 'li chooses this one');
    });

    it('keeps the directory for administrators; every signed-in user sees display names only', async () => {
      expectProblem(await call('GET', '/api/users', undefined, li), 403, 'NOT_ADMIN');
      expectProblem(await call('PATCH', '/api/users/li', { roles: ['admin'] }, li), 403, 'NOT_ADMIN');
      expectProblem(await call('POST', '/api/users/root/password-reset', undefined, li), 403, 'NOT_ADMIN');
      const names = await call('GET', '/api/users/names', undefined, li);
      expect(names.body).toEqual({ names: { li: 'Li Na', root: 'Root Admin' } });
      const list = await call('GET', '/api/users', undefined, root);
      expect((list.body.users as { id: string }[]).map((u) => u.id)).toEqual(['li', 'root']);
      expect(list.body.allClientRoles).toEqual(expect.any(Array));
    });

    it('changes roles, clients and name in one audited change with the values before and after', async () => {
      const res = await call(
        'PATCH',
        '/api/users/li',
        {
          displayName: 'Li Na (QA)',
          roles: ['project_staff', 'quality_administrator'],
          clients: ['globex', 'acme'],
        },
        root,
      );
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({
        roles: ['project_staff', 'quality_administrator'],
        clients: ['acme', 'globex'],
      });
      const last = (await store.audit({ subject: 'user:li' })).at(-1);
      expect(last).toMatchObject({
        actorId: 'root',
        body: {
          act: 'user.update',
          before: { displayName: 'Li Na', roles: ['project_staff'], clients: ['acme'] },
          after: { displayName: 'Li Na (QA)', clients: ['acme', 'globex'] },
        },
      });
    });

    it('refuses bad changes with a problem naming the rule, and changes nothing', async () => {
      const before = (await store.audit()).length;
      expectProblem(await call('PATCH', '/api/users/li', { roles: ['wizard'] }, root), 422, 'UNKNOWN_ROLE');
      expectProblem(await call('PATCH', '/api/users/nobody', { disabled: true }, root), 404, 'UNKNOWN_USER');
      expectProblem(await call('PATCH', '/api/users/li', { password: 'x' }, root), 400, 'UNKNOWN_FIELD');
      expectProblem(await call('PATCH', '/api/users/root', { disabled: true }, root), 409, 'SELF_DISABLE');
      const last = await call('PATCH', '/api/users/root', { roles: ['auditor'] }, root);
      expectProblem(last, 409, 'LAST_ADMIN');
      expect(String(last.body.detail)).toContain('last enabled administrator');
      expectProblem(
        await call('POST', '/api/users/nobody/password-reset', undefined, root),
        404,
        'UNKNOWN_USER',
      );
      expect(await store.getUser('root')).toMatchObject({ roles: ['admin'], disabled: false });
      expect((await store.audit()).length).toBe(before);
    });

    it('disabling ends the sessions; a reset link replaces the password without the admin seeing it', async () => {
      const link = await call('POST', '/api/users/li/password-reset', undefined, root);
      expect(link.status, link.text).toBe(201);
      expect(link.body.path).toMatch(/^\/password-reset#/);
      expect(JSON.stringify(await store.audit({ subject: 'user:li' }))).not.toContain(
        tokenOf(link.body.path),
      );
      const off = await call('PATCH', '/api/users/li', { disabled: true }, root);
      expect(off.body).toMatchObject({ disabled: true });
      expectProblem(await call('GET', '/api/users/names', undefined, li), 401, 'UNAUTHENTICATED');
      // The link of a disabled user is void.
      expectProblem(
        await call('POST', '/api/password-reset', {
          token: tokenOf(link.body.path),
          password: 'li new passphrase',
        }),
        400,
        'TOKEN_INVALID',
      );
      await call('PATCH', '/api/users/li', { disabled: false }, root);
      const again = await call('POST', '/api/users/li/password-reset', undefined, root);
      const reset = await call('POST', '/api/password-reset', {
        token: tokenOf(again.body.path),
        password: 'li new passphrase',
      });
      expect(reset.status, reset.text).toBe(200);
      await login('li', 'li new passphrase');
      expect((await store.verifyAudit()).ok).toBe(true);
    });

    it('rate-limits the token routes per address', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++)
        statuses.push(
          (await call('POST', '/api/password-reset', { token: `bad${i}`, password: PASSWORD })).status,
        );
      // Five failures per address in the window (the two refused links above count too), then 429.
      expect(statuses).toEqual([400, 400, 400, 429, 429, 429]);
    });

    it('documents every people route in the OpenAPI document', async () => {
      const doc = (await call('GET', '/api/openapi.json')).body as {
        paths: Record<string, Record<string, unknown>>;
      };
      expect(Object.keys(doc.paths['/api/users/{id}'] ?? {})).toEqual(['patch']);
      for (const p of ['/api/users', '/api/users/names', '/api/roles', '/api/setup', '/api/password-reset'])
        expect(doc.paths[p], p).toBeDefined();
    });
  });
