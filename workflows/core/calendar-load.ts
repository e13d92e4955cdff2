/**
 * Loading a business calendar: YAML text → `BusinessCalendar`, or every problem with its line and
 * column (like `load.ts` for definitions). Refused: malformed YAML or duplicate keys, unknown or
 * missing keys, dates that are not real dates, ranges that end before they start, holidays that
 * overlap each other, adjusted working days listed twice, falling on a holiday or on a weekday, and
 * entries outside the covered dates.
 *
 * ```yaml
 * id: cn-mainland
 * timezone: Asia/Shanghai
 * weekend: [6, 7]                # ISO weekdays
 * covers: { from: 2025-01-01, to: 2026-12-31 }
 * holidays:
 *   - { name: 春节, from: 2025-01-28, to: 2025-02-04 }
 * workdays:                      # 调休上班
 *   - { date: 2025-01-26, for: 春节 }
 * ```
 * Other top-level keys for people (`title`, `sources`, `notes`) are kept out of the result.
 */
import { LineCounter, parseDocument } from 'yaml';
import { dayNumber, weekdayOf, zoneOffset, type BusinessCalendar } from './calendar.ts';
import type { Diagnostic } from './diagnostics.ts';
import { indexPositions, joinPointer, type PositionIndex } from './positions.ts';

export type CalendarDiagnosticCode =
  | 'CAL_YAML_SYNTAX'
  | 'CAL_DUPLICATE_KEY'
  | 'CAL_SHAPE'
  | 'CAL_UNKNOWN_KEY'
  | 'CAL_BAD_DATE'
  | 'CAL_BAD_RANGE'
  | 'CAL_BAD_TIMEZONE'
  | 'CAL_BAD_WEEKDAY'
  | 'CAL_OVERLAP'
  | 'CAL_WORKDAY_NOT_WEEKEND'
  | 'CAL_OUTSIDE_COVERAGE';

/** A diagnostic of the definition loader's shape with a calendar code. */
export type CalendarDiagnostic = Omit<Diagnostic, 'code'> & { code: CalendarDiagnosticCode };

export interface CalendarLoadResult {
  calendar?: BusinessCalendar;
  diagnostics: CalendarDiagnostic[];
}

const TOP_KEYS = ['id', 'title', 'timezone', 'weekend', 'covers', 'sources', 'notes', 'holidays', 'workdays'];

interface Ctx {
  file: string;
  positions: PositionIndex;
  out: CalendarDiagnostic[];
}

function report(
  cx: Ctx,
  code: CalendarDiagnosticCode,
  pointer: string,
  message: string,
  hint?: string,
): void {
  const { line, column } = cx.positions.value(pointer);
  cx.out.push({
    code,
    severity: 'error',
    file: cx.file,
    line,
    column,
    pointer,
    message,
    ...(hint ? { hint } : {}),
  });
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The day number of the date at `pointer`, or a diagnostic. */
function dateAt(cx: Ctx, value: unknown, pointer: string): number | undefined {
  const day = typeof value === 'string' ? dayNumber(value) : undefined;
  if (day === undefined)
    report(
      cx,
      'CAL_BAD_DATE',
      pointer,
      `${JSON.stringify(value)} is not a date`,
      'write dates as YYYY-MM-DD',
    );
  return day;
}

interface Span {
  from: number;
  to: number;
  pointer: string;
  name: string;
}

function lineOf(cx: Ctx, pointer: string): number {
  return cx.positions.value(pointer).line;
}

function readHolidays(cx: Ctx, raw: unknown, covers: [number, number] | undefined): Span[] {
  if (!Array.isArray(raw)) {
    report(cx, 'CAL_SHAPE', '/holidays', 'holidays must be a list of {name, from, to}');
    return [];
  }
  const spans: Span[] = [];
  raw.forEach((h: unknown, i) => {
    const p = joinPointer('/holidays', i);
    if (!isObject(h) || typeof h.name !== 'string') {
      report(cx, 'CAL_SHAPE', p, 'a holiday is {name, from, to?} (to defaults to from)');
      return;
    }
    for (const k of Object.keys(h))
      if (!['name', 'from', 'to'].includes(k))
        report(cx, 'CAL_UNKNOWN_KEY', joinPointer(p, k), `unknown key "${k}"`);
    const from = dateAt(cx, h.from, joinPointer(p, 'from'));
    const to = h.to === undefined ? from : dateAt(cx, h.to, joinPointer(p, 'to'));
    if (from === undefined || to === undefined) return;
    if (to < from) {
      report(cx, 'CAL_BAD_RANGE', joinPointer(p, 'to'), `holiday "${h.name}" ends before it starts`);
      return;
    }
    if (covers && (from < covers[0] || to > covers[1]))
      report(
        cx,
        'CAL_OUTSIDE_COVERAGE',
        p,
        `holiday "${h.name}" lies outside the covered dates`,
        'widen covers',
      );
    spans.push({ from, to, pointer: p, name: h.name });
  });
  const sorted = [...spans].sort((a, b) => a.from - b.from);
  for (let i = 1; i < sorted.length; i++) {
    const [prev, cur] = [sorted[i - 1]!, sorted[i]!];
    if (cur.from <= prev.to) {
      const [first, later] = lineOf(cx, prev.pointer) <= lineOf(cx, cur.pointer) ? [prev, cur] : [cur, prev];
      report(
        cx,
        'CAL_OVERLAP',
        later.pointer,
        `holiday "${later.name}" overlaps "${first.name}" (line ${lineOf(cx, first.pointer)})`,
        'each date belongs to at most one holiday',
      );
    }
  }
  return spans;
}

function readWorkdays(
  cx: Ctx,
  raw: unknown,
  holidays: Span[],
  weekend: number[],
  covers: [number, number] | undefined,
): Map<number, string> {
  const days = new Map<number, string>();
  if (raw === undefined) return days;
  if (!Array.isArray(raw)) {
    report(cx, 'CAL_SHAPE', '/workdays', 'workdays must be a list of {date, for}');
    return days;
  }
  const where = new Map<number, string>();
  raw.forEach((w: unknown, i) => {
    const p = joinPointer('/workdays', i);
    if (!isObject(w) || typeof w.for !== 'string') {
      report(cx, 'CAL_SHAPE', p, 'an adjusted working day is {date, for}');
      return;
    }
    for (const k of Object.keys(w))
      if (!['date', 'for'].includes(k))
        report(cx, 'CAL_UNKNOWN_KEY', joinPointer(p, k), `unknown key "${k}"`);
    const day = dateAt(cx, w.date, joinPointer(p, 'date'));
    if (day === undefined) return;
    const dp = joinPointer(p, 'date');
    const twice = where.get(day);
    const holiday = holidays.find((h) => day >= h.from && day <= h.to);
    if (twice !== undefined)
      report(cx, 'CAL_OVERLAP', dp, `${String(w.date)} is listed twice (line ${lineOf(cx, twice)})`);
    else if (holiday)
      report(
        cx,
        'CAL_OVERLAP',
        dp,
        `${String(w.date)} is within holiday "${holiday.name}" (line ${lineOf(cx, holiday.pointer)})`,
      );
    else if (!weekend.includes(weekdayOf(day)))
      report(
        cx,
        'CAL_WORKDAY_NOT_WEEKEND',
        dp,
        `${String(w.date)} is a working day anyway`,
        'list only weekend days worked (调休上班)',
      );
    else if (covers && (day < covers[0] || day > covers[1]))
      report(cx, 'CAL_OUTSIDE_COVERAGE', dp, `${String(w.date)} lies outside the covered dates`);
    where.set(day, p);
    days.set(day, w.for);
  });
  return days;
}

function readHeader(cx: Ctx, data: Record<string, unknown>) {
  for (const k of Object.keys(data))
    if (!TOP_KEYS.includes(k))
      report(
        cx,
        'CAL_UNKNOWN_KEY',
        joinPointer('', k),
        `unknown key "${k}"`,
        `known: ${TOP_KEYS.join(', ')}`,
      );
  if (typeof data.id !== 'string' || !data.id) report(cx, 'CAL_SHAPE', '/id', 'a calendar needs an id');
  const offset = typeof data.timezone === 'string' ? zoneOffset(data.timezone) : undefined;
  if (offset === undefined)
    report(
      cx,
      'CAL_BAD_TIMEZONE',
      '/timezone',
      `unknown time zone ${JSON.stringify(data.timezone)}`,
      'Asia/Shanghai, UTC or ±hh:mm',
    );
  const weekend = data.weekend ?? [6, 7];
  const weekendOk = Array.isArray(weekend) && weekend.every((d) => Number.isInteger(d) && d >= 1 && d <= 7);
  if (!weekendOk)
    report(cx, 'CAL_BAD_WEEKDAY', '/weekend', 'weekend is a list of ISO weekdays, 1 (Monday) to 7 (Sunday)');
  let covers: [number, number] | undefined;
  if (!isObject(data.covers))
    report(cx, 'CAL_SHAPE', '/covers', 'covers: {from, to} — the dates the holiday data is complete for');
  else {
    const from = dateAt(cx, data.covers.from, '/covers/from');
    const to = dateAt(cx, data.covers.to, '/covers/to');
    if (from !== undefined && to !== undefined) {
      if (to < from) report(cx, 'CAL_BAD_RANGE', '/covers/to', 'covers ends before it starts');
      else covers = [from, to];
    }
  }
  return { offset, weekend: weekendOk ? (weekend as number[]) : [6, 7], covers };
}

/** Load a calendar; `file` only labels diagnostics. */
export function loadCalendar(text: string, file: string): CalendarLoadResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, version: '1.2' });
  const cx: Ctx = { file, positions: indexPositions(doc, lineCounter, text), out: [] };
  for (const e of doc.errors) {
    const { line, col } = lineCounter.linePos(e.pos[0]);
    cx.out.push({
      code: e.code === 'DUPLICATE_KEY' ? 'CAL_DUPLICATE_KEY' : 'CAL_YAML_SYNTAX',
      severity: 'error',
      file,
      line,
      column: col,
      pointer: '',
      message: (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ''),
    });
  }
  if (cx.out.length) return { diagnostics: cx.out };
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  if (!isObject(data)) {
    report(cx, 'CAL_SHAPE', '', 'a calendar is a mapping (id, timezone, covers, holidays, workdays)');
    return { diagnostics: cx.out };
  }
  const { offset, weekend, covers } = readHeader(cx, data);
  const holidays = readHolidays(cx, data.holidays, covers);
  const workdays = readWorkdays(cx, data.workdays, holidays, weekend, covers);
  if (cx.out.length || offset === undefined || !covers) return { diagnostics: cx.out };
  const dateOfDay = (d: number): string => new Date(d * 86_400_000).toISOString().slice(0, 10);
  const holidayDates: Record<string, string> = {};
  for (const h of holidays) for (let d = h.from; d <= h.to; d++) holidayDates[dateOfDay(d)] = h.name;
  const calendar: BusinessCalendar = {
    id: data.id as string,
    timezone: data.timezone as string,
    offsetMinutes: offset,
    weekend: [...weekend].sort(),
    covers: { from: dateOfDay(covers[0]), to: dateOfDay(covers[1]) },
    holidays: holidayDates,
    workdays: Object.fromEntries([...workdays].sort(([a], [b]) => a - b).map(([d, f]) => [dateOfDay(d), f])),
  };
  return { calendar, diagnostics: [] };
}
