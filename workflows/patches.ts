/**
 * The patches one workflow run follows. `patched(id)` records a marker the first time a new run
 * meets it, and the SDK upserts the `TemporalChangeVersion` search attribute beside each marker:
 * every patch a new instance met cost it a history event and a visibility write of its own (seven
 * in the first workflow task of a new instance, before this).
 *
 * So the patches written until December 2026 are one generation: a run that starts on code which
 * has them all records one marker, `PATCH_GENERATION`, in its first workflow task, and follows all
 * of them without asking again. A run whose first workflow task did not record it — an older
 * history, replayed or still running — asks each patch as it did when it was recorded. A patch
 * added later is not in `GENERATION_2026_12` and is asked with `patched` in every run (until a
 * later generation takes it in).
 */
import { patched } from '@temporalio/workflow';

/** The marker of a run that follows every patch of `GENERATION_2026_12`. */
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

/** Answers whether this run follows a patch: `has(id)` in place of `patched(id)`. */
export interface Patches {
  has(id: string): boolean;
}

/**
 * This run's patches. Called first thing in the workflow function: in a new run's first workflow
 * task it records the generation's marker; in an older history there is none at that point.
 */
export function runPatches(): Patches {
  const generation = patched(PATCH_GENERATION);
  return { has: (id) => (generation && GENERATION_2026_12.has(id)) || patched(id) };
}
