/**
 * The bundle's freshness check (`bin/cli-bundle.mjs`): bin/custodia.mjs and bin/launch.mjs run an
 * entry's bundle only while every source file of that entry in the manifest is unchanged — a
 * touched file with the same content still counts as unchanged (its hash is compared), an edit of
 * the same size does not, nor does a deleted file, a missing manifest or an entry it lacks; a
 * change to another entry's file leaves this one fresh. On real files in a temporary folder.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain JavaScript module without type declarations
import { BUNDLE_DIR, ENTRIES, freshBundle, MANIFEST, outputOf } from '../../bin/cli-bundle.mjs';

type Fresh = (root: string, source?: string) => { entry?: string; reason?: string };
const fresh = freshBundle as Fresh;
const CLI = 'worker/cli/main.ts';
const SERVER = 'worker/main.ts';

let root = '';
afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Files on disk, and a manifest whose entries hold the given sources (default: the CLI all of them). */
function setUp(
  files: Record<string, string>,
  entries: Record<string, string[]> = { [CLI]: Object.keys(files) },
): void {
  root = mkdtempSync(path.join(tmpdir(), 'custodia-cli-bundle-'));
  const manifest: Record<string, { size: number; mtimeMs: number; ctimeMs: number; sha256: string }> = {};
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    const st = statSync(file);
    manifest[rel] = {
      size: st.size,
      mtimeMs: st.mtimeMs,
      ctimeMs: st.ctimeMs,
      sha256: createHash('sha256').update(text).digest('hex'),
    };
  }
  mkdirSync(path.join(root, BUNDLE_DIR as string), { recursive: true });
  writeFileSync(
    path.join(root, BUNDLE_DIR as string, MANIFEST as string),
    JSON.stringify({
      entries: Object.fromEntries(
        Object.entries(entries).map(([source, sources]) => [
          source,
          { output: (outputOf as (s: string) => string)(source), sources },
        ]),
      ),
      files: manifest,
    }),
  );
}

describe('bundle freshness', () => {
  it('the entries are the CLI, the server and the worker process', () => {
    expect(ENTRIES).toEqual(['worker/cli/main.ts', 'worker/main.ts', 'worker/worker-main.ts']);
  });

  it('fresh while every source is unchanged; the entry is inside the bundle folder', () => {
    setUp({ 'worker/a.ts': 'export const a = 1;\n', 'workflows/b.ts': 'export const b = 2;\n' });
    expect(fresh(root)).toEqual({
      entry: path.join(root, BUNDLE_DIR as string, 'worker/cli/main.mjs'),
      reason: undefined,
    });
  });

  it('a file touched but not changed (a checkout) is still fresh', () => {
    setUp({ 'worker/a.ts': 'export const a = 1;\n' });
    const later = new Date(Date.now() + 60_000);
    utimesSync(path.join(root, 'worker/a.ts'), later, later);
    expect(fresh(root).entry).toBeDefined();
  });

  it('an edit of the same size is stale, also with the old mtime set back', () => {
    setUp({ 'worker/a.ts': 'export const a = 1;\n' });
    const file = path.join(root, 'worker/a.ts');
    const before = statSync(file);
    writeFileSync(file, 'export const a = 2;\n');
    expect(fresh(root)).toEqual({ entry: undefined, reason: 'worker/a.ts changed' });
    // The recorded mtime set back (as near as utimes allows): the ctime still tells.
    utimesSync(file, before.atimeMs / 1000, before.mtimeMs / 1000);
    expect(Math.abs(statSync(file).mtimeMs - before.mtimeMs)).toBeLessThan(1);
    expect(fresh(root)).toEqual({ entry: undefined, reason: 'worker/a.ts changed' });
  });

  it('a deleted source, a missing or empty manifest: stale', () => {
    setUp({ 'worker/a.ts': 'export const a = 1;\n' });
    rmSync(path.join(root, 'worker/a.ts'));
    expect(fresh(root)).toEqual({ entry: undefined, reason: 'worker/a.ts is gone' });
    writeFileSync(path.join(root, BUNDLE_DIR as string, MANIFEST as string), '{"entries":{},"files":{}}');
    expect(fresh(root).entry).toBeUndefined();
    rmSync(path.join(root, BUNDLE_DIR as string), { recursive: true });
    expect(fresh(root).entry).toBeUndefined();
  });

  it('each entry by its own sources: an edit stales the entries that hold the file, only those', () => {
    setUp(
      {
        'worker/shared.ts': 'export const s = 1;\n',
        'worker/cli/only.ts': 'export const c = 1;\n',
        'worker/server-only.ts': 'export const v = 1;\n',
      },
      {
        [CLI]: ['worker/shared.ts', 'worker/cli/only.ts'],
        [SERVER]: ['worker/shared.ts', 'worker/server-only.ts'],
      },
    );
    expect(fresh(root, SERVER).entry).toBe(path.join(root, BUNDLE_DIR as string, 'worker/main.mjs'));
    // The worker process is not in this manifest: stale, whatever its files.
    expect(fresh(root, 'worker/worker-main.ts')).toEqual({
      entry: undefined,
      reason: 'the bundle has no worker/worker-main.ts',
    });
    writeFileSync(path.join(root, 'worker/cli/only.ts'), 'export const c = 22;\n');
    expect(fresh(root, CLI)).toEqual({ entry: undefined, reason: 'worker/cli/only.ts changed' });
    expect(fresh(root, SERVER).entry).toBeDefined();
    writeFileSync(path.join(root, 'worker/shared.ts'), 'export const s = 22;\n');
    expect(fresh(root, SERVER)).toEqual({ entry: undefined, reason: 'worker/shared.ts changed' });
  });

  it('a source listed for an entry but missing from the files: stale', () => {
    setUp({ 'worker/a.ts': 'export const a = 1;\n' }, { [SERVER]: ['worker/a.ts', 'worker/b.ts'] });
    expect(fresh(root, SERVER)).toEqual({ entry: undefined, reason: 'the bundle manifest is incomplete' });
  });
});
