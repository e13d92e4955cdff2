/**
 * "Nothing costly runs on the serving thread", measured: while some costly request is answered, a
 * cheap one (`GET /api/me`) is sent every 20 ms, and each of its round trips must stay under
 * `SERVING_THREAD_MS` (the security issue's 200 ms).
 *
 * Work that ran on the serving thread — a proof, a backtracking regex, an alias expansion, 60
 * password hashes — blocks it for a second or more, on every try. A test file's process also hosts
 * a Temporal worker and the test runner, on a shared 2-core machine beside the other lane's files,
 * Temporal servers and Chromium; a single scheduling or GC pause there can exceed 200 ms once
 * without anything costly on the thread. So `whileProbing` measures once more when the first
 * measurement exceeds the bound (or the answer its own), and returns the second: a real regression
 * fails both.
 */
import { expect } from 'vitest';

export const SERVING_THREAD_MS = 200;

export interface Probed<T> {
  /** The costly request's answer (of the measurement returned). */
  res: T;
  /** Each probe's round trip, ms, in order. */
  probes: number[];
  /** The slowest of them (0 when the request was answered before the first probe). */
  slowest: number;
}

async function measure<T>(
  request: () => Promise<T>,
  probe: () => Promise<{ status: number; ms: number }>,
): Promise<Probed<T>> {
  const probes: number[] = [];
  let done = false;
  const pending = request().finally(() => (done = true));
  while (!done) {
    const r = await probe();
    expect(r.status).toBe(200);
    probes.push(r.ms);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { res: await pending, probes, slowest: Math.max(0, ...probes) };
}

/**
 * `request()` answered while `probe()` is sent every 20 ms; measured a second time (the request
 * sent again) when a probe took `SERVING_THREAD_MS` or longer, or when `slow(res)` says the answer
 * itself took longer than its own bound. `request` must be one that may be sent twice (refusals,
 * validations).
 */
export async function whileProbing<T>(
  request: () => Promise<T>,
  probe: () => Promise<{ status: number; ms: number }>,
  slow: (res: T) => boolean = () => false,
): Promise<Probed<T>> {
  const first = await measure(request, probe);
  if (first.slowest < SERVING_THREAD_MS && !slow(first.res)) return first;
  console.warn(
    `serving thread: slowest probe ${Math.round(first.slowest)} ms (${first.probes.map(Math.round).join(' ')})` +
      `${slow(first.res) ? ', an answer over its bound' : ''}; measuring again`,
  );
  return measure(request, probe);
}

/** The assertion itself, with every probe's time in the message. */
export function expectServingThreadFree(probed: Probed<unknown>): void {
  expect(probed.slowest, probed.probes.map(Math.round).join(' ')).toBeLessThan(SERVING_THREAD_MS);
}
