/**
 * The patch generation (workflows/patches.ts): its ids are exactly the patches the workflow code
 * declares (`const PATCH_… = '…'` in workflows/*.ts), so a misspelt id cannot make a new run
 * skip a patch it should follow, and a patch added later is a decision: it goes in `LATER` below
 * (asked with `patched` in every run), never into the generation of runs that already exist.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../worker/config.ts';
import { GENERATION_2026_12, PATCH_GENERATION } from '../../workflows/patches.ts';

/** Patches declared after the generation of December 2026 (none yet). */
const LATER: readonly string[] = [];

function declaredPatches(): Map<string, string> {
  const dir = path.join(REPO_ROOT, 'workflows');
  const out = new Map<string, string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(path.join(dir, file), 'utf8');
    for (const m of text.matchAll(/const (PATCH_[A-Z0-9_]+) = '([^']+)'/g))
      out.set(m[2]!, `${file}: ${m[1]}`);
  }
  return out;
}

describe('the patch generation of December 2026', () => {
  it('holds every patch the workflow code declares, and nothing else', () => {
    const declared = declaredPatches();
    declared.delete(PATCH_GENERATION);
    expect(declared.size).toBeGreaterThan(10);
    const expected = [...declared.keys()].filter((id) => !LATER.includes(id)).sort();
    expect([...GENERATION_2026_12].sort()).toEqual(expected);
  });

  it('is no patch id of its own', () => {
    expect(GENERATION_2026_12.has(PATCH_GENERATION)).toBe(false);
  });
});
