/**
 * Benchmark only (`npm run bench -- --before coalesce-search-attributes`): bundled in place of
 * workflows/patches.ts — the workflow as it was before the patch generation and the coalesced
 * search attributes: every patch asked (and, in a new run, marked, with the SDK's upsert of
 * `TemporalChangeVersion` beside each marker) on its own, and every change of a search attribute
 * upserted in the workflow task that makes it (and, as later patches were not there either, a timer
 * per pending delayed transition: `lazy-timers`).
 */
import { patched } from '@temporalio/workflow';
import type { Patches } from '../../workflows/patches.ts';

export function runPatches(): Patches {
  return { has: (id) => id !== 'coalesce-search-attributes' && id !== 'lazy-timers' && patched(id) };
}
