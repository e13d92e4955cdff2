// The memory settings of the server processes (`npm start`, `npm run worker`, through
// ./launch.mjs) that must be in place before the process starts: glibc reads its malloc tunables
// once, at start-up. When they are not set, the launcher replaces its own process with one that
// has them (`process.execve`: same pid, same stdio, no wrapper process left), before loading
// anything else. An operator's own value is kept. README "Memory" has the measurements.
// Plain JavaScript with no dependencies, like the launcher.

/**
 * glibc malloc arenas. Its default is 8 per core, and a thread allocating while another holds an
 * arena gets one of its own; the Temporal core's threads, libuv's pool and V8's platform threads
 * each end up with one. Memory freed in an arena stays there (only the top of an arena is given
 * back), so with every activation's history decoded on some thread, the arenas kept ~70 MB at
 * 10,000 instances. Two arenas: the main one and one shared by the other threads.
 */
export const MALLOC_ARENA_MAX = '2';

/**
 * The environment to start the server process with when it differs from `env`, else null.
 * Linux only (glibc's variable; musl and other systems ignore or lack it), and only where Node
 * can replace its own process (`hasExecve`).
 */
export function memoryEnv(env, platform = process.platform, hasExecve = typeof process.execve === 'function') {
  if (platform !== 'linux' || !hasExecve) return null;
  if (env.MALLOC_ARENA_MAX !== undefined) return null; // the operator's value, or already relaunched
  return { ...env, MALLOC_ARENA_MAX };
}

/**
 * Replace this process with the same command line under `memoryEnv(process.env)` when that
 * differs; returns only when it does not (or when the system refuses: then it runs as it is).
 */
export function relaunchWithMemorySettings() {
  const env = memoryEnv(process.env);
  if (!env) return;
  try {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], env);
  } catch (err) {
    console.warn(`custodia: could not set MALLOC_ARENA_MAX (${err instanceof Error ? err.message : err}); running without`);
  }
}
