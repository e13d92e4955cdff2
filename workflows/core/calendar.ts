/**
 * Business calendars: working-day arithmetic over weekends, public holidays and adjusted working
 * days (调休: weekend days that are working days). Pure and deterministic — plain data in, epoch
 * milliseconds out, no Intl time-zone database (zones are fixed offsets; Asia/Shanghai has had no
 * daylight saving since 1991) — so the same code runs in the workflow sandbox, Node and the browser.
 *
 * `P2WD` ("two working days") is parsed here and offered through `duration.ts`; loading a calendar
 * from YAML with positioned diagnostics is `calendar-load.ts`.
 *
 * Semantics of `addWorkingDays(t, n)`: on a working day, the same local time of day n working days
 * later (Friday 15:00 + 1 WD = Monday 15:00); from a non-working day, counting starts at the
 * beginning of the next working day (Saturday 10:00 + 1 WD = Tuesday 00:00, i.e. all of Monday).
 */

/** A calendar as plain JSON (what a workflow would carry, like an IR). */
export interface BusinessCalendar {
  id: string;
  /** IANA name as written (`Asia/Shanghai`); arithmetic uses `offsetMinutes`. */
  timezone: string;
  /** Local time = UTC + this. */
  offsetMinutes: number;
  /** ISO weekdays that are not working days (1 = Monday … 7 = Sunday). */
  weekend: number[];
  /** The dates (inclusive, local) the holiday data is complete for. */
  covers: { from: string; to: string };
  /** Public holidays (local dates, `YYYY-MM-DD`) → name. */
  holidays: Record<string, string>;
  /** Adjusted working days (weekend days worked, 调休上班) → what they make up for. */
  workdays: Record<string, string>;
}

/** A computation touched a date the calendar does not cover (its holidays there are unknown). */
export interface CalendarWarning {
  code: 'CAL_BEYOND_COVERAGE';
  message: string;
  /** The first uncovered local date the computation looked at. */
  date: string;
}

export interface WorkingDayResult {
  /** Epoch milliseconds. */
  at: number;
  /** Non-empty when the result depends on dates outside `covers` (weekends only assumed there). */
  warnings: CalendarWarning[];
}

/** Fixed UTC offsets (minutes) of the zones a calendar may name; `±hh:mm` is accepted as well. */
export const ZONE_OFFSETS: Readonly<Record<string, number>> = {
  'Asia/Shanghai': 480,
  'Asia/Chongqing': 480,
  PRC: 480,
  UTC: 0,
};

/** A zone's fixed offset in minutes, or undefined when it is not one we can compute with. */
export function zoneOffset(timezone: string): number | undefined {
  if (Object.prototype.hasOwnProperty.call(ZONE_OFFSETS, timezone)) return ZONE_OFFSETS[timezone];
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(timezone);
  if (!m) return undefined;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return minutes > 14 * 60 || Number(m[3]) > 59 ? undefined : (m[1] === '-' ? -1 : 1) * minutes;
}

const DAY = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of a `YYYY-MM-DD` date, or undefined when it is not a real date. */
export function dayNumber(date: string): number | undefined {
  const m = DATE.exec(date);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d)
    return undefined;
  return ms / DAY;
}

/** `YYYY-MM-DD` of a day number. */
export function dateOf(day: number): string {
  return new Date(day * DAY).toISOString().slice(0, 10);
}

/** ISO weekday (1 = Monday … 7 = Sunday) of a day number (1970-01-01 was a Thursday). */
export function weekdayOf(day: number): number {
  return ((((day + 3) % 7) + 7) % 7) + 1;
}

/** Whether the local date is a working day: a listed adjusted working day, else not a weekend nor a holiday. */
export function isWorkingDay(date: string, cal: BusinessCalendar): boolean {
  if (Object.prototype.hasOwnProperty.call(cal.workdays, date)) return true;
  if (Object.prototype.hasOwnProperty.call(cal.holidays, date)) return false;
  const day = dayNumber(date);
  if (day === undefined) throw new RangeError(`not a date: ${date}`);
  return !cal.weekend.includes(weekdayOf(day));
}

class Coverage {
  warnings: CalendarWarning[] = [];
  private readonly from: number;
  private readonly to: number;
  constructor(private readonly cal: BusinessCalendar) {
    this.from = dayNumber(cal.covers.from) ?? -Infinity;
    this.to = dayNumber(cal.covers.to) ?? Infinity;
  }
  note(day: number): void {
    if (this.warnings.length || (day >= this.from && day <= this.to)) return;
    this.warnings.push({
      code: 'CAL_BEYOND_COVERAGE',
      date: dateOf(day),
      message:
        `calendar "${this.cal.id}" covers ${this.cal.covers.from} to ${this.cal.covers.to}; ` +
        `${dateOf(day)} is outside it, so only weekends were assumed there (holidays unknown)`,
    });
  }
  working(day: number): boolean {
    this.note(day);
    return isWorkingDay(dateOf(day), this.cal);
  }
}

/**
 * `instant` plus `n` working days (n ≥ 0, an integer) in `cal`, in its time zone unless `timezone`
 * is given. See the module comment for the rule; warnings when it ran past the covered dates.
 */
export function addWorkingDays(
  instant: number | Date,
  n: number,
  cal: BusinessCalendar,
  timezone?: string,
): WorkingDayResult {
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`working days must be a whole number ≥ 0 (got ${n})`);
  const offset = timezone === undefined ? cal.offsetMinutes : zoneOffset(timezone);
  if (offset === undefined) throw new RangeError(`unknown time zone ${timezone}`);
  const t = typeof instant === 'number' ? instant : instant.getTime();
  const local = t + offset * 60_000;
  let day = Math.floor(local / DAY);
  let timeOfDay = local - day * DAY;
  const cov = new Coverage(cal);
  if (!cov.working(day)) {
    do day++;
    while (!cov.working(day));
    timeOfDay = 0;
  }
  for (let left = n; left > 0;) {
    day++;
    if (cov.working(day)) left--;
  }
  return { at: day * DAY + timeOfDay - offset * 60_000, warnings: cov.warnings };
}

/** Working days in the local dates from `a` up to, not including, `b` (0 when b ≤ a). */
export function workingDaysBetween(
  a: number | Date,
  b: number | Date,
  cal: BusinessCalendar,
): { days: number; warnings: CalendarWarning[] } {
  const off = cal.offsetMinutes * 60_000;
  const from = Math.floor(((typeof a === 'number' ? a : a.getTime()) + off) / DAY);
  const to = Math.floor(((typeof b === 'number' ? b : b.getTime()) + off) / DAY);
  const cov = new Coverage(cal);
  let days = 0;
  for (let d = from; d < to; d++) if (cov.working(d)) days++;
  return { days, warnings: cov.warnings };
}

/** `P<n>WD`: n working days (needs a business calendar), else undefined. */
export function parseWorkingDays(text: string): number | undefined {
  const m = /^P(\d{1,4})WD$/.exec(text);
  return m ? Number(m[1]) : undefined;
}
