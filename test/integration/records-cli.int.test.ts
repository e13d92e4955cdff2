/**
 * `custodia user …` and `custodia audit …` as a user runs them (child processes), against the
 * embedded store in a folder (CUSTODIA_RECORDS_DIR) and against PostgreSQL (DATABASE_URL).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '../../worker/config.ts';
import { auditHash } from '../../worker/records/audit.ts';
import type { AuditExport } from '../../worker/records/export.ts';
import { openPostgresClient, type SqlClient } from '../../worker/records/sql.ts';
import { createRecordsStore, openStore } from '../../worker/records/store.ts';
import { assessDraft } from '../../worker/drafts.ts';
import { tempDir } from '../temp-dir.ts';
import { runningServerOf } from '../../worker/records/embedded-server.ts';
import { openEmbeddedOwnerClient } from '../../worker/records/embedded-store.ts';

const postgresUrl = inject('postgresUrl');
if (!postgresUrl && process.env.CI)
  throw new Error(`CI is set but there is no PostgreSQL server: ${inject('postgresSkipReason')}`);

const tmp = tempDir('custodia-cli-records-');
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(tmp, { recursive: true, force: true });
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function custodia(env: Record<string, string>, args: string[], input = ''): Promise<Result> {
  const { DATABASE_URL: _url, CUSTODIA_RECORDS_DIR: _dir, ...base } = process.env;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/custodia.mjs'), ...args], {
      cwd: REPO_ROOT,
      env: { ...base, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

interface Target {
  env: Record<string, string>;
  /** Raw SQL on the store's database while no CLI has it open. */
  withSql<T>(fn: (sql: SqlClient) => Promise<T>): Promise<T>;
}

function embeddedTarget(): Target {
  const dir = path.join(tmp, randomUUID());
  return {
    env: { CUSTODIA_RECORDS_DIR: dir },
    async withSql(fn) {
      const sql = await openEmbeddedOwnerClient(dir);
      try {
        return await fn(sql);
      } finally {
        await sql.close();
      }
    },
  };
}

async function postgresTarget(): Promise<Target> {
  const admin = await openPostgresClient(postgresUrl!, { max: 1 });
  const name = `custodia_cli_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  await admin.query(`CREATE DATABASE ${name}`);
  cleanups.push(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.close();
  });
  const url = new URL(postgresUrl!);
  url.pathname = `/${name}`;
  return {
    // The checkpoint key and file go to data/ by default with PostgreSQL; keep the test's apart.
    env: { DATABASE_URL: url.toString(), CUSTODIA_CHECKPOINT_DIR: path.join(tmp, name) },
    async withSql(fn) {
      const sql = await openPostgresClient(url.toString(), { max: 1 });
      try {
        return await fn(sql);
      } finally {
        await sql.close();
      }
    },
  };
}

const targets = [
  { name: 'embedded store', make: async () => embeddedTarget(), available: true },
  { name: 'PostgreSQL', make: postgresTarget, available: postgresUrl !== null },
];

for (const target of targets)
  describe.skipIf(!target.available)(`custodia user / audit on the ${target.name}`, () => {
    it('creates users from stdin passwords, refuses weak or missing ones, lists, assigns, resets', async () => {
      const t = await target.make();
      const create = await custodia(
        t.env,
        [
          'user',
          'create',
          'alice',
          '--name',
          'Alice Liddell',
          '--roles',
          'project_staff',
          '--clients',
          'acme',
          '--password-stdin',
        ],
        'correct horse battery\n',
      );
      expect(create).toMatchObject({
        code: 0,
        stdout: expect.stringContaining('created alice  Alice Liddell'),
      });

      const weak = await custodia(
        t.env,
        ['user', 'create', 'bob', '--name', 'Bob', '--roles', 'admin', '--password-stdin'],
        'tooshort\n',
      );
      expect(weak.code).toBe(1);
      expect(weak.stderr).toMatch(/password too short: 8 character\(s\), at least 12/);
      const none = await custodia(t.env, ['user', 'create', 'bob', '--name', 'Bob', '--roles', 'admin']);
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/no password: pipe it in with --password-stdin/);

      const assign = await custodia(t.env, ['user', 'assign', 'alice', '--clients', 'acme,globex']);
      expect(assign.stdout).toContain('clients=acme,globex');
      const reset = await custodia(
        t.env,
        ['user', 'reset-password', 'alice', '--password-stdin'],
        'a new long passphrase',
      );
      expect(reset.code).toBe(0);
      const list = await custodia(t.env, ['user', 'list', '--json']);
      expect(JSON.parse(list.stdout)).toMatchObject([
        { id: 'alice', displayName: 'Alice Liddell', roles: ['project_staff'], clients: ['acme', 'globex'] },
      ]);

      const verify = await custodia(t.env, ['audit', 'verify']);
      expect(verify.code).toBe(0);
      expect(verify.stdout.split('\n')[0]).toBe('audit chain intact: 3 records');
      const csv = await custodia(t.env, ['audit', 'show', 'user:alice', '--format', 'csv']);
      const lines = csv.stdout.trim().split('\r\n');
      expect(lines[0]).toBe('position,at,kind,subject,seq,client,actor,summary,body,prev_hash,hash');
      expect(lines.slice(1).map((l) => l.split(',').slice(2, 4).concat(l.split(',')[7]!))).toEqual([
        ['admin', 'user:alice', 'user.create'],
        ['admin', 'user:alice', 'user.assign'],
        ['admin', 'user:alice', 'user.password'],
      ]);
      expect(csv.stdout).not.toContain('horse');
    }, 180_000);

    it('staffs a procedure whose roles the engine does not know: roles come from files and deployed versions', async () => {
      const t = await target.make();
      // A definition folder with only the purchase procedure (roles requester, finance, legal, buyer).
      const env = { ...t.env, CUSTODIA_DEFINITIONS: 'test/fixtures/purchase' };
      const create = await custodia(
        env,
        ['user', 'create', 'fay', '--name', 'Fay', '--roles', 'finance,requester', '--password-stdin'],
        'correct horse battery\n',
      );
      expect(create).toMatchObject({ code: 0, stdout: expect.stringContaining('roles=finance,requester') });
      const admin = await custodia(
        env,
        ['user', 'create', 'ada', '--name', 'Ada', '--roles', 'admin,auditor', '--password-stdin'],
        'correct horse battery\n',
      );
      expect(admin.code).toBe(0);

      // Roles no definition declares are refused, naming the ones that exist.
      const wizard = await custodia(env, ['user', 'assign', 'fay', '--roles', 'wizard']);
      expect(wizard.code).toBe(2);
      expect(wizard.stderr).toMatch(
        /unknown role\(s\) wizard; known: admin, auditor, buyer, finance, legal, requester/,
      );
      // The confidentiality procedure's roles are not the engine's: unknown here.
      const staff = await custodia(env, ['user', 'assign', 'fay', '--roles', 'project_staff']);
      expect(staff.code).toBe(2);

      // A version deployed in the store (not among the files) brings its roles too.
      const yaml = readFileSync(path.join(REPO_ROOT, 'test/fixtures/purchase/purchase.yaml'), 'utf8')
        .replace('version: 1.0.0', 'version: 2.0.0')
        .replace('buyer: { zh: 采购员, en: Buyer }', 'treasurer: { zh: 出纳, en: Treasurer }')
        .replace('roles: buyer', 'roles: treasurer');
      const draft = assessDraft(yaml, 'purchase-2.yaml');
      expect(draft.diagnostics).toEqual([]);
      const def = draft.definition!;
      await t.withSql(async (sql) => {
        const store = await createRecordsStore(sql);
        await store.deployDefinition({
          procedure: def.ir.id,
          version: def.ir.version,
          hash: def.hash,
          yaml,
          ir: def.ir,
          deployedBy: 'ada',
        });
      });
      const treasurer = await custodia(env, ['user', 'assign', 'fay', '--roles', 'treasurer,buyer']);
      expect(treasurer).toMatchObject({ code: 0, stdout: expect.stringContaining('roles=treasurer,buyer') });
      const listed = await custodia(env, ['user', 'roles', '--json']);
      expect(
        (JSON.parse(listed.stdout) as { id: string; title: { en: string }; engine: boolean }[]).map((r) => [
          r.id,
          r.title.en,
          r.engine,
        ]),
      ).toEqual([
        ['admin', 'Administrator', true],
        ['auditor', 'Auditor', true],
        ['buyer', 'Buyer', false],
        ['finance', 'Finance', false],
        ['legal', 'Legal', false],
        ['requester', 'Requester', false],
        ['treasurer', 'Treasurer', false],
      ]);
    }, 180_000);

    it('audit verify exits 1 listing an altered record', async () => {
      const t = await target.make();
      for (const id of ['carol', 'dave'])
        await custodia(
          t.env,
          ['user', 'create', id, '--name', id, '--roles', 'contractor', '--password-stdin'],
          'long enough pass',
        );
      await t.withSql((sql) =>
        sql.exec(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
          UPDATE audit_log SET body = jsonb_set(body, '{roles}', '["admin"]') WHERE position = 1;`),
      );
      const verify = await custodia(t.env, ['audit', 'verify']);
      expect(verify.code).toBe(1);
      expect(verify.stdout).toMatch(/^audit chain BROKEN: 1 problem\(s\) in 2 records/);
      expect(verify.stdout).toContain('altered at 1: record 1: content does not match its hash');
      const json = await custodia(t.env, ['audit', 'verify', '--json']);
      expect(JSON.parse(json.stdout)).toMatchObject({
        ok: false,
        checked: 2,
        problems: [{ position: 1, kind: 'altered' }],
      });
    }, 120_000);
  });

for (const target of targets)
  describe.skipIf(!target.available)(`custodia audit checkpoints on the ${target.name}`, () => {
    it('signs checkpoints as commands change the store; verify names the checkpoint a rewrite contradicts', async () => {
      const t = await target.make();
      for (const id of ['carol', 'dave'])
        await custodia(
          t.env,
          ['user', 'create', id, '--name', id, '--roles', 'contractor', '--password-stdin'],
          'long enough pass',
        );
      const intact = await custodia(t.env, ['audit', 'verify']);
      expect(intact.code).toBe(0);
      expect(intact.stdout).toMatch(/^checkpoints: 2 signed with key [0-9a-f]{16}, the last at position 2 /m);
      expect(intact.stdout).toMatch(/audit-checkpoints\.jsonl/);
      const again = await custodia(t.env, ['audit', 'checkpoint']);
      expect(again.stdout).toMatch(/^checkpoint: position 2, hash [0-9a-f]{64}, signed /);

      const out = path.join(tmp, `${randomUUID()}.json`);
      const exported = await custodia(t.env, ['audit', 'export', '--out', out]);
      expect(exported.code).toBe(0);
      expect((statSync(out).mode & 0o777).toString(8)).toBe('600');
      const doc = JSON.parse(readFileSync(out, 'utf8')) as AuditExport;
      expect(doc.entries).toHaveLength(2);
      expect(doc.checkpoints.map((c) => c.position)).toEqual([1, 2]);
      expect(doc.publicKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);

      // Rewrite record 1 (the export appended record 3) and recompute the chain and head.
      await t.withSql(async (sql) => {
        const rows = await sql.query<{
          position: number;
          kind: 'admin';
          subject: string;
          actor: string;
          at: Date;
          body: Record<string, never>;
        }>('SELECT position, kind, subject, actor, at, body FROM audit_log ORDER BY position');
        await sql.exec('ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only');
        let prev = '0'.repeat(64);
        for (const r of rows) {
          const body = r.position === 1 ? { ...r.body, roles: ['admin'] } : r.body;
          const input = {
            kind: r.kind,
            subject: r.subject,
            actorId: r.actor,
            at: new Date(r.at).toISOString(),
            body,
          };
          const hash = auditHash(prev, r.position, input);
          await sql.query(
            'UPDATE audit_log SET body = $1::jsonb, prev_hash = $2, hash = $3 WHERE position = $4',
            [JSON.stringify(body), prev, hash, r.position],
          );
          prev = hash;
        }
        await sql.query('UPDATE audit_chain_head SET hash = $1 WHERE id = 1', [prev]);
      });
      const verify = await custodia(t.env, ['audit', 'verify']);
      expect(verify.code).toBe(1);
      expect(verify.stdout).toMatch(/^audit chain BROKEN: 1 problem\(s\) in 3 records/);
      expect(verify.stdout).toContain(
        `checkpoint_mismatch at 1: the checkpoint signed ${doc.checkpoints[0]!.at} (position 1, hash ${doc.checkpoints[0]!.hash.slice(0, 12)}…) does not match record 1`,
      );
    }, 180_000);
  });

describe('custodia and a running embedded store', () => {
  it('works on the server a running process holds, and leaves it running', async () => {
    const dir = path.join(tmp, 'held');
    // As under `npm start`: a long-lived process has the embedded server up.
    const held = await openStore({ dataDir: dir, embeddedRole: 'service' });
    try {
      const server = runningServerOf(dir);
      const r = await custodia({ CUSTODIA_RECORDS_DIR: dir }, ['audit', 'verify']);
      expect(r).toMatchObject({ code: 0, stdout: expect.stringContaining('audit chain intact: 0 records') });
      expect(runningServerOf(dir)?.pid).toBe(server!.pid);
    } finally {
      await held.close();
    }
    expect(runningServerOf(dir)).toBeUndefined();
    // Nothing runs: the command starts the server, and stops it when done.
    const after = await custodia({ CUSTODIA_RECORDS_DIR: dir }, ['audit', 'verify']);
    expect(after).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('audit chain intact: 0 records'),
    });
    expect(runningServerOf(dir)).toBeUndefined();
  }, 120_000);
});
