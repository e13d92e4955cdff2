/**
 * Replace a file so that a reader sees the old content or the new, never a truncated one: the text
 * is written to a temporary file beside it and renamed over it (a rename within one directory is
 * atomic on POSIX file systems). `writeFileSync` alone truncates first — a reader in between (a test
 * reading the cluster's state while it restarts a process) read an empty file.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';

export function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
