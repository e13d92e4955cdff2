/**
 * Benchmark only (`npm run bench -- --before upsert-on-next-change`): bundled in place of
 * workflows/patches.ts — the workflow as it was before the patch `upsert-on-next-change`: a change
 * within a second of the last upsert is upserted by a timer at that second's end (every other patch
 * of the generation followed).
 */
import { patched } from '@temporalio/workflow';
import type { Patches } from '../../workflows/patches.ts';

export function runPatches(): Patches {
  const generation = patched('generation-2026-12');
  return { has: (id) => id !== 'upsert-on-next-change' && (generation || patched(id)) };
}
