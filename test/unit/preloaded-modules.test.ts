/**
 * The modules the worker preloads into the workflow sandbox's shared V8 context
 * (`PRELOADED_MODULES`, worker/worker.ts): shared by every cached workflow instead of evaluated
 * once per workflow (~1.7 MB of V8 heap each, README "Memory"). Only pure modules may be shared:
 * each is a `workflows/core` file (pure by rule, nothing of `@temporalio/workflow`) or the Ed25519
 * curve; and every core module the workflow code imports for its values is in the list, so a new
 * import does not quietly bring back per-workflow copies.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PRELOADED_MODULES } from '../../worker/worker.ts';
import { REPO_ROOT } from '../../worker/settings.ts';

const CORE = path.join(REPO_ROOT, 'workflows', 'core');

function coreFiles(dir = CORE): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? coreFiles(path.join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [path.join(dir, e.name)]
        : [],
  );
}

describe('modules preloaded into the workflow sandbox', () => {
  it('are the Ed25519 curve and existing workflows/core files only', () => {
    for (const m of PRELOADED_MODULES) {
      if (m === '@noble/curves/ed25519.js') continue;
      expect(path.isAbsolute(m), m).toBe(true);
      expect(m.startsWith(CORE + path.sep), m).toBe(true);
      expect(existsSync(m), m).toBe(true);
    }
  });

  it('share nothing of the Temporal workflow API (no workflows/core file imports it)', () => {
    for (const file of coreFiles())
      expect(readFileSync(file, 'utf8'), file).not.toMatch(/@temporalio\/workflow/);
  });

  it('include every core module the workflow code imports values from', () => {
    const workflowsDir = path.join(REPO_ROOT, 'workflows');
    const imported = new Set<string>();
    for (const name of readdirSync(workflowsDir).filter((n) => n.endsWith('.ts'))) {
      const text = readFileSync(path.join(workflowsDir, name), 'utf8');
      for (const m of text.matchAll(/^import (?!type )[^;]*? from '\.\/core\/([^']+)';/gms))
        imported.add(path.join(CORE, m[1] as string));
    }
    expect(imported.size).toBeGreaterThan(5);
    const preloaded = new Set(PRELOADED_MODULES);
    expect([...imported].filter((m) => !preloaded.has(m))).toEqual([]);
  });
});
