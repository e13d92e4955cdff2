/**
 * A lock a test file holds from its first line to its end, across the processes vitest runs test
 * files in (two at a time, see `vitest.config.ts`): files that must not overlap each other take
 * the same lock in a setup file (`holdLockForFile(dir)` at its top level), the others run beside
 * them. The cluster project's files take one: the chaos test SIGKILLs the cluster's Temporal
 * server, which the others use.
 *
 * The lock is a folder created atomically (`mkdir`) holding the owner's pid; it is removed after
 * the file's last test (`afterAll`) or when its process exits. A lock whose owner process is gone
 * (killed by a timeout) is taken over.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll } from 'vitest';

const POLL_MS = 200;
/** Longer than any file's run: a file waiting this long means a lock that was never released. */
const MAX_WAIT_MS = 20 * 60_000;

function ownerAlive(dir: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(dir, 'pid'), 'utf8'));
  } catch {
    return true; // created, its pid not written yet
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take the lock at `dir` (waiting for its holder to finish) and release it when this file ends. */
export async function holdLockForFile(dir: string): Promise<void> {
  const end = Date.now() + MAX_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(dir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (!ownerAlive(dir)) {
      rmSync(dir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > end)
      throw new Error(`test file lock ${dir} still held after ${MAX_WAIT_MS / 60_000} min`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  writeFileSync(path.join(dir, 'pid'), String(process.pid));
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', release);
  afterAll(release);
}
