/**
 * The records store against both engines: the embedded one (PGlite, in memory) and a real
 * PostgreSQL server (the throwaway cluster of `postgres-setup.ts`; each test gets a fresh
 * database). Same tests, same expectations: idempotent commits under retry, one gapless chain under
 * concurrent writers (on PostgreSQL from five store instances, as five processes would), the
 * append-only trigger, tamper detection, users, sessions, definition versions, and a worker that
 * writes to PostgreSQL through DATABASE_URL.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { TransitionCommit } from '../../workflows/api.ts';
import { hashProcedure } from '../../workflows/core/hash.ts';
import { auditHash, GENESIS_HASH } from '../../worker/records/audit.ts';
import type { CheckpointOptions } from '../../worker/records/checkpoints.ts';
import { serviceRoleGrants } from '../../worker/records/postgres-roles.ts';
import { isRecordsError } from '../../worker/records/errors.ts';
import { MIGRATIONS } from '../../worker/records/schema.ts';
import { openPgliteClient, openPostgresClient, type SqlClient } from '../../worker/records/sql.ts';
import { createRecordsStore, openStore } from '../../worker/records/store.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import { startProcedure } from '../../worker/instances.ts';
import { loadDeployedDefinitions, runWorker } from '../../worker/process.ts';
import { ENGINE_FIXTURES, eventually, sendEvent, sharedBundle, testConfig } from './harness.ts';

const postgresUrl = inject('postgresUrl');
if (!postgresUrl && process.env.CI)
  throw new Error(`CI is set but there is no PostgreSQL server: ${inject('postgresSkipReason')}`);

/** A fresh, empty store, the SQL client under it, and a way to open more instances on the same data. */
interface Fresh {
  sql: SqlClient;
  store: RecordsStore;
  /** Another store on the same database (PostgreSQL only; PGlite is one process's). */
  another?: () => Promise<RecordsStore>;
  url?: string;
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function freshEmbedded(): Promise<Fresh> {
  const sql = await openPgliteClient(null);
  const store = await createRecordsStore(sql);
  cleanups.push(() => store.close());
  return { sql, store };
}

/** A new database on the test server, dropped after the file. */
async function freshDatabase(): Promise<string> {
  const admin = await openPostgresClient(postgresUrl!, { max: 1 });
  const name = `custodia_t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  await admin.query(`CREATE DATABASE ${name}`);
  cleanups.push(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.close();
  });
  const url = new URL(postgresUrl!);
  url.pathname = `/${name}`;
  return url.toString();
}

async function freshPostgres(): Promise<Fresh> {
  const url = await freshDatabase();
  const sql = await openPostgresClient(url);
  const store = await createRecordsStore(sql);
  cleanups.push(() => store.close());
  const another = async (): Promise<RecordsStore> => {
    const s = await openStore({ databaseUrl: url });
    cleanups.push(() => s.close());
    return s;
  };
  return { sql, store, another, url };
}

const backends = [
  { name: 'embedded (PGlite)', fresh: freshEmbedded, available: true },
  { name: 'PostgreSQL', fresh: freshPostgres, available: postgresUrl !== null },
];

let tick = 0;
function commitOf(workflowId: string, seq: number): TransitionCommit {
  return {
    workflowId,
    procedure: 'lending',
    version: '1.0.0',
    hash: 'a'.repeat(64),
    client: 'acme',
    record: {
      seq,
      at: new Date(Date.UTC(2025, 0, 1) + tick++ * 1000).toISOString(),
      event: 'APPROVE',
      actor: { id: 'bob', roles: ['quality_manager'] },
      from: ['submitted'],
      to: ['approved'],
      clauses: ['4.2.2'],
    },
    effects: [
      { kind: 'record', record: 'lending_log', fields: { file: `F-${seq}` } },
      { kind: 'notify', to: 'client', message: { zh: '已批准', en: 'Approved' } },
    ],
  };
}

function expectSingleChain(all: { position: number; prevHash: string; hash: string }[]): void {
  expect(all.map((e) => e.position)).toEqual(all.map((_, i) => i + 1));
  for (const [i, e] of all.entries()) expect(e.prevHash).toBe(i === 0 ? GENESIS_HASH : all[i - 1]!.hash);
  expect(new Set(all.map((e) => e.hash)).size).toBe(all.length);
}

for (const backend of backends)
  describe.skipIf(!backend.available)(`records store on ${backend.name}`, () => {
    it('commits a transition once under retries, sequential and concurrent, from several instances', async () => {
      const f = await backend.fresh();
      const stores = f.another ? [f.store, await f.another(), await f.another()] : [f.store];
      const c = commitOf('wf-retry', 3);
      await f.store.commit(c, [{ workflowId: 'child', procedure: 'case', seq: 3 }]);
      await Promise.all(stores.flatMap((s) => [s.commit(c, []), s.commit(c, [])]));
      const audit = await f.store.auditOf('wf-retry');
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ seq: 3, body: { children: [{ workflowId: 'child' }] } });
      expect(await f.store.notificationsOf('wf-retry')).toEqual([
        { seq: 3, recipient: 'client', en: 'Approved' },
      ]);
      expect(await f.store.recordsOf('wf-retry')).toHaveLength(1);
      // A first attempt racing its retry: both in flight before either committed.
      const d = commitOf('wf-race', 0);
      await Promise.all(stores.map((s) => s.commit(d, [])));
      expect(await f.store.auditOf('wf-race')).toHaveLength(1);
      expect((await f.store.verifyAudit()).ok).toBe(true);
    });

    it('keeps a single gapless chain under 50 parallel commits (5 instances × 10 on PostgreSQL), verified meanwhile', async () => {
      const f = await backend.fresh();
      const stores = f.another
        ? [f.store, ...(await Promise.all([1, 2, 3, 4].map(() => f.another!())))]
        : [f.store];
      // Verifications running meanwhile see a consistent chain (never a false alarm).
      const [, ...verifications] = await Promise.all([
        Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            stores[i % stores.length]!.commit(commitOf(`wf-${i % 7}`, i), []),
          ),
        ),
        ...stores.map((s) => s.verifyAudit()),
      ]);
      for (const v of verifications) expect(v).toMatchObject({ ok: true, problems: [] });
      const all = await f.store.audit();
      expect(all).toHaveLength(50);
      expectSingleChain(all);
      expect(new Set(all.map((e) => `${e.subject}#${e.seq}`)).size).toBe(50);
      for (const s of stores) expect(await s.verifyAudit()).toMatchObject({ ok: true, checked: 50 });
    });

    it('refuses UPDATE and DELETE of audit records (trigger)', async () => {
      const f = await backend.fresh();
      await f.store.commit(commitOf('wf-1', 0), []);
      await expect(f.sql.query(`UPDATE audit_log SET actor = 'mallory'`)).rejects.toThrow(/append-only/);
      await expect(f.sql.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
      expect(await f.store.auditOf('wf-1')).toMatchObject([{ actorId: 'bob' }]);
    });

    it('verifyAudit finds a tampered body, a deleted record and a swapped pair', async () => {
      const f = await backend.fresh();
      for (let i = 0; i < 10; i++) await f.store.commit(commitOf('wf-t', i), []);
      expect((await f.store.verifyAudit()).ok).toBe(true);
      await f.sql.exec('DROP TRIGGER audit_log_append_only ON audit_log');

      await f.sql.query(
        `UPDATE audit_log SET body = jsonb_set(body, '{event}', '"REJECT"') WHERE position = 3`,
      );
      let v = await f.store.verifyAudit();
      expect(v.ok).toBe(false);
      expect(v.problems.map((p) => [p.position, p.kind])).toEqual([[3, 'altered']]);
      await f.sql.query(
        `UPDATE audit_log SET body = jsonb_set(body, '{event}', '"APPROVE"') WHERE position = 3`,
      );
      expect((await f.store.verifyAudit()).ok).toBe(true);

      const [row5] = await f.sql.query<Record<string, unknown>>('SELECT * FROM audit_log WHERE position = 5');
      await f.sql.query('DELETE FROM audit_log WHERE position = 5');
      v = await f.store.verifyAudit();
      expect(v.problems).toEqual([{ position: 5, kind: 'missing', message: 'record 5 is missing' }]);
      await f.sql.query(
        'INSERT INTO audit_log SELECT * FROM jsonb_populate_record(NULL::audit_log, $1::jsonb)',
        [JSON.stringify(row5)],
      );
      expect((await f.store.verifyAudit()).ok).toBe(true);

      const swap = async (): Promise<void> => {
        await f.sql.query('UPDATE audit_log SET position = 1000 WHERE position = 7');
        await f.sql.query('UPDATE audit_log SET position = 7 WHERE position = 8');
        await f.sql.query('UPDATE audit_log SET position = 8 WHERE position = 1000');
      };
      await swap();
      v = await f.store.verifyAudit();
      expect(v.problems.map((p) => [p.position, p.kind, p.message])).toEqual([
        [7, 'reordered', 'record 7 is intact but was written at position 8'],
        [8, 'reordered', 'record 8 is intact but was written at position 7'],
      ]);
      await swap();
      expect((await f.store.verifyAudit()).ok).toBe(true);
    });

    it('checks passwords, expires sessions, and keeps definition versions immutable', async () => {
      const f = await backend.fresh();
      await f.store.createUser(
        {
          id: 'alice',
          displayName: 'Alice',
          roles: ['project_staff'],
          clients: ['acme'],
          password: 'a long passphrase',
        },
        'admin',
      );
      expect(await f.store.checkPassword('alice', 'a long passphrase')).toMatchObject({ clients: ['acme'] });
      expect(await f.store.checkPassword('alice', 'a long passphrasE')).toBeUndefined();
      const weak = await f.store
        .createUser({ id: 'bob', displayName: 'Bob', roles: ['admin'], password: 'short' }, 'admin')
        .catch((e: unknown) => e);
      expect(isRecordsError(weak, 'WEAK_PASSWORD')).toBe(true);

      const s = await f.store.createSession('alice', 100);
      expect(await f.store.getSession(s.id)).toEqual(s);
      await new Promise((r) => setTimeout(r, 150));
      expect(await f.store.getSession(s.id)).toBeUndefined();
      expect(await f.store.deleteExpiredSessions()).toBe(1);

      const def = loadDeployedDefinitions([ENGINE_FIXTURES]).get('engine_review')!;
      const d = {
        procedure: def.ir.id,
        version: def.ir.version,
        hash: def.hash,
        yaml: 'id: engine_review',
        ir: def.ir,
        deployedBy: 'admin',
      };
      const first = await f.store.deployDefinition(d);
      expect(await f.store.deployDefinition({ ...d, deployedBy: 'other' })).toEqual(first);
      const changed = { ...def.ir, title: { ...def.ir.title, en: 'Changed' } };
      const conflict = await f.store
        .deployDefinition({ ...d, ir: changed, hash: hashProcedure(changed) })
        .catch((e: unknown) => e);
      expect(isRecordsError(conflict, 'DEFINITION_CONFLICT')).toBe(true);
      expect(hashProcedure((await f.store.definitionVersion(d.procedure, d.version))!.ir)).toBe(def.hash);
      await expect(f.sql.query(`UPDATE definition_versions SET yaml = ''`)).rejects.toThrow(/append-only/);

      const kinds = (await f.store.audit()).map((e) => [e.kind, e.kind === 'admin' ? e.body.act : e.subject]);
      expect(kinds).toEqual([
        ['admin', 'user.create'],
        ['deployment', `${d.procedure}@${d.version}`],
      ]);
      expect((await f.store.verifyAudit()).ok).toBe(true);
    });
  });

describe.skipIf(!postgresUrl)('records store on PostgreSQL: processes', () => {
  it('migrates once when five instances open a new database at the same time', async () => {
    const url = await freshDatabase();
    const stores = await Promise.all([1, 2, 3, 4, 5].map(() => openStore({ databaseUrl: url })));
    for (const s of stores) cleanups.push(() => s.close());
    expect(stores.map((s) => s.backend)).toEqual(Array(5).fill('postgres'));
    const sql = await openPostgresClient(url, { max: 1 });
    cleanups.push(() => sql.close());
    expect(await sql.query('SELECT version FROM schema_migrations ORDER BY version')).toEqual(
      MIGRATIONS.map((m) => ({ version: m.version })),
    );
    expect(await sql.query('SELECT position, hash FROM audit_chain_head')).toEqual([
      { position: 0, hash: GENESIS_HASH },
    ]);
  });

  it('a worker started with DATABASE_URL writes its audit records to PostgreSQL', async () => {
    const url = await freshDatabase();
    const { config, address } = testConfig();
    const definitions = loadDeployedDefinitions([ENGINE_FIXTURES]);
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = url;
    const running = await runWorker(config, { address, definitions, bundle: sharedBundle() }).finally(() => {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
    });
    cleanups.push(() => running.shutdown());
    expect(running.store.backend).toBe('postgres');

    const alice = { id: 'alice', roles: ['project_staff'] };
    const bob = { id: 'bob', roles: ['quality_manager'] };
    const id = await startProcedure(running.client, definitions.get('engine_review')!, {
      context: { client: 'acme' },
      starter: alice,
      taskQueue: config.taskQueue,
    });
    await sendEvent(running.client, id, { type: 'SUBMIT', actor: alice, data: { purpose: 'audit prep' } });
    await sendEvent(running.client, id, { type: 'APPROVE', actor: bob, data: { window_hours: 4 } });

    // Another process's view of the same database.
    const reader = await openStore({ databaseUrl: url });
    cleanups.push(() => reader.close());
    const audit = await eventually(async () => {
      const rows = await reader.auditOf(id);
      return rows.length === 3 && rows;
    });
    expect(audit.map((e) => [e.seq, e.actorId, e.body.event])).toEqual([
      [0, 'alice', '$start'],
      [1, 'alice', 'SUBMIT'],
      [2, 'bob', 'APPROVE'],
    ]);
    expect(audit.every((e) => e.client === 'acme')).toBe(true);
    expect(await reader.recordsOf(id)).toMatchObject([
      { seq: 2, name: 'approval_log', fields: { hours: 4 } },
    ]);
    expectSingleChain(await reader.audit());
    expect((await reader.verifyAudit()).ok).toBe(true);
  });
});

const checkpointDir = mkdtempSync(path.join(tmpdir(), 'custodia-int-checkpoints-'));
cleanups.unshift(async () => rmSync(checkpointDir, { recursive: true, force: true }));

for (const backend of backends)
  describe.skipIf(!backend.available)(`signed checkpoints on ${backend.name}`, () => {
    it('detect a record rewritten with the chain and head recomputed inside the database', async () => {
      const f = await backend.fresh();
      const options: CheckpointOptions = {
        keyFile: path.join(checkpointDir, `${randomUUID()}.key`),
        logFile: path.join(checkpointDir, `${randomUUID()}.jsonl`),
        every: 0,
      };
      const store = await createRecordsStore(f.sql, { checkpoints: options });
      for (let i = 0; i < 5; i++) await store.commit(commitOf('wf-cp', i), []);
      const c = await store.checkpoint();
      expect(c?.position).toBe(5);
      expect((await store.verifyAudit()).ok).toBe(true);

      const all = await store.audit();
      let prev = all[1]!.hash;
      await f.sql.exec('ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only');
      for (const e of all.slice(2)) {
        const body = e.position === 3 ? { ...e.body, event: 'REJECT' } : e.body;
        const hash = auditHash(prev, e.position, { ...e, body });
        await f.sql.query(
          'UPDATE audit_log SET body = $1::jsonb, prev_hash = $2, hash = $3 WHERE position = $4',
          [JSON.stringify(body), prev, hash, e.position],
        );
        prev = hash;
      }
      await f.sql.query('UPDATE audit_chain_head SET hash = $1 WHERE id = 1', [prev]);
      expect((await f.store.verifyAudit()).ok).toBe(true); // the chain alone is fooled
      const v = await store.verifyAudit();
      expect(v.problems).toMatchObject([
        {
          position: 5,
          kind: 'checkpoint_mismatch',
          message: expect.stringContaining(`the checkpoint signed ${c!.at} (position 5`),
        },
      ]);
    });
  });

describe.skipIf(!postgresUrl)('PostgreSQL service role', () => {
  it('runs Custodia but cannot drop or disable triggers, truncate, or change append-only rows', async () => {
    const suffix = randomUUID().replace(/-/g, '').slice(0, 10);
    const owner = `custodia_owner_${suffix}`;
    const service = `custodia_app_${suffix}`;
    const name = `custodia_roles_${suffix}`;
    const admin = await openPostgresClient(postgresUrl!, { max: 1 });
    await admin.exec(`CREATE ROLE ${owner} LOGIN; CREATE ROLE ${service} LOGIN`);
    await admin.exec(`CREATE DATABASE ${name} OWNER ${owner}`);
    cleanups.push(async () => {
      await admin.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.exec(`DROP ROLE IF EXISTS ${service}; DROP ROLE IF EXISTS ${owner}`);
      await admin.close();
    });
    const urlAs = (role: string): string => {
      const u = new URL(postgresUrl!);
      u.username = role;
      u.pathname = `/${name}`;
      return u.toString();
    };
    // The owner migrates and grants.
    const asOwner = await openStore({ databaseUrl: urlAs(owner) });
    await asOwner.close();
    const ownerSql = await openPostgresClient(urlAs(owner), { max: 1 });
    await ownerSql.exec(serviceRoleGrants(service));
    await ownerSql.close();

    // The service works …
    const sql = await openPostgresClient(urlAs(service));
    const store = await createRecordsStore(sql);
    cleanups.push(() => store.close());
    await store.commit(commitOf('wf-svc', 0), []);
    await store.createUser(
      {
        id: 'Alice',
        displayName: 'Alice',
        roles: ['project_staff'],
        clients: ['acme'],
        password: 'long enough passphrase',
      },
      'admin1',
    );
    await store.setRoles('alice', ['contractor'], 'admin1');
    const session = await store.createSession('alice', 60_000);
    await store.deleteSession(session.id);
    expect((await store.verifyAudit()).ok).toBe(true);

    // … but cannot take the protections away.
    const refused: [string, RegExp][] = [
      ['ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only', /must be owner/],
      ['DROP TRIGGER audit_log_append_only ON audit_log', /must be owner/],
      ['DROP TRIGGER users_traced ON users', /must be owner/],
      ['ALTER TABLE users DISABLE TRIGGER ALL', /must be owner/],
      ['TRUNCATE audit_log', /permission denied/],
      [`UPDATE audit_log SET actor = 'mallory'`, /permission denied/],
      [`UPDATE procedure_records SET fields = '{}'`, /permission denied/],
      ['DELETE FROM audit_checkpoints', /permission denied/],
      ['DELETE FROM change_history', /permission denied/],
      ['CREATE TABLE sneaky (id int)', /permission denied/],
    ];
    for (const [statement, error] of refused)
      await expect(sql.query(statement), statement).rejects.toThrow(error);
    // A raw change it may make is traced and reported.
    await sql.query(`UPDATE users SET roles = '["admin"]' WHERE id = 'alice'`);
    const v = await store.verifyAudit();
    expect(v.problems).toMatchObject([
      { kind: 'untraced_change', message: expect.stringContaining(`by database role ${service}`) },
    ]);
  });
});
