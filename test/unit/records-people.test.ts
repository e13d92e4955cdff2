/**
 * People administration in the records store (schema v4): the first administrator through a
 * one-time setup token, changes to a user with the rules that guard them (not yourself, never the
 * last administrator; nothing changes on a refusal), and password-reset tokens.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { isRecordsError } from '../../worker/records/errors.ts';
import type { SqlClient } from '../../worker/records/sql.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import { withMemoryStore } from '../support/records.ts';

const PASSWORD = 'correct horse battery staple';
const ROLES = new Set(['admin', 'auditor', 'project_staff']);
let sql: SqlClient;
let store: RecordsStore;

withMemoryStore((s) => ({ sql, store } = s));

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isRecordsError(err)) throw new Error(`expected a RecordsError, got ${String(err)}`);
  return err.code;
}

describe('first administrator', () => {
  it('stores only the hash of the setup token, voids older ones, and creates the admin once', async () => {
    expect(await store.setupPending()).toBe(true);
    const first = await store.issueSetupToken();
    const second = await store.issueSetupToken();
    expect(first?.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await sql.query<{ token_hash: string }>('SELECT token_hash FROM user_tokens');
    expect(stored.map((r) => r.token_hash)).not.toContain(second!.token);
    expect(stored).toHaveLength(1);
    // The older token is void; a made-up one is unknown.
    const admin = { id: 'Root', displayName: 'Root Admin', password: PASSWORD };
    expect(await codeOf(store.createFirstAdmin(first!.token, admin))).toBe('TOKEN_INVALID');
    expect(await codeOf(store.createFirstAdmin('x'.repeat(43), admin))).toBe('TOKEN_INVALID');
    expect(await codeOf(store.createFirstAdmin(second!.token, { ...admin, password: 'short' }))).toBe(
      'WEAK_PASSWORD',
    );
    const created = await store.createFirstAdmin(second!.token, admin);
    expect(created).toMatchObject({ id: 'root', roles: ['admin'], clients: [], disabled: false });
    expect(await store.setupPending()).toBe(false);
    expect(await codeOf(store.createFirstAdmin(second!.token, { ...admin, id: 'eve' }))).toBe('SETUP_DONE');
    expect(await store.issueSetupToken()).toBeUndefined();
    const [audit] = (await store.audit({ subject: 'user:root' })).slice(-1);
    expect(audit).toMatchObject({ actorId: 'setup:root', body: { act: 'user.create', before: null } });
  });
});

describe('changing a user', () => {
  beforeAll(async () => {
    for (const id of ['li', 'zhao'])
      await store.createUser(
        { id, displayName: id.toUpperCase(), roles: ['project_staff'], password: PASSWORD },
        'root',
        ROLES,
      );
  });

  it('changes several fields at once in one audited record with before and after', async () => {
    const u = await store.updateUser(
      'li',
      { displayName: 'Li Na', roles: ['project_staff', 'auditor'], clients: ['globex', 'acme'] },
      'root',
      ROLES,
    );
    expect(u).toMatchObject({
      displayName: 'Li Na',
      roles: ['project_staff', 'auditor'],
      clients: ['acme', 'globex'],
    });
    const [last] = (await store.audit({ subject: 'user:li' })).slice(-1);
    expect(last?.body).toMatchObject({
      act: 'user.update',
      changed: ['displayName', 'roles', 'clients'],
      before: { displayName: 'LI', roles: ['project_staff'], clients: [] },
      after: { displayName: 'Li Na', clients: ['acme', 'globex'] },
    });
    const count = (await store.audit()).length;
    await store.updateUser('li', { displayName: 'Li Na' }, 'root', ROLES);
    expect((await store.audit()).length).toBe(count);
    expect((await store.verifyAudit()).ok).toBe(true);
  });

  it('refuses an unknown role, disabling yourself and removing the last admin, changing nothing', async () => {
    const count = (await store.audit()).length;
    expect(await codeOf(store.updateUser('li', { roles: ['wizard'] }, 'root', ROLES))).toBe('INVALID_INPUT');
    expect(await codeOf(store.updateUser('nobody', { disabled: true }, 'root', ROLES))).toBe('UNKNOWN_USER');
    expect(await codeOf(store.updateUser('root', { disabled: true }, 'Root', ROLES))).toBe('SELF_DISABLE');
    expect(await codeOf(store.updateUser('root', { roles: ['auditor'] }, 'li', ROLES))).toBe('LAST_ADMIN');
    expect(await codeOf(store.updateUser('root', { disabled: true, displayName: 'X' }, 'li', ROLES))).toBe(
      'LAST_ADMIN',
    );
    expect(await store.getUser('root')).toMatchObject({
      displayName: 'Root Admin',
      roles: ['admin'],
      disabled: false,
    });
    expect((await store.audit()).length).toBe(count);
    // With a second administrator, the first may lose the role.
    await store.updateUser('zhao', { roles: ['admin'] }, 'root', ROLES);
    expect((await store.updateUser('root', { disabled: true }, 'zhao', ROLES)).disabled).toBe(true);
    await store.updateUser('root', { disabled: false }, 'zhao', ROLES);
  });
});

describe('password reset links', () => {
  it('sets the password once, ends sessions, voids older links, and is audited without the token', async () => {
    const session = await store.createSession('li', 60_000);
    const old = await store.issuePasswordReset('li', 'root');
    const link = await store.issuePasswordReset('li', 'root');
    expect(await codeOf(store.resetPassword(old.token, PASSWORD + '!'))).toBe('TOKEN_INVALID');
    expect(await codeOf(store.resetPassword(link.token, 'short'))).toBe('WEAK_PASSWORD');
    const user = await store.resetPassword(link.token, 'a brand new passphrase');
    expect(user.id).toBe('li');
    expect(await store.checkPassword('li', 'a brand new passphrase')).toMatchObject({ id: 'li' });
    expect(await store.getSession(session.id)).toBeUndefined();
    expect(await codeOf(store.resetPassword(link.token, 'another new passphrase'))).toBe('TOKEN_INVALID');
    const records = await store.audit({ subject: 'user:li' });
    expect(JSON.stringify(records)).not.toContain(link.token);
    expect(records.at(-1)).toMatchObject({
      actorId: 'li',
      body: { act: 'user.password', via: 'reset_link' },
    });
    expect(records.at(-2)?.body).toMatchObject({
      act: 'user.password_reset_link',
      before: { resetLink: 'pending' },
      after: { resetLink: 'issued' },
    });
  });

  it('refuses links for unknown or disabled users, and expired links', async () => {
    expect(await codeOf(store.issuePasswordReset('nobody', 'root'))).toBe('UNKNOWN_USER');
    const expired = await store.issuePasswordReset('zhao', 'root', -1);
    expect(await codeOf(store.resetPassword(expired.token, 'a brand new passphrase'))).toBe('TOKEN_INVALID');
    const live = await store.issuePasswordReset('zhao', 'root');
    await store.updateUser('zhao', { disabled: true }, 'root', ROLES);
    expect(await codeOf(store.resetPassword(live.token, 'a brand new passphrase'))).toBe('TOKEN_INVALID');
    expect(await codeOf(store.issuePasswordReset('zhao', 'root'))).toBe('INVALID_INPUT');
    expect((await store.verifyAudit()).ok).toBe(true);
  });
});
