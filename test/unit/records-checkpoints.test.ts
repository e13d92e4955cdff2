/**
 * Signed checkpoints of the audit chain (Security item 4): someone with database access who
 * rewrites a record and recomputes every hash and the head fools the chain alone, but not a
 * checkpoint signed with a key outside the database and kept in a file outside it.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransitionCommit } from '../../workflows/api.ts';
import { auditHash } from '../../worker/records/audit.ts';
import { readCheckpointFile, type CheckpointOptions } from '../../worker/records/checkpoints.ts';
import { isRecordsError } from '../../worker/records/errors.ts';
import { auditExport } from '../../worker/records/export.ts';
import { openPgliteClient, type SqlClient } from '../../worker/records/sql.ts';
import { createRecordsStore, openStore } from '../../worker/records/store.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import { tempDir } from '../temp-dir.ts';

const dir = tempDir('custodia-checkpoints-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8);

let n = 0;
function commitOf(workflowId: string, seq: number): TransitionCommit {
  return {
    workflowId,
    procedure: 'lending',
    version: '1.0.0',
    hash: 'a'.repeat(64),
    client: 'acme',
    record: {
      seq,
      at: new Date(Date.UTC(2025, 0, 1, 0, 0, n++)).toISOString(),
      event: 'APPROVE',
      actor: { id: 'bob', roles: ['quality_manager'] },
      from: ['submitted'],
      to: ['approved'],
      clauses: ['4.2.2'],
    },
    effects: [{ kind: 'record', record: 'lending_log', fields: { file: 'F-1', borrower: 'bob' } }],
  };
}

/**
 * What an attacker with database access does: drop the append-only trigger, change record
 * `position`, recompute the hash of every record from there on and the chain head.
 */
async function rewriteHistory(sql: SqlClient, store: RecordsStore, position: number): Promise<void> {
  const all = await store.audit();
  let prev = all[position - 2]?.hash ?? '0'.repeat(64);
  const statements: string[] = ['ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only'];
  for (const e of all.slice(position - 1)) {
    const body = e.position === position ? { ...e.body, event: 'REJECT' } : e.body;
    const hash = auditHash(prev, e.position, { ...e, body });
    statements.push(
      `UPDATE audit_log SET body = '${JSON.stringify(body)}'::jsonb, prev_hash = '${prev}', hash = '${hash}'
       WHERE position = ${e.position}`,
    );
    prev = hash;
  }
  statements.push(`UPDATE audit_chain_head SET hash = '${prev}' WHERE id = 1`);
  statements.push('ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only');
  await sql.exec(statements.join(';\n'));
}

describe('signed checkpoints', () => {
  let sql: SqlClient;
  let store: RecordsStore;
  let options: CheckpointOptions;

  beforeAll(async () => {
    options = {
      keyFile: path.join(dir, 'keys', 'audit-checkpoint.key'),
      logFile: path.join(dir, 'audit-checkpoints.jsonl'),
      every: 0,
    };
    sql = await openPgliteClient(null);
    store = await createRecordsStore(sql, { checkpoints: options });
  }, 60_000);
  afterAll(async () => {
    await store?.close();
  });

  it('signs the head with a key created 0600 on first use, into a 0600 file and the database', async () => {
    for (let i = 0; i < 4; i++) await store.commit(commitOf('wf-1', i), []);
    const c = await store.checkpoint();
    expect(c).toMatchObject({ position: 4, hash: (await store.audit()).at(-1)!.hash });
    expect(mode(options.keyFile)).toBe('600');
    expect(mode(path.dirname(options.keyFile))).toBe('700');
    expect(mode(options.logFile)).toBe('600');
    expect(readFileSync(options.keyFile, 'utf8')).toContain('BEGIN PRIVATE KEY');
    expect(readCheckpointFile(options.logFile)).toEqual([c]);
    expect(await sql.query('SELECT position FROM audit_checkpoints')).toEqual([{ position: 4 }]);
    // Nothing new: the same checkpoint, nothing appended.
    expect(await store.checkpoint()).toEqual(c);
    expect(readCheckpointFile(options.logFile)).toHaveLength(1);
    await store.commit(commitOf('wf-1', 4), []);
    await store.commit(commitOf('wf-1', 5), []);
    expect((await store.checkpoint())?.position).toBe(6);
    const v = await store.verifyAudit();
    expect(v).toMatchObject({ ok: true, problems: [], checkpoints: { verified: 2, last: { position: 6 } } });
  });

  it('exports carry the checkpoints and the public key that verifies them', async () => {
    const signed = await store.checkpoints();
    expect(signed.checkpoints.map((c) => c.position)).toEqual([4, 6]);
    expect(Buffer.from(signed.publicKey!, 'base64')).toHaveLength(32);
    const doc = auditExport(await store.audit(), signed);
    expect(doc).toMatchObject({ format: 'custodia-audit-export/1', keyId: signed.keyId });
    expect(doc.checkpoints).toHaveLength(2);
  });

  it('detects a record rewritten and the chain recomputed inside the database, naming the checkpoint', async () => {
    await store.commit(commitOf('wf-1', 6), []);
    const checkpoints = readCheckpointFile(options.logFile);
    await rewriteHistory(sql, store, 3);
    // The chain alone is fooled: a store without the checkpoints finds nothing wrong.
    const blind = await createRecordsStore(sql);
    expect((await blind.verifyAudit()).ok).toBe(true);

    const v = await store.verifyAudit();
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual([
      {
        position: 4,
        kind: 'checkpoint_mismatch',
        message: expect.stringMatching(
          new RegExp(
            `^the checkpoint signed ${checkpoints[0]!.at} \\(position 4, hash ${checkpoints[0]!.hash.slice(0, 12)}…\\) ` +
              'does not match record 4 .*: the history up to it was rewritten; 1 later checkpoint\\(s\\) disagree too$',
          ),
        ),
      },
    ]);
    // Removing the database's copies does not help: the file outside it still holds them.
    await sql.exec(`ALTER TABLE audit_checkpoints DISABLE TRIGGER audit_checkpoints_append_only;
      DELETE FROM audit_checkpoints; ALTER TABLE audit_checkpoints ENABLE TRIGGER audit_checkpoints_append_only`);
    expect((await store.verifyAudit()).problems).toMatchObject([
      { position: 4, kind: 'checkpoint_mismatch' },
    ]);
    // And no new checkpoint blesses the rewritten history.
    const err = await store.checkpoint().catch((e: unknown) => e);
    expect(isRecordsError(err, 'CHECKPOINT_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/record 6 no longer matches the checkpoint/);
  });

  it('refuses a checkpoint forged into the database (not signed with the key)', async () => {
    const head = (await store.verifyAudit()).head;
    await sql.query(
      `INSERT INTO audit_checkpoints (position, hash, at, key_id, signature) VALUES ($1, $2, now(), 'ffff', 'AAAA')`,
      [head.position, head.hash],
    );
    const v = await store.verifyAudit();
    expect(v.problems.map((p) => p.kind)).toContain('checkpoint_invalid');
    expect(v.problems.find((p) => p.kind === 'checkpoint_invalid')!.message).toMatch(/database copy.*forged/);
  });

  it('refuses a key file others can read', async () => {
    const keyFile = path.join(dir, 'loose.key');
    writeFileSync(keyFile, readFileSync(options.keyFile));
    chmodSync(keyFile, 0o644);
    const s = await createRecordsStore(await openPgliteClient(null), {
      checkpoints: { ...options, keyFile, logFile: path.join(dir, 'loose.jsonl') },
    });
    await s.commit(commitOf('wf-2', 0), []);
    const err = await s.checkpoint().catch((e: unknown) => e);
    expect(isRecordsError(err, 'CHECKPOINT_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/readable by others \(mode 644\): chmod 600/);
    await s.close();
  }, 60_000);
});

describe('when checkpoints are taken', () => {
  it('every N appends, and when a store that appended closes', async () => {
    const options: CheckpointOptions = {
      keyFile: path.join(dir, 'n', 'k.key'),
      logFile: path.join(dir, 'n', 'checkpoints.jsonl'),
      every: 3,
    };
    const store = await createRecordsStore(await openPgliteClient(null), { checkpoints: options });
    for (let i = 0; i < 3; i++) await store.commit(commitOf('wf-n', i), []);
    await expect.poll(() => readCheckpointFile(options.logFile).map((c) => c.position)).toEqual([3]);
    await store.commit(commitOf('wf-n', 3), []);
    await store.close();
    expect(readCheckpointFile(options.logFile).map((c) => c.position)).toEqual([3, 4]);
  }, 60_000);

  // (0711 as root: the store's PostgreSQL server then runs as another OS user, which must enter it.)
  it('the embedded store folder is 0700 even when it existed, and the checkpoint files sit in it 0600', async () => {
    const data = path.join(dir, 'embedded');
    mkdirSync(data, { mode: 0o755 });
    chmodSync(data, 0o755);
    const options = {
      keyFile: path.join(data, 'audit-checkpoint.key'),
      logFile: path.join(data, 'cp.jsonl'),
    };
    const store = await openStore({ dataDir: data, checkpoints: options });
    expect(mode(data)).toBe(process.getuid?.() === 0 ? '711' : '700');
    await store.commit(commitOf('wf-e', 0), []);
    await store.close();
    expect(mode(options.keyFile)).toBe('600');
    expect(mode(options.logFile)).toBe('600');
    const again = await openStore({ dataDir: data, checkpoints: options });
    expect(await again.verifyAudit()).toMatchObject({ ok: true, checkpoints: { verified: 1 } });
    await again.close();
  }, 60_000);
});
