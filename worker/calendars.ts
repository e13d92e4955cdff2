/**
 * The business calendar instances count working days in (`P2WD` in `sla:`), handed to the
 * workflow with the IR at start and pinned there for the instance's life (`ProcedureInput.calendar`).
 *
 * Why pinned rather than re-armed: a deadline is a promise made when the state was entered, and
 * replay must compute the same deadline from the same input — a calendar read at run time would
 * make old histories depend on today's file. A corrected calendar applies to instances started
 * after it (the records' hash tells which calendar an instance used).
 *
 * The calendar new instances pin is the CURRENT version: the records store's newest calendar
 * version (posted by an administrator, `records/calendar-versions.ts`), else the shipped
 * `definitions/calendars/cn-2025-2027.json` (version 0, the base). Both are checked with the same
 * positioned loader (`workflows/core/calendar-load.ts`); a malformed shipped file stops the process
 * at first use with its line and column.
 *
 * `calendarInput` stays synchronous (three start paths call it): the current version is held in a
 * per-process cache, replaced when a version is posted through this process and re-read from the
 * store on the same periodic refresh as the definitions (`refreshFromStore`,
 * `CUSTODIA_DEFINITIONS_REFRESH_MS`). Another process's post is therefore seen here within one
 * refresh interval; instances started in between pin the version before it — as they would have a
 * moment earlier, and replay is unaffected either way.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { BusinessCalendar } from '../workflows/core/calendar.ts';
import type { CalendarBase, CalendarVersion } from './records/calendar-versions.ts';
import type { RecordsStore } from './records/types.ts';
import { loadCalendar } from '../workflows/core/calendar-load.ts';
import type { ProcedureIR } from '../workflows/core/ir.ts';
import { usesWorkingDays } from '../workflows/core/sla.ts';
import { REPO_ROOT } from './settings.ts';

/** The shipped calendar file. */
export const CALENDAR_FILE = path.join(REPO_ROOT, 'definitions', 'calendars', 'cn-2025-2027.json');

let shipped: { calendar: BusinessCalendar; text: string } | undefined;

function loadShipped(): { calendar: BusinessCalendar; text: string } {
  if (shipped) return shipped;
  const file = path.relative(REPO_ROOT, CALENDAR_FILE);
  const text = readFileSync(CALENDAR_FILE, 'utf8');
  const { calendar, diagnostics } = loadCalendar(text, file);
  if (!calendar)
    throw new Error(
      diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code} ${d.message}`).join('\n'),
    );
  shipped = { calendar, text };
  return shipped;
}

/** The shipped business calendar (read and checked once). */
export function shippedCalendar(): BusinessCalendar {
  return loadShipped().calendar;
}

/** The shipped file as the base version (0) a first stored version replaces. */
export function shippedBase(): CalendarBase {
  return { version: 0, text: loadShipped().text };
}

/** The current version in this process: 0 (the shipped file) until the store holds one. */
let current: { version: number; sha256?: string; calendar: BusinessCalendar } | undefined;

/** The calendar new instances pin, and its version (0 = the shipped file). */
export function currentCalendar(): { version: number; calendar: BusinessCalendar } {
  return current ?? { version: 0, calendar: shippedCalendar() };
}

/**
 * Make `v` current in this process unless a newer one already is (a stale read racing a post).
 * A stored version the loader refuses (it cannot be: it was checked when posted) is ignored.
 */
export function useCalendarVersion(v: CalendarVersion): boolean {
  if (current && current.version >= v.version) return false;
  const { calendar } = loadCalendar(v.text, `calendar@${v.version}`);
  if (!calendar) return false;
  current = { version: v.version, sha256: v.sha256, calendar };
  return true;
}

/** Re-read the newest stored version (at start and on the definitions' periodic refresh). */
export async function refreshCalendar(store: Pick<RecordsStore, 'newestCalendarVersion'>): Promise<boolean> {
  const newest = await store.newestCalendarVersion();
  return newest ? useCalendarVersion(newest) : false;
}

/** Forget the cached version (tests that open a fresh store in the same process). */
export function resetCalendarCache(): void {
  current = undefined;
}

/** `{ calendar }` for a start input when the definition counts in working days, else nothing. */
export function calendarInput(ir: ProcedureIR): { calendar?: BusinessCalendar } {
  return usesWorkingDays(ir.root) ? { calendar: currentCalendar().calendar } : {};
}
