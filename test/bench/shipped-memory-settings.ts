/**
 * Imported first by `bench.ts`, whose worker runs in the benchmark's own process: before any other
 * module is evaluated, the process is replaced by one with the memory settings `npm start` and
 * `npm run worker` run with (`bin/process-memory.mjs`: `MALLOC_ARENA_MAX`, the V8 flags), so the
 * figures are the shipped configuration's. `--as-started` on the command line keeps the process as
 * it was started (the flags given by hand, if any: e.g. to compare with V8's own defaults).
 */
// @ts-expect-error -- plain JavaScript module without type declarations
import { relaunchWithMemorySettings } from '../../bin/process-memory.mjs';

/** The benchmark's option that keeps the process as started. */
export const AS_STARTED = '--as-started';

if (!process.argv.includes(AS_STARTED)) (relaunchWithMemorySettings as () => void)();

const LOADER_FLAGS = new Set(['--require', '-r', '--import', '--loader', '--experimental-loader']);

/** The memory settings this process runs with (recorded with the results). */
export function memorySettings(): { v8Flags: string[]; mallocArenaMax: string | null } {
  return {
    // Node's own flags with the loader's (tsx) module after them are not memory settings.
    v8Flags: process.execArgv.filter(
      (a, i, all) =>
        a.startsWith('--') &&
        !LOADER_FLAGS.has(a.split('=')[0]!) &&
        !LOADER_FLAGS.has(all[i - 1] ?? '') &&
        !/tsx/.test(a),
    ),
    mallocArenaMax: process.env.MALLOC_ARENA_MAX ?? null,
  };
}
