/**
 * How soon the current calendar's holiday data runs out. Past `covers.to` working days are counted
 * on weekends alone (the engine's CAL_BEYOND_COVERAGE warning), so an administrator must add the
 * next year's State Council notice before then: the Calendars page says so from 60 days ahead.
 */
export const COVERAGE_WARNING_DAYS = 60;

export type CoverageNotice =
  | { kind: 'ok' }
  | { kind: 'ends-soon'; daysLeft: number; to: string }
  | { kind: 'ended'; daysAgo: number; to: string };

const DAY_MS = 86_400_000;

/** `today` and `to` are calendar dates (YYYY-MM-DD) in the calendar's own time zone. */
export function coverageNotice(to: string, today: string): CoverageNotice {
  const end = Date.parse(`${to}T00:00:00Z`);
  const now = Date.parse(`${today}T00:00:00Z`);
  if (Number.isNaN(end) || Number.isNaN(now)) return { kind: 'ok' };
  const days = Math.round((end - now) / DAY_MS);
  if (days < 0) return { kind: 'ended', daysAgo: -days, to };
  if (days < COVERAGE_WARNING_DAYS) return { kind: 'ends-soon', daysLeft: days, to };
  return { kind: 'ok' };
}

/** Today's date in a time zone (the calendar's), as YYYY-MM-DD. */
export function todayIn(timeZone: string, now: Date = new Date()): string {
  try {
    return new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    }).format(now);
  } catch {
    return now.toISOString().slice(0, 10);
  }
}
