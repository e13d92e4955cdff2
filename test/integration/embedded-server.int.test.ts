/**
 * The embedded records store is a PostgreSQL server more than one process opens: `npm start`
 * (worker/main.ts as a child process, on the test's Temporal dev server) runs, and meanwhile
 * `custodia user create` creates a user who signs in at once through the running API;
 * `custodia audit verify` and `custodia list` answer too. SIGTERM stops the server with the
 * product; after a SIGKILL the server left behind (an orphan) does not block the next start.
 * A records folder holding a PGlite database (Custodia before the server) is migrated on the
 * first open, checkpoints and all. The service role cannot touch what is append-only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../worker/config.ts';
import { checkpointOptions } from '../../worker/records/location.ts';
import { CLUSTER_DIR, runningServerOf, SERVER_FILE } from '../../worker/records/embedded-server.ts';
import { PGLITE_BACKUP_DIR } from '../../worker/records/embedded-store.ts';
import { SERVICE_PRIVILEGES } from '../../worker/records/postgres-roles.ts';
import { openPgliteClient } from '../../worker/records/sql.ts';
import { createRecordsStore, openStore } from '../../worker/records/store.ts';
import { ENGINE_FIXTURES, testConfig } from './harness.ts';
import { tempDir } from '../temp-dir.ts';

const PASSWORD = 'correct horse battery staple';
const dir = tempDir('custodia-embedded-');
const records = path.join(dir, 'records');
const { address, config } = testConfig();
const env: Record<string, string> = {
  TEMPORAL_ADDRESS: address,
  CUSTODIA_TASK_QUEUE: config.taskQueue,
  CUSTODIA_DEFINITIONS: ENGINE_FIXTURES,
  CUSTODIA_RECORDS_DIR: records,
  CUSTODIA_UI_DIR: 'off',
  CUSTODIA_HTTP_PORT: '0',
  CUSTODIA_LOG_FORMAT: 'json',
  CUSTODIA_LOG_LEVEL: 'WARN',
};

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function custodia(args: string[], input = ''): Promise<Result> {
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

/** `npm start` (worker/main.ts) on the test dev server; resolves with the process and its URL once ready. */
async function startProduct(): Promise<{ main: ChildProcess; base: string; output: () => string }> {
  const { DATABASE_URL: _url, ...base } = process.env;
  const main = spawn(process.execPath, ['bin/launch.mjs', 'worker/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start not ready in 90 s:\n${output}`)), 90_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const m = /"event":"ready"[^\n]*"url":"([^"]+)"/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    main.stdout!.on('data', onData);
    main.stderr!.on('data', onData);
    main.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited (${code}):\n${output}`));
    });
  });
  return { main, base: url, output: () => output };
}

async function stop(main: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (main.exitCode !== null || main.signalCode !== null) return;
  const exited = new Promise((r) => main.once('exit', r));
  main.kill(signal);
  await exited;
}

let product: Awaited<ReturnType<typeof startProduct>> | undefined;

beforeAll(async () => {
  product = await startProduct();
}, 120_000);

afterAll(async () => {
  if (product) await stop(product.main, 'SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

describe('the CLI while npm start runs on the embedded store', () => {
  it('creates a user who signs in at once through the running API; audit verify and list answer', async () => {
    const running = runningServerOf(records);
    expect(running?.owner).toMatchObject({ pid: product!.main.pid, role: 'service' });

    const created = await custodia(
      [
        'user',
        'create',
        'carol',
        '--name',
        'Carol',
        '--roles',
        'project_staff',
        '--clients',
        'acme',
        '--password-stdin',
      ],
      PASSWORD + '\n',
    );
    expect(created, created.stderr).toMatchObject({ code: 0 });
    const res = await fetch(`${product!.base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'carol', password: PASSWORD }),
    });
    expect(res.status, await res.clone().text()).toBe(201);

    const verify = await custodia(['audit', 'verify']);
    expect(verify, verify.stderr).toMatchObject({ code: 0 });
    expect(verify.stdout).toMatch(/^audit chain intact: \d+ records/);
    const list = await custodia(['list', '--json']);
    expect(list, list.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(list.stdout)).toEqual(expect.any(Array));
    // The commands used the product's server, and left it running.
    expect(runningServerOf(records)?.pid).toBe(running!.pid);
  }, 120_000);

  it('runs the service as a role that cannot alter what is append-only; every table has its grants', async () => {
    const state = JSON.parse(readFileSync(path.join(records, SERVER_FILE), 'utf8')) as { socketDir: string };
    const app = new pg.Client({
      host: state.socketDir,
      port: 5432,
      user: 'custodia_app',
      database: 'custodia',
    });
    await app.connect();
    try {
      await expect(app.query('DELETE FROM audit_log')).rejects.toThrow(/permission denied/);
      await expect(app.query('ALTER TABLE audit_log DISABLE TRIGGER ALL')).rejects.toThrow(/must be owner/);
      const tables = (
        await app.query<{ t: string }>(
          `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
        )
      ).rows.map((r) => r.t);
      // A migration that adds a table must give the service its privileges (postgres-roles.ts).
      expect(tables.filter((t) => !(t in SERVICE_PRIVILEGES))).toEqual([]);
    } finally {
      await app.end();
    }
  });

  it('stops the server with the product; after a SIGKILL the orphan server does not block the next start', async () => {
    const first = runningServerOf(records)!.pid;
    await stop(product!.main, 'SIGTERM');
    expect(runningServerOf(records)).toBeUndefined();
    expect(existsSync(path.join(records, SERVER_FILE))).toBe(false);

    product = await startProduct();
    const second = runningServerOf(records)!.pid;
    expect(second).not.toBe(first);
    expect(runningServerOf(records)?.owner?.pid).toBe(product.main.pid);
    await stop(product.main, 'SIGKILL');
    // The server outlives a SIGKILLed product …
    expect(runningServerOf(records)?.pid).toBe(second);
    // … and the next user (a CLI command here) stops it, starts its own and stops that when done.
    const verify = await custodia(['audit', 'verify']);
    expect(verify, verify.stderr).toMatchObject({ code: 0 });
    expect(runningServerOf(records)).toBeUndefined();
    // (The next `npm start` on that folder is the one above: no server running, it starts its own.)
  }, 240_000);
});

describe('a records folder from before the embedded server (PGlite)', () => {
  it('is migrated on first open: rows, store identity and signed checkpoints carry over', async () => {
    const legacy = path.join(dir, 'legacy');
    const checkpoints = checkpointOptions({ dataDir: legacy });
    const old = await createRecordsStore(await openPgliteClient(legacy), { checkpoints });
    await old.createUser(
      { id: 'dora', displayName: 'Dora', roles: ['project_staff'], clients: ['acme'], password: PASSWORD },
      'test',
    );
    for (let i = 0; i < 3; i++)
      await old.appendSecurityRecord({ kind: 'sign_in', subject: 'user:dora', actorId: 'dora', body: { i } });
    await old.checkpoint();
    const before = await old.verifyAudit();
    await old.close();

    const store = await openStore({ dataDir: legacy, checkpoints });
    try {
      expect(store.backend).toBe('embedded');
      const after = await store.verifyAudit();
      expect(after).toMatchObject({ ok: true, checked: before.checked, head: before.head });
      expect(after.checkpoints).toMatchObject({ verified: before.checkpoints!.verified, otherStores: 0 });
      expect(await store.getUser('dora')).toMatchObject({ displayName: 'Dora', roles: ['project_staff'] });
      expect(await store.checkPassword('dora', PASSWORD)).toMatchObject({ id: 'dora' });
      // The next appends continue the chain (sequences caught up).
      await store.appendSecurityRecord({ kind: 'sign_out', subject: 'user:dora', actorId: 'dora', body: {} });
      expect((await store.verifyAudit()).ok).toBe(true);
    } finally {
      await store.close();
    }
    expect(readdirSync(legacy)).not.toContain('PG_VERSION');
    expect(readdirSync(path.join(legacy, PGLITE_BACKUP_DIR))).toContain('PG_VERSION');
    expect(readdirSync(legacy)).toContain(CLUSTER_DIR);
  }, 120_000);
});
