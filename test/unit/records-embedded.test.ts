/**
 * The embedded store's directory lock (PGlite is one process's database) and the schema
 * migrations: applied once, legacy audit rows carried into the chain, newer schemas refused.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCK_FILE } from '../../worker/records/embedded-lock.ts';
import { isRecordsError } from '../../worker/records/errors.ts';
import { migrate } from '../../worker/records/schema.ts';
import { openPgliteClient } from '../../worker/records/sql.ts';
import { createRecordsStore, openStore } from '../../worker/records/store.ts';
import { tempDir } from '../temp-dir.ts';

const dir = tempDir('custodia-records-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('embedded store directory', () => {
  it('refuses a second opener while open, and opens again once closed', async () => {
    const data = path.join(dir, 'a');
    const first = await openStore({ dataDir: data });
    expect(first.backend).toBe('embedded');
    expect(existsSync(path.join(data, LOCK_FILE))).toBe(true);
    const err = await openStore({ dataDir: data }).catch((e: unknown) => e);
    expect(isRecordsError(err, 'STORE_IN_USE')).toBe(true);
    expect((err as Error).message).toContain('the embedded store is in use by a running Custodia');
    expect((err as Error).message).toContain('stop it or use DATABASE_URL (PostgreSQL) for multi-process');
    await first.commit(
      {
        workflowId: 'w',
        procedure: 'p',
        version: '1',
        hash: 'h',
        record: {
          seq: 0,
          at: new Date().toISOString(),
          event: '$start',
          actor: { id: 'a', roles: [] },
          from: [],
          to: ['s'],
          clauses: [],
        },
        effects: [],
      },
      [],
    );
    await first.close();
    expect(existsSync(path.join(data, LOCK_FILE))).toBe(false);
    const again = await openStore({ dataDir: data });
    expect(await again.auditOf('w')).toHaveLength(1);
    expect((await again.verifyAudit()).ok).toBe(true);
    await again.close();
  }, 60_000);

  it('takes over a lock left by a process that is gone', async () => {
    const data = path.join(dir, 'b');
    const dead = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString();
    mkdirSync(data, { recursive: true });
    writeFileSync(
      path.join(data, LOCK_FILE),
      JSON.stringify({ pid: Number(dead), host: hostname(), since: 'x' }),
    );
    const store = await openStore({ dataDir: data });
    await store.close();
  }, 60_000);
});

describe('schema migrations', () => {
  it('applies once, carries a legacy audit_records table into the chain, refuses a newer schema', async () => {
    const sql = await openPgliteClient(null);
    await sql.exec(`CREATE TABLE audit_records (
      workflow_id text NOT NULL, seq integer NOT NULL, procedure text NOT NULL, version text NOT NULL,
      definition_hash text NOT NULL, client text, event text NOT NULL, actor_id text NOT NULL,
      actor_roles jsonb NOT NULL, at timestamptz NOT NULL, from_states jsonb NOT NULL, to_states jsonb NOT NULL,
      clauses jsonb NOT NULL, data jsonb, recorded_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (workflow_id, seq));
    INSERT INTO audit_records VALUES
      ('old-1', 0, 'p', '1', 'h', 'acme', '$start', 'alice', '["staff"]', '2024-05-01T10:00:00Z', '[]', '["a"]', '[]', NULL, '2024-05-01T10:00:00Z'),
      ('old-1', 1, 'p', '1', 'h', 'acme', 'GO', 'bob', '["qm"]', '2024-05-01T11:00:00Z', '["a"]', '["b"]', '["4.2.2"]', '{"n": 1}', '2024-05-01T11:00:00Z');`);
    const store = await createRecordsStore(sql);
    expect(await migrate(sql)).toEqual({ applied: [] });
    const audit = await store.auditOf('old-1');
    expect(audit.map((e) => [e.position, e.seq, e.actorId, e.at])).toEqual([
      [1, 0, 'alice', '2024-05-01T10:00:00.000Z'],
      [2, 1, 'bob', '2024-05-01T11:00:00.000Z'],
    ]);
    expect(audit[1]!.body).toMatchObject({ event: 'GO', clauses: ['4.2.2'], data: { n: 1 } });
    expect((await store.verifyAudit()).ok).toBe(true);
    expect(await sql.query(`SELECT count(*)::int AS n FROM audit_records_legacy`)).toEqual([{ n: 2 }]);

    await sql.query(`INSERT INTO schema_migrations (version, name) VALUES (999, 'from the future')`);
    const err = await migrate(sql).catch((e: unknown) => e);
    expect(isRecordsError(err, 'SCHEMA_TOO_NEW')).toBe(true);
    await store.close();
  }, 60_000);
});
