/**
 * Canonical user ids (Security item 7): `alice` and `Alice` are one user — created once, found
 * either way — and the migration renames non-canonical ids or refuses ids that collide.
 */
import { describe, expect, it } from 'vitest';
import { isRecordsError } from '../../worker/records/errors.ts';
import { canonicalUserId, isCanonicalUserId, userIdCollisions } from '../../worker/records/identity.ts';
import { migrate, MIGRATIONS } from '../../worker/records/schema.ts';
import { openPgliteClient, type SqlClient } from '../../worker/records/sql.ts';
import { createRecordsStore } from '../../worker/records/store.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import { withMemoryStore } from '../support/records.ts';

const PASSWORD = 'correct horse battery staple';

describe('canonicalUserId', () => {
  it.each([
    ['alice', 'alice'],
    ['Alice', 'alice'],
    ['  ALICE\t', 'alice'],
    ['Ǆemal', 'ǆemal'],
    ['A\u030Angstrom', 'ångstrom'], // decomposed Å → composed å
    ['\u00C5ngstrom', 'ångstrom'],
    ['İlker', 'i̇lker'],
  ])('%j → %j', (raw, canonical) => {
    expect(canonicalUserId(raw)).toBe(canonical.normalize('NFC'));
    expect(canonicalUserId(canonicalUserId(raw))).toBe(canonicalUserId(raw));
    expect(isCanonicalUserId(canonicalUserId(raw))).toBe(true);
  });

  it('groups ids that collide once canonical', () => {
    expect(userIdCollisions(['alice', 'bob', 'Alice', ' alice '])).toEqual([
      { canonical: 'alice', ids: ['alice', 'Alice', ' alice '] },
    ]);
    expect(userIdCollisions(['alice', 'bob'])).toEqual([]);
  });
});

describe('one user whatever the case', () => {
  let sql: SqlClient;
  let store: RecordsStore;
  withMemoryStore((s) => ({ sql, store } = s));

  it('stores the canonical id, refuses a case variant, and finds the user either way', async () => {
    const alice = await store.createUser(
      { id: ' Alice', displayName: 'Alice', roles: ['project_staff'], password: PASSWORD },
      'admin1',
    );
    expect(alice.id).toBe('alice');
    const err = await store
      .createUser(
        { id: 'ALICE', displayName: 'Impostor', roles: ['quality_manager'], password: PASSWORD },
        'x',
      )
      .catch((e: unknown) => e);
    expect(isRecordsError(err, 'USER_EXISTS')).toBe(true);
    expect((err as Error).message).toBe(
      'user "alice" already exists ("ALICE" is the same id: ids ignore case and surrounding spaces)',
    );
    expect((await store.listUsers()).map((u) => u.id)).toEqual(['alice']);
    expect((await store.getUser('ALICE'))?.id).toBe('alice');
    expect((await store.checkPassword('Alice', PASSWORD))?.id).toBe('alice');
    expect((await store.setRoles('ALICE', ['contractor'], 'admin1')).roles).toEqual(['contractor']);
    const session = await store.createSession('Alice', 60_000);
    expect(session.userId).toBe('alice');
    expect((await store.getSession(session.id))?.userId).toBe('alice');
  });

  it('the database refuses a non-canonical id written around the code', async () => {
    await expect(
      sql.query(
        `INSERT INTO users (id, display_name, roles, password_hash, created_at, updated_at)
         VALUES ('Bob', 'Bob', '["contractor"]', 'x', now(), now())`,
      ),
    ).rejects.toThrow(/users_id_canonical/);
  });
});

/** A database at schema version 1 (before canonical ids), with these users. */
async function versionOneWith(ids: string[]): Promise<SqlClient> {
  const sql = await openPgliteClient(null);
  await sql.transaction(async (tx) => {
    await tx.exec(`CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    await MIGRATIONS[0]!.up(tx);
    await tx.query(`INSERT INTO schema_migrations (version, name) VALUES (1, 'v1')`);
    for (const id of ids) {
      await tx.query(
        `INSERT INTO users (id, display_name, roles, password_hash, created_at, updated_at)
         VALUES ($1, $1, '["contractor"]', 'x', now(), now())`,
        [id],
      );
      await tx.query(`INSERT INTO user_clients (user_id, client) VALUES ($1, 'acme')`, [id]);
    }
  });
  return sql;
}

describe('migration to canonical ids', () => {
  it('renames non-canonical ids (clients kept, the rename audited)', async () => {
    const sql = await versionOneWith(['Carol', 'dave']);
    const store = await createRecordsStore(sql);
    expect((await store.listUsers()).map((u) => [u.id, u.clients])).toEqual([
      ['carol', ['acme']],
      ['dave', ['acme']],
    ]);
    const [rename] = await store.audit({ subject: 'user:carol' });
    expect(rename).toMatchObject({
      kind: 'admin',
      actorId: 'custodia',
      body: { act: 'user.canonicalize', before: { id: 'Carol' }, after: { id: 'carol' } },
    });
    expect((await store.verifyAudit()).ok).toBe(true);
    await store.close();
  }, 60_000);

  it('refuses ids that collide once canonical, naming them, and changes nothing', async () => {
    const sql = await versionOneWith(['alice', 'Alice', 'bob', 'BOB ']);
    const err = await migrate(sql).catch((e: unknown) => e);
    expect(isRecordsError(err, 'USER_ID_COLLISION')).toBe(true);
    expect((err as Error).message).toContain('"Alice", "alice" (all "alice")');
    expect((err as Error).message).toContain('"BOB ", "bob" (all "bob")');
    expect((err as Error).message).toContain('Nothing was changed');
    expect(await sql.query('SELECT max(version) AS v FROM schema_migrations')).toEqual([{ v: 1 }]);
    expect((await sql.query<{ id: string }>('SELECT id FROM users ORDER BY id')).map((r) => r.id)).toEqual([
      'Alice',
      'BOB ',
      'alice',
      'bob',
    ]);
    await sql.close();
  }, 60_000);
});
