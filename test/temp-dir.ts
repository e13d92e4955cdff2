/**
 * A fresh temporary folder (like `mkdtempSync`) that an embedded records store can live in: when
 * the tests run as root, the store's PostgreSQL server runs as another OS user, which must be able
 * to enter the folder (mode 0711: enter, not list).
 */
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  chmodSync(dir, 0o711);
  return dir;
}
