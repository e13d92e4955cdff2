/**
 * PGlite is one process's database: a second process opening the same directory would corrupt it
 * (PGlite itself does not refuse). So the embedded store takes a lock file in its directory,
 * `custodia.lock` (`{pid, host, since}`), created exclusively; a lock left by a process that no
 * longer runs on this host is taken over.
 */
import { hostname } from 'node:os';
import path from 'node:path';
import { openSync, readFileSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { RecordsError } from './errors.ts';

export const LOCK_FILE = 'custodia.lock';

interface LockContent {
  pid: number;
  host: string;
  since: string;
}

const held = new Set<string>();
let exitHookInstalled = false;

/** Take the lock of `dataDir`; returns its release. Throws `STORE_IN_USE` when a live process holds it. */
export function acquireEmbeddedLock(dataDir: string): () => void {
  const file = path.join(path.resolve(dataDir), LOCK_FILE);
  const mine: LockContent = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, JSON.stringify(mine));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const other = readLock(file);
      if (other && (other.host !== mine.host || isAlive(other.pid))) throw inUse(dataDir, file, other);
      unlinkSync(file); // stale: its process is gone
    }
  }
  held.add(file);
  installExitHook();
  return () => {
    if (!held.delete(file)) return;
    removeIfMine(file);
  };
}

function inUse(dataDir: string, file: string, other: LockContent): RecordsError {
  const where = other.host === hostname() ? `process ${other.pid}` : `process ${other.pid} on ${other.host}`;
  return new RecordsError(
    'STORE_IN_USE',
    `the embedded store is in use by a running Custodia (${where}, since ${other.since}, ` +
      `directory ${dataDir}); stop it or use DATABASE_URL (PostgreSQL) for multi-process. ` +
      `If no Custodia is running, remove ${file}.`,
  );
}

function readLock(file: string): LockContent | undefined {
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockContent>;
    if (typeof value.pid === 'number' && typeof value.host === 'string')
      return { pid: value.pid, host: value.host, since: String(value.since ?? '?') };
  } catch {
    // unreadable or half-written: treat as stale
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeIfMine(file: string): void {
  try {
    if (readLock(file)?.pid === process.pid) unlinkSync(file);
  } catch {
    // already gone
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const file of held) removeIfMine(file);
  });
}
