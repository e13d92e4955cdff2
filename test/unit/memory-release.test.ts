/**
 * The idle memory release (worker/memory-release.ts): its rule, its settings, and on the real V8
 * heap of this thread that it gives pages back — without a `gc` global anywhere.
 */
import vm from 'node:vm';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RELEASE_RULE,
  shouldReleaseMemory,
  startIdleMemoryRelease,
  startMemoryRelease,
  v8Gc,
  type MemoryReading,
} from '../../worker/memory-release.ts';
import { idleGcIntervalMs, maxConcurrentWorkflowTasks } from '../../worker/settings.ts';

const MiB = 2 ** 20;
const reading = (over: Partial<MemoryReading> = {}): MemoryReading => ({
  at: 1_000_000,
  utilization: 0.01,
  heapUsed: 60 * MiB,
  heapResident: 190 * MiB,
  heapPeakResident: 190 * MiB,
  ...over,
});

describe('shouldReleaseMemory', () => {
  it('releases when idle with many unused resident pages, and no release in the last interval', () => {
    expect(shouldReleaseMemory(reading(), null)).toBe(true);
    expect(shouldReleaseMemory(reading(), 1_000_000 - 60_000)).toBe(true);
  });

  it('waits the interval after a release', () => {
    expect(shouldReleaseMemory(reading(), 1_000_000 - 59_999)).toBe(false);
    expect(
      shouldReleaseMemory(reading(), 1_000_000 - 5_000, { ...DEFAULT_RELEASE_RULE, minIntervalMs: 5_000 }),
    ).toBe(true);
  });

  it('never while the event loop is busy (a backlog being worked off)', () => {
    expect(shouldReleaseMemory(reading({ utilization: 0.06 }), null)).toBe(false);
    expect(shouldReleaseMemory(reading({ utilization: 0.9 }), null)).toBe(false);
    expect(shouldReleaseMemory(reading({ utilization: NaN }), null)).toBe(false);
    expect(shouldReleaseMemory(reading({ utilization: 0.05 }), null)).toBe(true);
  });

  it('not for a heap that holds about what it uses and never held much more (a worker at rest)', () => {
    const atRest = { heapUsed: 66 * MiB, heapResident: 86 * MiB, heapPeakResident: 90 * MiB };
    expect(shouldReleaseMemory(reading(atRest), null)).toBe(false);
    expect(shouldReleaseMemory(reading({ ...atRest, heapPeakResident: 114 * MiB - 1 }), null)).toBe(false);
    expect(shouldReleaseMemory(reading({ ...atRest, heapPeakResident: 114 * MiB }), null)).toBe(true);
    expect(
      shouldReleaseMemory(reading({ ...atRest, heapResident: 114 * MiB, heapPeakResident: 0 }), null),
    ).toBe(true);
  });

  it('after V8 shrank the heap by itself: its pages stay resident in its pool, counted from the peak', () => {
    // Measured after a burst: 62 MB used of 88 MB, down from 225 MB; the RSS had not moved.
    const shrunk = { heapUsed: 62 * MiB, heapResident: 88 * MiB, heapPeakResident: 225 * MiB };
    expect(shouldReleaseMemory(reading(shrunk), null)).toBe(true);
  });
});

describe('settings', () => {
  it('CUSTODIA_IDLE_GC_INTERVAL_MS: 60 s by default, 0 turns it off, else at least 10 s', () => {
    expect(idleGcIntervalMs({})).toBe(60_000);
    expect(idleGcIntervalMs({ CUSTODIA_IDLE_GC_INTERVAL_MS: '0' })).toBe(0);
    expect(idleGcIntervalMs({ CUSTODIA_IDLE_GC_INTERVAL_MS: '10000' })).toBe(10_000);
    for (const bad of ['5000', '-1', '1.5', 'often', '9999999999'])
      expect(() => idleGcIntervalMs({ CUSTODIA_IDLE_GC_INTERVAL_MS: bad })).toThrow(
        /CUSTODIA_IDLE_GC_INTERVAL_MS must be 0 or a number of ms ≥ 10000/,
      );
    expect(startIdleMemoryRelease({ CUSTODIA_IDLE_GC_INTERVAL_MS: '0' })).toBeNull();
    expect(() => startIdleMemoryRelease({ CUSTODIA_IDLE_GC_INTERVAL_MS: '1' })).toThrow(/IDLE_GC/);
  });

  it("CUSTODIA_MAX_CONCURRENT_WORKFLOW_TASKS: the SDK's 40 by default, at least 2", () => {
    expect(maxConcurrentWorkflowTasks({})).toBe(40);
    expect(maxConcurrentWorkflowTasks({ CUSTODIA_MAX_CONCURRENT_WORKFLOW_TASKS: '8' })).toBe(8);
    for (const bad of ['0', '1', '-4', '2.5', 'many', '123456'])
      expect(() => maxConcurrentWorkflowTasks({ CUSTODIA_MAX_CONCURRENT_WORKFLOW_TASKS: bad })).toThrow(
        /CUSTODIA_MAX_CONCURRENT_WORKFLOW_TASKS must be a whole number ≥ 2/,
      );
  });
});

describe('the release on the real heap', () => {
  it("reads V8's gc without leaving a gc global in this or any later context", () => {
    const hadGlobal = typeof (globalThis as { gc?: unknown }).gc === 'function';
    const gc = v8Gc();
    expect(typeof gc).toBe('function');
    expect(typeof (globalThis as { gc?: unknown }).gc === 'function').toBe(hadGlobal);
    expect(vm.runInNewContext('typeof gc')).toBe('undefined');
  });

  it('gives the pages of collected garbage back once idle, once per interval', async () => {
    // Garbage: the heap grows to hold it, then nothing refers to it any more.
    let junk: unknown[] | null = Array.from({ length: 400_000 }, (_, i) => ({ i, s: `item ${i}` }));
    const grown = process.memoryUsage.rss();
    junk = null;
    expect(junk).toBeNull();
    const released: [number, number][] = [];
    const release = startMemoryRelease({
      rule: { minIntervalMs: 60_000, maxIdleUtilization: 0.5, minSlackBytes: 8 * MiB },
      checkEveryMs: 100,
      onRelease: (before, after) => released.push([before, after]),
    });
    try {
      for (let i = 0; i < 100 && release.releases === 0; i++) await delay(50);
      expect(release.releases).toBe(1);
      const [before, after] = released[0] ?? [NaN, NaN];
      expect(before).toBeGreaterThan(after + 8 * MiB);
      expect(after).toBeLessThan(grown);
      expect(release.freedBytes).toBe(before - after);
      // The interval holds: no second release right after.
      await delay(500);
      expect(release.releases).toBe(1);
    } finally {
      release.stop();
    }
  }, 20_000);
});
