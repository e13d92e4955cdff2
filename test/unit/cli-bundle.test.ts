/**
 * The CLI bundle's freshness check (`bin/cli-bundle.mjs`): bin/custodia.mjs runs the bundle only
 * while every source file in its manifest is unchanged — a touched file with the same content
 * still counts as unchanged (its hash is compared), an edit of the same size does not, nor does a
 * deleted file or a missing manifest. On real files in a temporary folder.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain JavaScript module without type declarations
import { BUNDLE_DIR, freshBundle, MANIFEST } from '../../bin/cli-bundle.mjs';

type Fresh = (root: string) => { entry?: string; reason?: string };
const fresh = freshBundle as Fresh;

let root = '';
afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

function setUp(files: Record<string, string>): void {
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
    JSON.stringify({ entry: 'worker/cli/main.mjs', files: manifest }),
  );
}

describe('CLI bundle freshness', () => {
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
    writeFileSync(path.join(root, BUNDLE_DIR as string, MANIFEST as string), '{"entry":"x.mjs","files":{}}');
    expect(fresh(root).entry).toBeUndefined();
    rmSync(path.join(root, BUNDLE_DIR as string), { recursive: true });
    expect(fresh(root).entry).toBeUndefined();
  });
});
