/**
 * The notification centre on the embedded store and through the HTTP API (no Temporal needed):
 * who receives a `notify: { to: role }` (role holders of the instance's client, or who see every
 * client; enabled only), client isolation, `to: client` shown to nobody, read marks, cursor paging,
 * preferences, the admin outbox view, and the routes in the OpenAPI document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { createApi, type Api } from '../../worker/api/server.ts';
import { CSRF_HEADER, SESSION_COOKIE } from '../../worker/api/sessions.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import { addStaff, memoryStore, notifyingCommit } from './notifications-fixture.ts';

let store: RecordsStore;
let api: Api;
let base: string;

beforeAll(async () => {
  store = await memoryStore();
  await addStaff(store);
  await store.commit(notifyingCommit('wf-acme-1', 1), []);
  await store.commit(notifyingCommit('wf-globex-1', 1, { client: 'globex' }), []);
  await store.commit(notifyingCommit('wf-acme-2', 1), []);
  await store.commit(notifyingCommit('wf-shared', 1, { client: null }), []);
  // Definitions-level work (a procedure without a client field, e.g. a deploy proposal): its
  // notifications reach admins too, as its instances do (access.ts); another client-less
  // instance's (a procedure with a client field, client unset) do not.
  await store.commit(notifyingCommit('wf-proposal', 1, { client: null, to: 'admin' }), [], {
    clientless: true,
  });
  await store.commit(notifyingCommit('wf-unset', 1, { client: null, to: 'admin' }), []);
  // A retried commit changes nothing.
  await store.commit(notifyingCommit('wf-acme-1', 1), []);
  api = createApi({ client: {} as Client, store, definitions: new Map(), taskQueue: 'none' });
  base = await api.listen(0);
}, 60_000);

afterAll(async () => {
  await api?.close();
  await store?.close();
});

const sessions = new Map<string, { cookie: string; csrf: string }>();
async function as(userId: string): Promise<{ cookie: string; csrf: string }> {
  let s = sessions.get(userId);
  if (!s) {
    const created = await store.createSession(userId, 3600_000);
    s = { cookie: `${SESSION_COOKIE}=${created.id}`, csrf: created.csrfToken };
    sessions.set(userId, s);
  }
  return s;
}

async function call(
  userId: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const s = await as(userId);
  const res = await fetch(base + path, {
    method,
    headers: {
      cookie: s.cookie,
      [CSRF_HEADER]: s.csrf,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

interface Listed {
  notifications: {
    id: number;
    workflowId: string;
    message: { zh: string };
    readAt?: string;
    channel: string;
    note?: string;
  }[];
  unread: number;
  next?: number;
}
const list = async (userId: string, query = ''): Promise<Listed> => {
  const r = await call(userId, 'GET', `/api/notifications${query}`);
  expect(r.status).toBe(200);
  return r.json as unknown as Listed;
};
const ids = (l: Listed): string[] => l.notifications.map((n) => n.workflowId);

describe('who is told', () => {
  it('role holders of the instance’s client, newest first; instances without a client only those who see every client', async () => {
    // As the instance itself (access.ts): a client-less instance's data may name any client.
    expect(ids(await list('alice'))).toEqual(['wf-acme-2', 'wf-acme-1']);
    expect(ids(await list('bob'))).toEqual(['wf-globex-1']);
    expect(ids(await list('carol'))).toEqual(['wf-shared', 'wf-acme-2', 'wf-globex-1', 'wf-acme-1']);
  });

  it('admins are told of definitions-level work (a procedure without a client field), only that', async () => {
    expect(ids(await list('root'))).toEqual(['wf-proposal']);
    expect((await list('root')).unread).toBe(1);
    expect(ids(await list('carol'))).not.toContain('wf-proposal'); // not an admin
  });

  it('never a user of another client, a disabled user, or someone without the role', async () => {
    expect(ids(await list('bob'))).not.toContain('wf-acme-1');
    expect((await store.notificationsFor((await store.getUser('dave'))!)).notifications).toEqual([]);
    expect(ids(await list('root'))).toEqual(['wf-proposal']);
  });

  it('`to: client` reaches nobody in the centre (it is a message to the client)', async () => {
    for (const u of ['alice', 'bob', 'carol', 'erin'])
      expect((await list(u)).notifications.map((n) => n.message.zh)).not.toContain('已受理');
  });

  it('records the channel: e-mail by default, in-app only without an address', async () => {
    expect((await list('alice')).notifications[0]).toMatchObject({ channel: 'email' });
    expect((await list('erin')).notifications[0]).toMatchObject({ channel: 'in_app', note: 'no_email' });
  });

  it('a user taken off a client no longer sees its notifications', async () => {
    await store.assignClients('erin', [], 'test');
    expect(ids(await list('erin'))).toEqual([]);
    await store.assignClients('erin', ['acme'], 'test');
    expect(ids(await list('erin'))).toEqual(['wf-acme-2', 'wf-acme-1']);
  });

  it('leaves the audit chain verifiable (contact changes are audited)', async () => {
    const v = await store.verifyAudit();
    expect(v.problems).toEqual([]);
  });
});

describe('read marks and paging', () => {
  it('pages with a cursor', async () => {
    const first = await list('carol', '?limit=3');
    expect(ids(first)).toEqual(['wf-shared', 'wf-acme-2', 'wf-globex-1']);
    expect(first.next).toBeDefined();
    const second = await list('carol', `?limit=3&before=${first.next}`);
    expect(ids(second)).toEqual(['wf-acme-1']);
    expect(second.next).toBeUndefined();
  });

  it('marks some read, ignores ids that are not mine, then all', async () => {
    const mine = await list('alice');
    expect(mine.unread).toBe(2);
    const bobs = (await list('bob')).notifications.find((n) => n.workflowId === 'wf-globex-1')!;
    const r = await call('alice', 'POST', '/api/notifications/read', {
      ids: [mine.notifications[0]!.id, bobs.id],
    });
    expect(r).toEqual({ status: 200, json: { marked: 1, unread: 1 } });
    expect((await list('bob')).unread).toBe(1);
    expect(ids(await list('alice', '?unread=true'))).toEqual(['wf-acme-1']);
    expect((await call('alice', 'POST', '/api/notifications/read', { all: true })).json).toEqual({
      marked: 1,
      unread: 0,
    });
    expect((await list('alice', '?unread=true')).notifications).toEqual([]);
    expect((await list('alice')).notifications.every((n) => n.readAt)).toBe(true);
  });

  it('refuses a body with neither or both, and unknown fields', async () => {
    expect((await call('bob', 'POST', '/api/notifications/read', {})).status).toBe(400);
    expect((await call('bob', 'POST', '/api/notifications/read', { all: true, ids: [1] })).status).toBe(400);
    expect((await call('bob', 'POST', '/api/notifications/read', { all: false })).status).toBe(400);
    expect((await call('bob', 'POST', '/api/notifications/read', { user: 'alice', all: true })).status).toBe(
      400,
    );
  });
});

describe('preferences and the outbox view', () => {
  it('reads and sets my channel per kind and my language', async () => {
    const before = await call('bob', 'GET', '/api/me/notification-preferences');
    expect(before.json).toEqual({
      preferences: { message: 'email', reminder: 'email', escalation: 'email' },
      language: 'en',
      email: true,
    });
    const after = await call('bob', 'PUT', '/api/me/notification-preferences', {
      preferences: { message: 'digest' },
      language: 'zh',
    });
    expect(after.json).toMatchObject({
      preferences: { message: 'digest', reminder: 'email' },
      language: 'zh',
    });
    expect(
      (await call('bob', 'PUT', '/api/me/notification-preferences', { preferences: { message: 'fax' } }))
        .status,
    ).toBe(400);
    await store.commit(notifyingCommit('wf-globex-2', 1, { client: 'globex' }), []);
    expect((await list('bob')).notifications[0]).toMatchObject({
      workflowId: 'wf-globex-2',
      channel: 'digest',
    });
  });

  it('lists unsent e-mails to admins only', async () => {
    expect((await call('alice', 'GET', '/api/notifications/outbox')).status).toBe(403);
    const r = await call('root', 'GET', '/api/notifications/outbox');
    expect(r.status).toBe(200);
    const entries = r.json.entries as { userId: string; channel: string; status: string }[];
    expect(entries.filter((e) => e.userId === 'alice')).toHaveLength(2);
    expect(entries.find((e) => e.userId === 'bob' && e.channel === 'digest')).toMatchObject({
      status: 'pending',
    });
    expect(entries.some((e) => e.userId === 'erin' || e.userId === 'dave')).toBe(false);
  });

  it('documents the routes in the OpenAPI document', async () => {
    const doc = (await (await fetch(base + '/api/openapi.json')).json()) as { paths: Record<string, object> };
    expect(Object.keys(doc.paths['/api/notifications']!)).toEqual(['get']);
    expect(Object.keys(doc.paths['/api/notifications/read']!)).toEqual(['post']);
    expect(Object.keys(doc.paths['/api/me/notification-preferences']!).sort()).toEqual(['get', 'put']);
  });
});
