/**
 * ISO-8601 durations (`P2D`, `PT4H`, `P1DT12H30M`, `P1W`) as milliseconds.
 * Years and months are rejected: their length depends on the calendar, and a procedure's
 * timers must mean the same thing on every replay. P5D is five calendar days; working days (`P2WD`)
 * need a business calendar (`calendar.ts`): `parseDelay` tells the two apart.
 */
import { parseWorkingDays } from './calendar.ts';

const DURATION = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** Milliseconds for an ISO-8601 duration, or `undefined` when it is not one we accept. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return undefined;
  const [, w, d, h, min, s] = m;
  const n = (v: string | undefined): number => (v ? Number(v) : 0);
  const ms = ((((n(w) * 7 + n(d)) * 24 + n(h)) * 60 + n(min)) * 60 + n(s)) * 1000;
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

/** A delay: fixed milliseconds, or working days (`P2WD`) that only a business calendar resolves. */
export type Delay = { ms: number } | { workingDays: number };

/** `P2WD` → `{workingDays: 2}`, an ISO-8601 duration → `{ms}`, anything else undefined. */
export function parseDelay(text: string): Delay | undefined {
  const workingDays = parseWorkingDays(text);
  if (workingDays !== undefined) return { workingDays };
  const ms = parseDuration(text);
  return ms === undefined ? undefined : { ms };
}
