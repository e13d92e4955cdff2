/**
 * The cluster's PostgreSQL: Debian's server binaries (`initdb`, `pg_ctl`), a data folder the
 * project owns (`<dir>/postgres`, created on first start and reused after), 127.0.0.1 only, trust
 * authentication for the `postgres` role. As root it runs as the `postgres` user (PostgreSQL
 * refuses root), which then owns the folder.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { ClusterSetupError } from './binaries.ts';

const run = promisify(execFile);

/** The folder holding initdb and pg_ctl: POSTGRES_BIN, the newest /usr/lib/postgresql/<v>/bin, PATH. */
export function findPostgresBin(env: NodeJS.ProcessEnv = process.env): string | null {
  const has = (dir: string): boolean =>
    existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'pg_ctl'));
  if (env.POSTGRES_BIN?.trim()) return has(env.POSTGRES_BIN) ? env.POSTGRES_BIN : null;
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (has(path.join(debian, v, 'bin'))) return path.join(debian, v, 'bin');
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter)) if (dir && has(dir)) return dir;
  return null;
}

export interface ClusterPostgres {
  port: number;
  /** Admin URL of database `db` (role `postgres`). */
  url(db: string): string;
  /** Create the database when it does not exist. */
  ensureDatabase(db: string): Promise<void>;
  /** The postmaster's pid. */
  pid(): number | undefined;
  /** Fast shutdown (`pg_ctl stop -m fast`). */
  stop(): Promise<void>;
}

/** Start (initdb first when new) the server in `dir` on `port`; a running one there is reused. */
export async function startPostgres(
  dir: string,
  port: number,
  opts: { log?: (line: string) => void; env?: NodeJS.ProcessEnv } = {},
): Promise<ClusterPostgres> {
  const log = opts.log ?? (() => {});
  const bin = findPostgresBin(opts.env);
  if (!bin) {
    throw new ClusterSetupError(
      'no PostgreSQL server binaries (initdb, pg_ctl): install them (`sudo apt-get install postgresql`) or set POSTGRES_BIN to their folder',
    );
  }
  const root = process.getuid?.() === 0;
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  mkdirSync(dir, { recursive: true });
  if (root) {
    const id = async (flag: string): Promise<number> =>
      Number((await run('id', [flag, 'postgres'])).stdout.trim());
    const uid = await id('-u').catch(() => {
      throw new ClusterSetupError(
        "running as root and there is no `postgres` user to run PostgreSQL as (Debian's `postgresql` package creates it)",
      );
    });
    const gid = await id('-g');
    if (statSync(dir).uid !== uid) chownSync(dir, uid, gid);
  }
  const as = async (cmd: string, args: string[]): Promise<string> => {
    const [file, argv] = root ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    return (await run(file, argv, { cwd: dir, timeout: 120_000 })).stdout;
  };
  if (!existsSync(path.join(data, 'PG_VERSION'))) {
    log(`initdb ${data}`);
    await as(path.join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C',
    ]);
  }
  const pidOf = (): number | undefined => {
    try {
      const n = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isFinite(n) && n > 0 ? n : undefined;
    } catch {
      return undefined;
    }
  };
  const running = await as(path.join(bin, 'pg_ctl'), ['-D', data, 'status']).then(
    () => true,
    () => false,
  );
  if (running) {
    // Its port is the 4th line of postmaster.pid.
    const lines = readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n');
    port = Number(lines[3]) || port;
    log(`PostgreSQL already running in ${data} (pid ${String(pidOf())}, port ${port}); reusing it`);
  } else {
    const options = [
      `-p ${port}`,
      `-k ${dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c max_connections=300',
      '-c shared_buffers=64MB',
    ].join(' ');
    try {
      await as(path.join(bin, 'pg_ctl'), [
        '-D',
        data,
        '-l',
        logFile,
        '-o',
        options,
        '-w',
        '-t',
        '60',
        'start',
      ]);
    } catch (err) {
      const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-8).join('\n') : '';
      if (/could not bind|Address already in use/i.test(tail)) {
        throw new ClusterSetupError(
          `PostgreSQL port ${port} on 127.0.0.1 is already in use: stop what listens there or choose another (--pg-port)`,
        );
      }
      throw new Error(`could not start PostgreSQL in ${data}: ${(err as Error).message}\n${tail}`, {
        cause: err,
      });
    }
    log(`PostgreSQL ${path.basename(path.dirname(bin))} on 127.0.0.1:${port} (data ${data})`);
  }
  const url = (db: string): string => `postgres://postgres@127.0.0.1:${port}/${db}`;
  return {
    port,
    url,
    pid: pidOf,
    async ensureDatabase(db) {
      const client = new pg.Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
        if (found.rowCount === 0) await client.query(`CREATE DATABASE "${db.replace(/"/g, '""')}"`);
      } finally {
        await client.end();
      }
    },
    async stop() {
      await as(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']).catch(
        (err: unknown) => log(`PostgreSQL stop failed: ${(err as Error).message}`),
      );
    },
  };
}
