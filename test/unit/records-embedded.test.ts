/**
 * The embedded store's server (shared by the processes that open its folder, stopped with the last
 * store of the process that started it; a stale postmaster.pid removed) and the schema migrations: applied once, legacy audit rows carried into the chain, newer schemas refused.
 */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLUSTER_DIR, runningServerOf } from '../../worker/records/embedded-server.ts';
import { isRecordsError } from '../../worker/records/errors.ts';
import { migrate } from '../../worker/records/schema.ts';
import { openPgliteClient } from '../../worker/records/sql.ts';
import { createRecordsStore, openStore } from '../../worker/records/store.ts';
import { tempDir } from '../temp-dir.ts';

const dir = tempDir('custodia-records-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('embedded store directory', () => {
  it('is one server that a second opener shares, stopped when the last store closes', async () => {
    const data = path.join(dir, 'a');
    const first = await openStore({ dataDir: data });
    expect(first.backend).toBe('embedded');
    const server = runningServerOf(data);
    expect(server?.owner).toMatchObject({ pid: process.pid, role: 'command' });
    const second = await openStore({ dataDir: data });
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
    expect(await second.auditOf('w')).toHaveLength(1);
    await first.close();
    expect(runningServerOf(data)?.pid).toBe(server!.pid);
    await second.close();
    expect(runningServerOf(data)).toBeUndefined();
    const again = await openStore({ dataDir: data });
    expect(await again.auditOf('w')).toHaveLength(1);
    expect((await again.verifyAudit()).ok).toBe(true);
    await again.close();
  }, 60_000);

  it('removes a postmaster.pid whose process is gone', async () => {
    const data = path.join(dir, 'a');
    const dead = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString();
    writeFileSync(path.join(data, CLUSTER_DIR, 'postmaster.pid'), `${dead}\n${data}\n`);
    const store = await openStore({ dataDir: data });
    expect(runningServerOf(data)?.pid).not.toBe(Number(dead));
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
