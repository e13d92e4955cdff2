/**
 * Benchmark only (`npm run bench -- --before lazy-timers`): bundled in place of
 * workflows/patches.ts — the workflow as it was before the patch `lazy-timers`: a new run records
 * the generation of December 2026 (every other patch) and gives each pending delayed transition a
 * timer of its own, started on entering its state and cancelled on leaving it.
 */
import { patched } from '@temporalio/workflow';
import type { Patches } from '../../workflows/patches.ts';

export function runPatches(): Patches {
  const generation = patched('generation-2026-12');
  return { has: (id) => id !== 'lazy-timers' && (generation || patched(id)) };
}
