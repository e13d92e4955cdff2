/**
 * The business calendar a migration brings (patch `migration-calendar`), pure.
 *
 * A calendar is pinned in an instance's input at start only when its version counts working days
 * (`worker/calendars.ts`). An instance started on a version without them has none; moved to a
 * version with them, it adopts the calendar the `migrate` update carries — the deployment's
 * current one, as a new start would pin (`worker/migration/migrations.ts`). An instance that has a
 * calendar keeps it: a calendar is pinned for the instance's life. The workflow's validator and
 * handler and the dry run all decide with {@link calendarAfterMigration}.
 */
import { dayNumber, type BusinessCalendar } from './calendar.ts';
import type { ProcedureIR } from './ir.ts';
import { usesWorkingDays } from './sla.ts';

/**
 * The calendar a migration to `to` makes the instance adopt: `offered` when the instance has no
 * calendar (`instance`), `to` counts in working days and one is offered; otherwise none (it keeps
 * its own, or needs none).
 */
export function adoptedCalendar(
  instance: BusinessCalendar | undefined,
  to: ProcedureIR,
  offered: BusinessCalendar | undefined,
): BusinessCalendar | undefined {
  return !instance && offered && usesWorkingDays(to.root) ? offered : undefined;
}

/** The calendar the instance counts working days in after a migration to `to`. */
export function calendarAfterMigration(
  instance: BusinessCalendar | undefined,
  to: ProcedureIR,
  offered: BusinessCalendar | undefined,
): BusinessCalendar | undefined {
  return instance ?? adoptedCalendar(instance, to, offered);
}

/** What is wrong with a calendar sent with a `migrate` update, in English and Chinese. */
export interface CalendarProblem {
  message: string;
  zh: string;
}

const problem = (message: string, zh: string): CalendarProblem => ({ message, zh });

/**
 * Why a calendar sent with a `migrate` update is refused, or undefined when it has the shape of a
 * loaded calendar (`BusinessCalendar`; what `worker/calendars.ts` hands a start) or none is sent.
 * The validator refuses a malformed one, so the handler never counts in it.
 */
export function offeredCalendarProblem(offered: unknown): CalendarProblem | undefined {
  if (offered === undefined) return undefined;
  if (!isRecord(offered)) return problem('the calendar is not an object', '日历不是对象');
  const c = offered;
  if (typeof c.id !== 'string' || !c.id) return problem('the calendar has no id', '日历没有 id');
  if (typeof c.timezone !== 'string') return problem('the calendar has no timezone', '日历没有时区');
  if (typeof c.offsetMinutes !== 'number' || !Number.isInteger(c.offsetMinutes))
    return problem('the calendar has no whole offsetMinutes', '日历没有整数 offsetMinutes');
  if (!Array.isArray(c.weekend) || !c.weekend.every((d) => Number.isInteger(d) && d >= 1 && d <= 7))
    return problem(
      "the calendar's weekend is not a list of ISO weekdays",
      '日历的 weekend 不是 ISO 星期列表',
    );
  if (!isRecord(c.covers) || !isDate(c.covers.from) || !isDate(c.covers.to))
    return problem("the calendar's covers is not { from, to } dates", '日历的 covers 不是 { from, to } 日期');
  for (const key of ['holidays', 'workdays'] as const) {
    const days = c[key];
    if (!isRecord(days) || !Object.entries(days).every(([d, v]) => isDate(d) && typeof v === 'string'))
      return problem(
        `the calendar's ${key} is not a map of dates to names`,
        `日历的 ${key} 不是日期到名称的映射`,
      );
  }
  return undefined;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const isDate = (v: unknown): boolean => typeof v === 'string' && dayNumber(v) !== undefined;
