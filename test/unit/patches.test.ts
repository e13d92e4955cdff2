/**
 * The patch generations (workflows/patches.ts): the newest one's ids are exactly the patches the
 * workflow code declares (`const PATCH_… = '…'` in workflows/*.ts), so a misspelt id cannot make a
 * new run skip a patch it should follow; a shipped generation never changes (histories recorded
 * with its marker follow exactly its patches), and each generation holds the one before it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../worker/config.ts';
import { GENERATION_2026_12, GENERATIONS, PATCH_GENERATION } from '../../workflows/patches.ts';

/** The first generation as shipped (2026-12-07): never edit. */
const SHIPPED_2026_12 = [
  'assignment',
  'call',
  'coalesce-search-attributes',
  'commit-in-activation',
  'local-audit',
  'migration',
  'migration-arms',
  'migration-calendar',
  'migration-running-calls',
  'migration-working-day-timers',
  'reports-remote',
  'sla',
  'sla-since-memo',
  'start-input',
  'upsert-changed-search-attributes-only',
];

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

describe('the patch generations', () => {
  it('the newest holds every patch the workflow code declares, and nothing else', () => {
    const declared = declaredPatches();
    declared.delete(PATCH_GENERATION);
    expect(declared.size).toBeGreaterThan(10);
    expect([...GENERATIONS[0]!.patches].sort()).toEqual([...declared.keys()].sort());
  });

  it('a shipped generation is unchanged: December 2026 is what its histories followed', () => {
    expect([...GENERATION_2026_12].sort()).toEqual(SHIPPED_2026_12);
    expect(GENERATIONS.at(-1)).toEqual({ marker: PATCH_GENERATION, patches: GENERATION_2026_12 });
  });

  it('each generation holds the one before it; markers are distinct and no patch id', () => {
    const markers = GENERATIONS.map((g) => g.marker);
    expect(new Set(markers).size).toBe(markers.length);
    for (const [i, g] of GENERATIONS.entries()) {
      for (const m of markers) expect(g.patches.has(m)).toBe(false);
      const older = GENERATIONS[i + 1];
      if (older) for (const id of older.patches) expect(g.patches.has(id)).toBe(true);
    }
  });
});
