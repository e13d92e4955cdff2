/**
 * Users, passwords and sessions on the embedded store (in-memory PGlite), and the audit records
 * their administration leaves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRecordsError } from '../../worker/records/errors.ts';
import { openPgliteClient, type SqlClient } from '../../worker/records/sql.ts';
import { createRecordsStore } from '../../worker/records/store.ts';
import type { RecordsStore } from '../../worker/records/types.ts';

const PASSWORD = 'correct horse battery staple';
/** The roles users may hold here (the caller's `knownRoles`; the store keeps no list of its own). */
const ROLES = new Set(['contractor', 'project_staff', 'admin']);
let sql: SqlClient;
let store: RecordsStore;

beforeAll(async () => {
  sql = await openPgliteClient(null);
  store = await createRecordsStore(sql);
  await store.createUser(
    {
      id: 'alice',
      displayName: 'Alice',
      roles: ['project_staff'],
      clients: ['globex', 'acme'],
      password: PASSWORD,
    },
    'cli:root',
  );
}, 60_000);
afterAll(async () => {
  await store?.close();
});

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isRecordsError(err)) throw new Error(`expected a RecordsError, got ${String(err)}`);
  return { code: err.code, message: err.message };
}

describe('users', () => {
  it('creates a user with roles and sorted client assignments', async () => {
    expect(await store.getUser('alice')).toMatchObject({
      id: 'alice',
      displayName: 'Alice',
      roles: ['project_staff'],
      clients: ['acme', 'globex'],
      disabled: false,
    });
    expect(await store.getUser('nobody')).toBeUndefined();
  });

  it('checks passwords: right, wrong, unknown user', async () => {
    expect(await store.checkPassword('alice', PASSWORD)).toMatchObject({ id: 'alice' });
    expect(await store.checkPassword('alice', PASSWORD + '!')).toBeUndefined();
    expect(await store.checkPassword('alice', '')).toBeUndefined();
    expect(await store.checkPassword('nobody', PASSWORD)).toBeUndefined();
  });

  it('stores an argon2id hash with a fresh salt, never the password', async () => {
    await store.createUser(
      { id: 'twin', displayName: 'Twin', roles: ['contractor'], password: PASSWORD },
      'cli:root',
    );
    const rows = await sql.query<{ id: string; password_hash: string }>(
      `SELECT id, password_hash FROM users WHERE id IN ('alice', 'twin') ORDER BY id`,
    );
    for (const r of rows)
      expect(r.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[^$]{22}\$[^$]{43}$/);
    expect(rows[0]!.password_hash).not.toBe(rows[1]!.password_hash);
    const everything =
      JSON.stringify(await sql.query('SELECT * FROM users')) + JSON.stringify(await store.audit());
    expect(everything).not.toContain(PASSWORD);
    expect(JSON.stringify(await store.audit())).not.toContain('$argon2id');
  });

  it('refuses weak passwords, duplicate ids, unknown roles and malformed ids', async () => {
    const base = { displayName: 'X', roles: ['contractor' as const] };
    expect(
      await refusal(store.createUser({ ...base, id: 'weak', password: 'short pass' }, 'x')),
    ).toMatchObject({
      code: 'WEAK_PASSWORD',
      message: expect.stringMatching(/at least 12/),
    });
    expect((await refusal(store.createUser({ ...base, id: 'alice', password: PASSWORD }, 'x'))).code).toBe(
      'USER_EXISTS',
    );
    expect(
      (
        await refusal(
          store.createUser({ ...base, id: 'r', roles: ['wizard' as never], password: PASSWORD }, 'x', ROLES),
        )
      ).message,
    ).toMatch(/unknown role\(s\) wizard/);
    expect((await refusal(store.createUser({ ...base, id: 'bad id', password: PASSWORD }, 'x'))).code).toBe(
      'INVALID_INPUT',
    );
    expect((await refusal(store.setPassword('alice', 'tooshort', 'x'))).code).toBe('WEAK_PASSWORD');
    expect((await refusal(store.setPassword('ghost', PASSWORD, 'x'))).code).toBe('UNKNOWN_USER');
  });

  it('assigns clients, changes roles, disables and lists — each act audited with who did it', async () => {
    await store.createUser(
      { id: 'carol', displayName: 'Carol', roles: ['project_staff'], password: PASSWORD },
      'admin1',
    );
    expect((await store.assignClients('carol', ['initech', 'acme', 'acme'], 'admin1')).clients).toEqual([
      'acme',
      'initech',
    ]);
    expect((await store.setRoles('carol', ['quality_manager'], 'admin1')).roles).toEqual(['quality_manager']);
    expect((await store.setDisabled('carol', true, 'admin2')).disabled).toBe(true);
    expect(await store.checkPassword('carol', PASSWORD)).toBeUndefined();
    expect((await store.setDisabled('carol', false, 'admin2')).disabled).toBe(false);
    expect((await store.listUsers()).map((u) => u.id)).toEqual(['alice', 'carol', 'twin']);

    const acts = await store.audit({ subject: 'user:carol' });
    expect(acts.map((a) => [a.kind, a.body.act, a.actorId])).toEqual([
      ['admin', 'user.create', 'admin1'],
      ['admin', 'user.assign', 'admin1'],
      ['admin', 'user.roles', 'admin1'],
      ['admin', 'user.disable', 'admin2'],
      ['admin', 'user.enable', 'admin2'],
    ]);
    expect(acts[1]!.body).toMatchObject({ clients: ['acme', 'initech'], previous: [] });
    expect((await store.verifyAudit()).ok).toBe(true);
  });

  it('resets a password: the old one stops working, sessions end, the act is audited', async () => {
    await store.createUser(
      { id: 'dave', displayName: 'Dave', roles: ['contractor'], password: PASSWORD },
      'x',
    );
    const session = await store.createSession('dave', 60_000);
    await store.setPassword('dave', 'another long passphrase', 'admin1');
    expect(await store.checkPassword('dave', PASSWORD)).toBeUndefined();
    expect(await store.checkPassword('dave', 'another long passphrase')).toMatchObject({ id: 'dave' });
    expect(await store.getSession(session.id)).toBeUndefined();
    expect((await store.audit({ subject: 'user:dave' })).map((a) => a.body.act)).toEqual([
      'user.create',
      'user.password',
    ]);
  });
});

describe('sessions', () => {
  it('creates 256-bit session ids and CSRF tokens, kept only hashed', async () => {
    const s = await store.createSession('alice', 60_000);
    expect(Buffer.from(s.id, 'base64url')).toHaveLength(32);
    expect(Buffer.from(s.csrfToken, 'base64url')).toHaveLength(32);
    expect(s.csrfToken).not.toBe(s.id);
    expect(Date.parse(s.expiresAt) - Date.parse(s.createdAt)).toBe(60_000);
    expect(await store.getSession(s.id)).toEqual(s);
    const stored = await sql.query<{ id_hash: string }>('SELECT id_hash FROM sessions');
    expect(stored.map((r) => r.id_hash)).not.toContain(s.id);
    await store.deleteSession(s.id);
    expect(await store.getSession(s.id)).toBeUndefined();
    expect(await store.getSession('not-a-session')).toBeUndefined();
  });

  it('expires sessions, and removes expired ones', async () => {
    const short = await store.createSession('alice', 50);
    const long = await store.createSession('alice', 60_000);
    expect(await store.getSession(short.id)).toBeDefined();
    await new Promise((r) => setTimeout(r, 80));
    expect(await store.getSession(short.id)).toBeUndefined();
    expect(await store.getSession(long.id)).toBeDefined();
    expect(await store.deleteExpiredSessions()).toBeGreaterThanOrEqual(1);
    expect(await store.getSession(long.id)).toBeDefined();
  });

  it("ends a disabled user's sessions and refuses new ones", async () => {
    await store.createUser(
      { id: 'erin', displayName: 'Erin', roles: ['contractor'], password: PASSWORD },
      'x',
    );
    const s = await store.createSession('erin', 60_000);
    await store.setDisabled('erin', true, 'admin1');
    expect(await store.getSession(s.id)).toBeUndefined();
    expect((await refusal(store.createSession('erin', 60_000))).code).toBe('UNKNOWN_USER');
    expect((await refusal(store.createSession('alice', 0))).code).toBe('INVALID_INPUT');
  });
});
