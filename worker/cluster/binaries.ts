/**
 * The real Temporal server and its SQL schema tool, built from source with this machine's Go at a
 * pinned version, once per user: `go install go.temporal.io/server/cmd/server@v1.30.4` and
 * `…/cmd/tools/sql@v1.30.4` into `${XDG_CACHE_HOME:-~/.cache}/custodia/temporal-server-<v>/bin`,
 * with the module's PostgreSQL schema and sample configuration copied beside them (from the Go
 * module cache). A fresh clone on the same machine reuses that folder; `<toolsDir>/temporal-server-<v>`
 * (git-ignored `tools/`) links to it.
 *
 * v1.31+ needs a newer Go than Debian 12 ships; the module itself asks for Go 1.25 (a Go ≥ 1.21
 * fetches that toolchain on its own, GOTOOLCHAIN=auto).
 */
import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const TEMPORAL_SERVER_VERSION = '1.30.4';
const MODULE = 'go.temporal.io/server';

export interface ServerBinaries {
  /** The folder (cache) holding everything below. */
  dir: string;
  /** `temporal-server` (cmd/server). */
  server: string;
  /** `temporal-sql-tool` (cmd/tools/sql). */
  sqlTool: string;
  /** `schema/postgresql/v12` of the module: `temporal/versioned`, `visibility/versioned`. */
  schemaDir: string;
  /** The module's `config/development-postgres12.yaml`. */
  configTemplate: string;
}

/** A problem the user fixes by installing or freeing something: one line, no stack. */
export class ClusterSetupError extends Error {
  override name = 'ClusterSetupError';
}

/** `${XDG_CACHE_HOME:-$HOME/.cache}/custodia/temporal-server-<version>`. */
export function serverCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME?.trim() || path.join(os.homedir(), '.cache');
  return path.join(base, 'custodia', `temporal-server-${TEMPORAL_SERVER_VERSION}`);
}

function layout(dir: string): ServerBinaries {
  return {
    dir,
    server: path.join(dir, 'bin', 'server'),
    sqlTool: path.join(dir, 'bin', 'sql'),
    schemaDir: path.join(dir, 'schema', 'postgresql', 'v12'),
    configTemplate: path.join(dir, 'config', 'development-postgres12.yaml'),
  };
}

function complete(b: ServerBinaries): boolean {
  return [
    b.server,
    b.sqlTool,
    path.join(b.schemaDir, 'temporal', 'versioned'),
    path.join(b.schemaDir, 'visibility', 'versioned'),
    b.configTemplate,
  ].every((p) => existsSync(p));
}

/**
 * The Go toolchain bin/test-prerequisites.sh fetches through the Go module proxy when the system's Go
 * is older than 1.21 (`${XDG_CACHE_HOME:-$HOME/.cache}/custodia/go-<version>`).
 */
export const FETCHED_GO_VERSION = '1.25.8';
export function fetchedGoDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(path.dirname(serverCacheDir(env)), `go-${FETCHED_GO_VERSION}`);
}

/** The Go toolchain: the fetched one, else `go` on PATH, else the official tarball's place. */
export function findGo(env: NodeJS.ProcessEnv = process.env): string | null {
  const fetched = path.join(fetchedGoDir(env), 'bin', 'go');
  if (existsSync(fetched)) return fetched;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'go'))) return path.join(dir, 'go');
  }
  return existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null;
}

function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; log?: (line: string) => void } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: 'pipe' });
    let out = '';
    const on = (c: Buffer): void => {
      out += c.toString();
      for (const l of c.toString().split('\n')) if (l.trim()) opts.log?.(l);
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve(out)
        : reject(new Error(`${path.basename(cmd)} ${args.join(' ')} failed (${code}):\n${out.slice(-3000)}`)),
    );
  });
}

/**
 * The binaries, schema and config template, from the cache or built now (a few minutes); then
 * `<toolsDir>/temporal-server-<v>` links to the cache folder.
 */
export async function ensureServerBinaries(
  opts: { toolsDir?: string; log?: (line: string) => void; env?: NodeJS.ProcessEnv } = {},
): Promise<ServerBinaries> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});
  const dir = serverCacheDir(env);
  const wanted = layout(dir);
  if (!complete(wanted)) await build(dir, env, log);
  if (opts.toolsDir) linkInto(opts.toolsDir, dir);
  return wanted;
}

async function build(dir: string, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  const go = findGo(env);
  if (!go) {
    throw new ClusterSetupError(
      `the cluster needs the Temporal server ${TEMPORAL_SERVER_VERSION}, built once with Go (≥ 1.21; it fetches the 1.25 ` +
        `toolchain the module asks for): install Go (bin/test-prerequisites.sh says how), then run this again`,
    );
  }
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(path.join(staging, 'bin'), { recursive: true });
  const t0 = Date.now();
  log(
    `building the Temporal server ${TEMPORAL_SERVER_VERSION} with ${go} (once per machine; about 4 min on 2 cores) …`,
  );
  // GOROOT of another (older) Go must not leak into the toolchain found here.
  const goEnv: NodeJS.ProcessEnv = { ...env, GOBIN: path.join(staging, 'bin'), GOFLAGS: '-mod=mod' };
  delete goEnv.GOROOT;
  try {
    await run(
      go,
      [
        'install',
        `${MODULE}/cmd/server@v${TEMPORAL_SERVER_VERSION}`,
        `${MODULE}/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`,
      ],
      { env: goEnv, cwd: os.tmpdir() },
    );
    const modCache = (await run(go, ['env', 'GOMODCACHE'], { env: goEnv })).trim();
    const moduleDir = path.join(modCache, `${MODULE}@v${TEMPORAL_SERVER_VERSION}`);
    cpSync(
      path.join(moduleDir, 'schema', 'postgresql', 'v12'),
      path.join(staging, 'schema', 'postgresql', 'v12'),
      {
        recursive: true,
      },
    );
    mkdirSync(path.join(staging, 'config'), { recursive: true });
    cpSync(
      path.join(moduleDir, 'config', 'development-postgres12.yaml'),
      path.join(staging, 'config', 'development-postgres12.yaml'),
    );
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(`building the Temporal server failed: ${(err as Error).message}`, { cause: err });
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  log(`built the Temporal server in ${Math.round((Date.now() - t0) / 1000)} s (cached in ${dir})`);
}

/** `<toolsDir>/temporal-server-<v>` → the cache folder (replaced when it points elsewhere). */
function linkInto(toolsDir: string, dir: string): void {
  const link = path.join(toolsDir, `temporal-server-${TEMPORAL_SERVER_VERSION}`);
  try {
    const st = lstatSync(link);
    if (st.isSymbolicLink() && readlinkSync(link) === dir) return;
    if (!st.isSymbolicLink()) return; // a copy someone put there: leave it
    rmSync(link);
  } catch {
    /* absent */
  }
  try {
    mkdirSync(toolsDir, { recursive: true });
    symlinkSync(dir, link);
  } catch {
    /* best effort: the cache is what runs */
  }
}
