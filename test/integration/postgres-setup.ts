/**
 * Vitest global setup of the `integration` project, second part: a throwaway PostgreSQL server for
 * the records-store tests (`records*.int.test.ts` run against both PGlite and PostgreSQL).
 *
 * - CUSTODIA_TEST_DATABASE_URL set: use that server (tests create and drop their own databases, so
 *   the role needs CREATEDB).
 * - Else: `initdb` a cluster in a temporary folder and `pg_ctl start` it on a free port
 *   (127.0.0.1, trust auth, fsync off), as the `postgres` user when running as root (PostgreSQL
 *   refuses to run as root); stopped and deleted after the run. Binaries: POSTGRES_BIN, else
 *   the newest /usr/lib/postgresql/<v>/bin (Debian's `postgresql` package), else PATH.
 * - No binaries: with CI set, fail the run (the tests must not silently skip there); locally,
 *   print why and let the PostgreSQL tests skip.
 *
 * Tests read `inject('postgresUrl')` (an admin URL on the `postgres` database, or null) and
 * `inject('postgresSkipReason')`; the URL is also in process.env.CUSTODIA_TEST_DATABASE_URL.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { testPort } from '../support/ports.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the test PostgreSQL server (database `postgres`), or null when unavailable. */
    postgresUrl: string | null;
    /** Why there is no PostgreSQL server (only when `postgresUrl` is null). */
    postgresSkipReason: string;
  }
}

const run = promisify(execFile);

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const external = process.env.CUSTODIA_TEST_DATABASE_URL?.trim();
  if (external) {
    project.provide('postgresUrl', external);
    project.provide('postgresSkipReason', '');
    return undefined;
  }
  const bin = findPostgresBin();
  if (!bin) {
    const reason =
      'PostgreSQL server binaries (initdb, pg_ctl) not found: install them (`apt-get install postgresql`), ' +
      'or set POSTGRES_BIN to their folder, or CUSTODIA_TEST_DATABASE_URL to a server';
    if (process.env.CI) throw new Error(`CI is set, so the PostgreSQL tests must run: ${reason}`);
    console.warn(`[postgres] skipping the PostgreSQL records-store tests: ${reason}`);
    project.provide('postgresUrl', null);
    project.provide('postgresSkipReason', reason);
    return undefined;
  }
  const cluster = await startCluster(bin);
  process.env.CUSTODIA_TEST_DATABASE_URL = cluster.url;
  project.provide('postgresUrl', cluster.url);
  project.provide('postgresSkipReason', '');
  return async () => {
    delete process.env.CUSTODIA_TEST_DATABASE_URL;
    await cluster.stop();
  };
}

/** The folder holding initdb and pg_ctl. */
function findPostgresBin(): string | null {
  const has = (dir: string): boolean =>
    existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'pg_ctl'));
  if (process.env.POSTGRES_BIN) {
    if (has(process.env.POSTGRES_BIN)) return process.env.POSTGRES_BIN;
    throw new Error(`POSTGRES_BIN=${process.env.POSTGRES_BIN} holds no initdb and pg_ctl`);
  }
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (has(path.join(debian, v, 'bin'))) return path.join(debian, v, 'bin');
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (dir && has(dir)) return dir;
  return null;
}

async function startCluster(bin: string): Promise<{ url: string; stop(): Promise<void> }> {
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(path.join(tmpdir(), 'custodia-pg-'));
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'server.log');
  if (root) {
    // PostgreSQL refuses to run as root: run it as the `postgres` user (Debian's package creates it).
    const id = async (flag: string): Promise<number> =>
      Number((await run('id', [flag, 'postgres'])).stdout.trim());
    const uid = await id('-u').catch(() => {
      throw new Error('running as root and there is no `postgres` user to run the test PostgreSQL server as');
    });
    chownSync(dir, uid, await id('-g'));
  }
  const as = async (cmd: string, args: string[]): Promise<void> => {
    const [file, argv] = root ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    await run(file, argv, { cwd: dir, timeout: 120_000 });
  };
  const port = await testPort();
  try {
    await as(path.join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C',
    ]);
    const options = [
      `-p ${port}`,
      `-k ${dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=200',
    ].join(' ');
    await as(path.join(bin, 'pg_ctl'), ['-D', data, '-l', log, '-o', options, '-w', '-t', '60', 'start']);
  } catch (err) {
    const serverLog = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start the test PostgreSQL server: ${(err as Error).message}\n${serverLog}`);
  }
  console.error(`[postgres] test server on 127.0.0.1:${port} (${bin})`);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await as(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(
        (err: unknown) => console.error(`[postgres] stop failed: ${(err as Error).message}`),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
