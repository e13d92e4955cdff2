/**
 * Benchmark only (`npm run bench -- --before search-attributes-burst-window`): bundled in place of
 * workflows/patches.ts — the workflow as it was before the patch `search-attributes-burst-window`:
 * a new run records the generation `generation-2026-12b` (every other patch), and a change within a
 * second of the last upsert is upserted at that second's end by a timer the run waits for.
 */
import { patched } from '@temporalio/workflow';
import type { Patches } from '../../workflows/patches.ts';

export function runPatches(): Patches {
  const generation = patched('generation-2026-12b');
  return { has: (id) => id !== 'search-attributes-burst-window' && (generation || patched(id)) };
}
