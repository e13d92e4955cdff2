/**
 * The business calendar instances count working days in (`P2WD` in `sla:`), handed to the
 * workflow with the IR at start and pinned there for the instance's life (`ProcedureInput.calendar`).
 *
 * Why pinned rather than re-armed: a deadline is a promise made when the state was entered, and
 * replay must compute the same deadline from the same input — a calendar read at run time would
 * make old histories depend on today's file. A corrected calendar applies to instances started
 * after it (the records' hash tells which calendar an instance used).
 *
 * The calendar is the shipped `definitions/calendars/cn-2025-2027.json`, checked with the same
 * positioned loader as any calendar (`workflows/core/calendar-load.ts`); a malformed file stops
 * the process at first use with its line and column.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { BusinessCalendar } from '../workflows/core/calendar.ts';
import { loadCalendar } from '../workflows/core/calendar-load.ts';
import type { ProcedureIR } from '../workflows/core/ir.ts';
import { usesWorkingDays } from '../workflows/core/sla.ts';
import { REPO_ROOT } from './settings.ts';

/** The shipped calendar file. */
export const CALENDAR_FILE = path.join(REPO_ROOT, 'definitions', 'calendars', 'cn-2025-2027.json');

let shipped: BusinessCalendar | undefined;

/** The shipped business calendar (read and checked once). */
export function shippedCalendar(): BusinessCalendar {
  if (shipped) return shipped;
  const file = path.relative(REPO_ROOT, CALENDAR_FILE);
  const { calendar, diagnostics } = loadCalendar(readFileSync(CALENDAR_FILE, 'utf8'), file);
  if (!calendar)
    throw new Error(
      diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code} ${d.message}`).join('\n'),
    );
  shipped = calendar;
  return calendar;
}

/** `{ calendar }` for a start input when the definition counts in working days, else nothing. */
export function calendarInput(ir: ProcedureIR): { calendar?: BusinessCalendar } {
  return usesWorkingDays(ir.root) ? { calendar: shippedCalendar() } : {};
}
