/**
 * The patches one workflow run follows. `patched(id)` records a marker the first time a new run
 * meets it, and the SDK upserts the `TemporalChangeVersion` search attribute beside each marker:
 * every patch a new instance met cost it a history event and a visibility write of its own (seven
 * in the first workflow task of a new instance, before this).
 *
 * So the patches written until December 2026 are one generation: a run that starts on code which
 * has them all records one marker, `PATCH_GENERATION`, in its first workflow task, and follows all
 * of them without asking again. A run whose first workflow task did not record it — an older
 * history, replayed or still running — asks each patch as it did when it was recorded.
 *
 * A generation is never changed once shipped: histories recorded with its marker follow exactly its
 * patches. Patches added later make a new generation, the previous one's patches and theirs
 * (`GENERATIONS`, newest first): a new run records the newest generation's marker only; a history
 * with an older generation's marker follows that one's patches and asks each later patch on its own
 * (in a replay: not taken — its marker is not there).
 */
import { patched } from '@temporalio/workflow';

/** The marker of a run that follows every patch of `GENERATION_2026_12` (and no later one). */
export const PATCH_GENERATION = 'generation-2026-12';

/** Every patch id of the workflow code as of the generation (never add to it: make a new one). */
export const GENERATION_2026_12: ReadonlySet<string> = new Set([
  'start-input',
  'upsert-changed-search-attributes-only',
  'coalesce-search-attributes',
  'local-audit',
  'reports-remote',
  'commit-in-activation',
  'sla',
  'sla-since-memo',
  'call',
  'assignment',
  'migration',
  'migration-arms',
  'migration-running-calls',
  'migration-working-day-timers',
  'migration-calendar',
]);

/** `GENERATION_2026_12` and the timers of delayed transitions in one wake (`timers.ts`). */
export const GENERATION_2026_12B: ReadonlySet<string> = new Set([...GENERATION_2026_12, 'lazy-timers']);

/** `GENERATION_2026_12B` and a burst's search attributes upserted per window (`procedure.workflow.ts`). */
export const GENERATION_2026_12C: ReadonlySet<string> = new Set([
  ...GENERATION_2026_12B,
  'search-attributes-burst-window',
]);

/** Every generation, newest first: a new run records the first one's marker. */
export const GENERATIONS: readonly { marker: string; patches: ReadonlySet<string> }[] = [
  { marker: 'generation-2026-12c', patches: GENERATION_2026_12C },
  { marker: 'generation-2026-12b', patches: GENERATION_2026_12B },
  { marker: PATCH_GENERATION, patches: GENERATION_2026_12 },
];

/** Answers whether this run follows a patch: `has(id)` in place of `patched(id)`. */
export interface Patches {
  has(id: string): boolean;
}

/**
 * This run's patches. Called first thing in the workflow function: in a new run's first workflow
 * task it records the newest generation's marker; in an older history the marker it has, if any
 * (each generation is asked from the newest; the first one there is the run's).
 */
export function runPatches(): Patches {
  const generation = GENERATIONS.find((g) => patched(g.marker));
  return { has: (id) => generation?.patches.has(id) || patched(id) };
}
