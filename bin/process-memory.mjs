// The memory settings of the server processes (`npm start`, `npm run worker`, through
// ./launch.mjs) that must be in place before the process starts: glibc reads its malloc tunables
// once, at start-up, and V8 its flags. Read here, not through worker/settings.ts (declared there):
// the launcher runs before any TypeScript can. When they are missing, the launcher replaces its
// own process with one that has them (`process.execve`: same pid, same stdio, no wrapper process
// left), before loading anything else. An operator's own values are kept. README "Memory" has the
// measurements. Plain JavaScript with no dependencies, like the launcher.

/**
 * glibc malloc arenas. Its default is 8 per core, and a thread allocating while another holds an
 * arena gets one of its own; the Temporal core's threads, libuv's pool and V8's platform threads
 * each end up with one. Memory freed in an arena stays there (only an arena's top is given back):
 * at 10,000 instances, ten arenas held 102 MB against 54 MB in two.
 */
export const MALLOC_ARENA_MAX = '2';

/**
 * V8 flags of the server process by default, for both of its isolates (the main thread's and the
 * Temporal workflow thread's, which inherits them). While a backlog of workflow tasks is worked off
 * back to back, each isolate otherwise grows its young generation to its maximum and its old
 * generation far ahead of what it holds (the workflow thread: 183–237 MB committed for ~90 MB live
 * at 10,000 instances), and keeps the pages.
 * - `--max-semi-space-size=4`: a young generation of at most 4 MB per semi-space (V8's: 16).
 * - `--heap-growing-percent=50`: the old generation's next limit 1.5× what survived the last
 *   full collection (V8's factor: up to 4× for a busy heap).
 * Measured at 10,000 instances (README "Memory", third pass): RSS 393–411 MB at every point and
 * at the peak with both, 541–591 MB and a 565–661 MB peak with the first only, 631–656 MB with
 * neither. Their CPU per steady-state transition: +3.5 % (median; +4.7 % mean) on a quiet
 * machine, the same throughput and latency; per first task and per event, no difference.
 */
export const DEFAULT_FLAGS = ['--max-semi-space-size=4', '--heap-growing-percent=50'];

/**
 * V8 flags of the server process when `CUSTODIA_OPTIMIZE_FOR_SIZE=true`, for both of its isolates
 * (the main thread's and the Temporal workflow thread's, which inherits them).
 * `--optimize-for-size`: V8 grows its heaps less ahead of what they hold and gives pages back
 * sooner. Measured at 10,000 instances: the worker's RSS while their first workflow tasks ran back
 * to back ~340 MB against ~630 MB (before `DEFAULT_FLAGS`), for ~25% more CPU per steady-state
 * transition (12 rounds each, alternating; mostly V8's GC threads) — off by default.
 */
export const SIZE_FLAGS = ['--optimize-for-size'];

/**
 * The V8 flags `env` asks for: `DEFAULT_FLAGS`, or with `CUSTODIA_OPTIMIZE_FOR_SIZE=true` (default
 * false) `SIZE_FLAGS` instead (which size the young generation by themselves).
 */
export function nodeFlags(env) {
  const raw = (env.CUSTODIA_OPTIMIZE_FOR_SIZE ?? '').trim();
  if (raw === '' || raw === 'false') return DEFAULT_FLAGS;
  if (raw === 'true') return SIZE_FLAGS;
  throw new Error(`CUSTODIA_OPTIMIZE_FOR_SIZE must be true or false (got "${raw}")`);
}

const flagName = (flag) =>
  flag
    .replace(/^--(no-)?/, '')
    .split('=')[0]
    .replace(/_/g, '-');

/**
 * How to start the server process when that differs from this one, else null: its environment
 * and its Node flags. Linux only for the malloc setting (glibc's variable; other systems ignore
 * or lack it), and only where Node can replace its own process (`hasExecve`).
 */
export function memoryRelaunch(
  env,
  execArgv,
  platform = process.platform,
  hasExecve = typeof process.execve === 'function',
) {
  const wanted = nodeFlags(env);
  if (!hasExecve) return null;
  // The operator's own value of a flag, on the command line or in NODE_OPTIONS, is kept.
  const fromEnv = (env.NODE_OPTIONS ?? '').split(/\s+/).filter((a) => a.startsWith('--'));
  const given = new Set([...execArgv, ...fromEnv].map(flagName));
  const flags = wanted.filter((f) => !given.has(flagName(f)));
  // Unset only: the operator's value, or the one of an earlier relaunch, is kept.
  const arena = platform === 'linux' && env.MALLOC_ARENA_MAX === undefined;
  if (!flags.length && !arena) return null;
  return { env: arena ? { ...env, MALLOC_ARENA_MAX } : env, execArgv: [...flags, ...execArgv] };
}

/**
 * Replace this process with the same command line under `memoryRelaunch(…)` when that differs;
 * returns only when it does not (or when the system refuses: then it runs as it is).
 */
export function relaunchWithMemorySettings() {
  let next;
  try {
    next = memoryRelaunch(process.env, process.execArgv);
  } catch (err) {
    console.error(`custodia: ${err instanceof Error ? err.message : err}`);
    process.exit(2);
  }
  if (!next) return;
  try {
    process.execve(
      process.execPath,
      [process.execPath, ...next.execArgv, ...process.argv.slice(1)],
      next.env,
    );
  } catch (err) {
    console.warn(
      `custodia: could not restart with the memory settings (${err instanceof Error ? err.message : err}); running without`,
    );
  }
}
