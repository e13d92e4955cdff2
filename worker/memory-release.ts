/**
 * Giving the main thread's V8 heap back to the system once the worker goes idle after a busy
 * period (README "Memory", third pass).
 *
 * While many workflow tasks run back to back (e.g. 10,000 instances' first tasks after a start
 * burst) V8 grows the heap to two to four times what it holds, and with nothing left to allocate it
 * has no reason to collect and shrink it: the pages stay in the worker's RSS (main heap 55 MB used
 * of 192 MB committed a minute after 10,000 instances wait). Here the process asks V8 for a
 * memory-reducing full collection (`flavor: 'last-resort'`: collect everything, compact, release
 * the freed pages) when the rule below holds — checked every `checkEveryMs`, at most one per
 * `minIntervalMs`, only when idle and only when the heap's resident pages are well above what it
 * uses. The collection runs as a task of the main thread's event loop (`execution: 'async'`).
 *
 * Only this (main) thread: the workflow thread's heap is the SDK's, and nothing here runs in the
 * workflow sandbox. V8's `gc()` is obtained without `--expose-gc` on the command line: the flag is
 * set only while one fresh context is created to read the function out of it, then cleared, so no
 * other context (the SDK's thread, the workflow sandbox) gets a `gc` global.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { idleGcIntervalMs } from './settings.ts';

const MiB = 2 ** 20;

export interface MemoryReleaseRule {
  /** At most one release per this many ms. */
  minIntervalMs: number;
  /** Idle: the main thread's event loop busy at most this share (0–1) of the last check's window. */
  maxIdleUtilization: number;
  /**
   * Worth it: the heap's resident pages, at their highest since the last release, at least this
   * many bytes above what it uses now.
   */
  minSlackBytes: number;
}

export const DEFAULT_RELEASE_RULE: MemoryReleaseRule = {
  minIntervalMs: 60_000,
  maxIdleUtilization: 0.05,
  minSlackBytes: 48 * MiB,
};

/** One check's reading of the main thread. */
export interface MemoryReading {
  /** When (ms, any monotonic clock). */
  at: number;
  /** Event-loop utilization over the window since the previous check (0–1). */
  utilization: number;
  /** V8 heap: bytes used (live and not yet collected) and resident (`total_physical_size`). */
  heapUsed: number;
  heapResident: number;
  /**
   * The highest `heapResident` seen since the last release (or the start). V8 shrinks its heap
   * by itself after a busy period, but keeps the pages it gave up in its page pool, still resident
   * and no longer counted: the process's RSS stays where the peak was until a memory-reducing
   * collection releases them (measured: main heap 225 → 88 MB committed, RSS unchanged).
   */
  heapPeakResident: number;
}

/**
 * Whether to ask V8 for a memory-reducing collection now: idle, the heap's resident pages (at
 * their peak since the last release) at least `minSlackBytes` above its use, and no release in the
 * last `minIntervalMs` (`lastReleaseAt`: null when none yet).
 */
export function shouldReleaseMemory(
  reading: MemoryReading,
  lastReleaseAt: number | null,
  rule: MemoryReleaseRule = DEFAULT_RELEASE_RULE,
): boolean {
  if (lastReleaseAt !== null && reading.at - lastReleaseAt < rule.minIntervalMs) return false;
  if (!(reading.utilization <= rule.maxIdleUtilization)) return false;
  const resident = Math.max(reading.heapResident, reading.heapPeakResident);
  return resident - reading.heapUsed >= rule.minSlackBytes;
}

type GcOptions = { type: 'major'; execution: 'async'; flavor: 'last-resort' };
type Gc = (options: GcOptions) => Promise<void> | undefined;

/** V8's `gc()` for this thread, without exposing it as a global anywhere (see the module comment). */
export function v8Gc(): Gc {
  const exposed = typeof (globalThis as { gc?: unknown }).gc === 'function';
  if (exposed) return (globalThis as unknown as { gc: Gc }).gc;
  v8.setFlagsFromString('--expose-gc');
  try {
    return vm.runInNewContext('gc') as Gc;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}

export interface MemoryRelease {
  /** Releases done so far, and the process's RSS given back by them (before − after, bytes). */
  readonly releases: number;
  readonly freedBytes: number;
  stop(): void;
}

/**
 * Check every `checkEveryMs` (default 2 s) and release per `shouldReleaseMemory`. The timer does
 * not keep the process alive. `onRelease` hears each one (the process's RSS before and after, bytes).
 */
export function startMemoryRelease(
  opts: {
    rule?: MemoryReleaseRule;
    checkEveryMs?: number;
    onRelease?: (before: number, after: number) => void;
  } = {},
): MemoryRelease {
  const rule = opts.rule ?? DEFAULT_RELEASE_RULE;
  const gc = v8Gc();
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  let lastReleaseAt: number | null = null;
  let running = false;
  let peak = 0;
  const state = { releases: 0, freedBytes: 0 };
  const check = (): void => {
    const now = performance.eventLoopUtilization();
    const window = performance.eventLoopUtilization(now, last);
    last = now;
    if (running) return;
    const h = v8.getHeapStatistics();
    peak = Math.max(peak, h.total_physical_size);
    const reading: MemoryReading = {
      at: performance.now(),
      utilization: window.utilization,
      heapUsed: h.used_heap_size,
      heapResident: h.total_physical_size,
      heapPeakResident: peak,
    };
    if (!shouldReleaseMemory(reading, lastReleaseAt, rule)) return;
    lastReleaseAt = reading.at;
    running = true;
    const rssBefore = process.memoryUsage.rss();
    const done = (): void => {
      running = false;
      peak = v8.getHeapStatistics().total_physical_size;
      const rssAfter = process.memoryUsage.rss();
      state.releases += 1;
      state.freedBytes += Math.max(0, rssBefore - rssAfter);
      opts.onRelease?.(rssBefore, rssAfter);
    };
    Promise.resolve(gc({ type: 'major', execution: 'async', flavor: 'last-resort' })).then(done, done);
  };
  const timer = setInterval(check, opts.checkEveryMs ?? 2_000);
  timer.unref();
  return {
    get releases() {
      return state.releases;
    },
    get freedBytes() {
      return state.freedBytes;
    },
    stop: () => clearInterval(timer),
  };
}

/** The server processes' hook: on unless `CUSTODIA_IDLE_GC_INTERVAL_MS=0`; null when off. */
export function startIdleMemoryRelease(env: NodeJS.ProcessEnv = process.env): MemoryRelease | null {
  const interval = idleGcIntervalMs(env);
  if (interval === 0) return null;
  return startMemoryRelease({ rule: { ...DEFAULT_RELEASE_RULE, minIntervalMs: interval } });
}
