/**
 * Helpers shared by the benchmarks: percentiles, another process's CPU time, and JSON results
 * printed the way the repository's Prettier settings print them.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** The p-th percentile (nearest rank) of an ascending array; NaN when empty. */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** CPU time (ms) of another process, from /proc (Linux); null when unavailable. */
export function processCpuMs(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime field 15 → indexes 11, 12.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

/** JSON as the repository's Prettier settings print it (so the committed results pass `format:check`). */
export async function formatJson(value: unknown, file: string): Promise<string> {
  const text = JSON.stringify(value, null, 2) + '\n';
  try {
    const prettier = await import('prettier');
    const options = (await prettier.resolveConfig(file)) ?? {};
    return await prettier.format(text, { ...options, filepath: file });
  } catch {
    return text;
  }
}

/**
 * CPU time (ms) of a process and its children, from /proc (Linux): its utime + stime, the
 * children it has waited for (cutime + cstime: a PostgreSQL server's exited backends), and every
 * live child's utime + stime (the server's backends and auxiliary processes). Null when
 * unavailable.
 */
export function processTreeCpuMs(pid: number | undefined): number | null {
  if (!pid) return null;
  const fieldsOf = (p: number | string): string[] | null => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    } catch {
      return null;
    }
  };
  const own = fieldsOf(pid);
  if (!own) return null;
  // Indexes as in processCpuMs: utime 11, stime 12, cutime 13, cstime 14; ppid is field 4 → 1.
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const f = fieldsOf(p);
    if (f && Number(f[1]) === pid) ticks += Number(f[11]) + Number(f[12]);
  }
  return (ticks * 1000) / 100;
}

/** CPU time (ms) of each live thread of this process (Linux, /proc/self/task), by thread id. */
export function threadCpuMs(): Map<string, { name: string; ms: number }> {
  const out = new Map<string, { name: string; ms: number }>();
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      out.set(tid, { name, ms: ((Number(fields[11]) + Number(fields[12])) * 1000) / 100 });
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

/**
 * This process's CPU between two {@link threadCpuMs} snapshots, by thread name (Node names its
 * threads: `MainThread`, `WorkerThread` for a worker thread — the Temporal workflow sandbox —,
 * `V8Worker` for V8's helpers, `libuv-worker`, …; the Temporal core's Rust threads have their
 * own names). `totalMs` is the process's whole CPU over the same span (`process.cpuUsage`), so
 * what threads that ended meanwhile used (V8's per-call watchdog threads of the workflow
 * sandbox's execution timeout, among others) is the remainder, `(ended threads)`.
 */
export function threadCpuDelta(
  before: Map<string, { name: string; ms: number }>,
  after: Map<string, { name: string; ms: number }>,
  totalMs: number,
): Record<string, number> {
  const by: Record<string, number> = {};
  let sum = 0;
  for (const [tid, { name, ms }] of after) {
    const d = ms - (before.get(tid)?.ms ?? 0);
    by[name] = (by[name] ?? 0) + d;
    sum += d;
  }
  by['(ended threads)'] = Math.max(0, totalMs - sum);
  return by;
}
