/**
 * Business calendar: working-day arithmetic on the shipped mainland-China calendar around Spring
 * Festival, National Day (with their 调休 working weekends) and across the year boundary; time
 * zones; the warning past the covered dates; `P2WD`; and the loader's positioned refusals.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  addWorkingDays,
  isWorkingDay,
  workingDaysBetween,
  type BusinessCalendar,
} from '../../workflows/core/calendar.ts';
import { loadCalendar } from '../../workflows/core/calendar-load.ts';
import { parseDelay, parseDuration } from '../../workflows/core/duration.ts';

const FILE = 'definitions/calendars/cn-2025-2027.json';
const loaded = loadCalendar(readFileSync(FILE, 'utf8'), FILE);
const cn = loaded.calendar as BusinessCalendar;

/** A Shanghai local time as epoch ms. */
const cst = (local: string): number => Date.parse(`${local}+08:00`);
/** Epoch ms as Shanghai local `YYYY-MM-DDTHH:mm`. */
const local = (ms: number): string => new Date(ms + 8 * 3600_000).toISOString().slice(0, 16);
const add = (from: string, n: number): string => {
  const r = addWorkingDays(cst(from), n, cn);
  expect(r.warnings).toEqual([]);
  return local(r.at);
};

describe('the shipped calendar', () => {
  it('loads without diagnostics and covers 2025–2026', () => {
    expect(loaded.diagnostics).toEqual([]);
    expect(cn.covers).toEqual({ from: '2025-01-01', to: '2026-12-31' });
    expect(cn.offsetMinutes).toBe(480);
    // 2025: 1 + 8 + 3 + 5 + 3 + 8 days off; 2026: 3 + 9 + 3 + 5 + 3 + 3 + 7.
    const perYear = (y: string): number => Object.keys(cn.holidays).filter((d) => d.startsWith(y)).length;
    expect([perYear('2025'), perYear('2026')]).toEqual([28, 33]);
    expect(Object.keys(cn.workdays)).toHaveLength(11);
  });

  it('knows weekends, holidays and the weekends worked', () => {
    expect(isWorkingDay('2025-01-27', cn)).toBe(true); // Monday before 除夕
    expect(isWorkingDay('2025-01-28', cn)).toBe(false); // 除夕
    expect(isWorkingDay('2025-01-26', cn)).toBe(true); // Sunday worked
    expect(isWorkingDay('2025-02-08', cn)).toBe(true); // Saturday worked
    expect(isWorkingDay('2025-02-09', cn)).toBe(false); // an ordinary Sunday
    expect(isWorkingDay('2026-10-10', cn)).toBe(true);
  });
});

describe('addWorkingDays (Asia/Shanghai)', () => {
  it('Spring Festival 2025: the holiday is skipped, the Sunday before is worked', () => {
    expect(add('2025-01-27T10:00', 1)).toBe('2025-02-05T10:00');
    expect(add('2025-01-24T16:30', 1)).toBe('2025-01-26T16:30');
    expect(add('2025-01-24T16:30', 2)).toBe('2025-01-27T16:30');
    expect(add('2025-02-07T09:00', 1)).toBe('2025-02-08T09:00');
  });

  it('Spring Festival 2026: nine days off between two Saturdays worked', () => {
    expect(add('2026-02-13T09:00', 1)).toBe('2026-02-14T09:00');
    expect(add('2026-02-14T09:00', 1)).toBe('2026-02-24T09:00');
    expect(add('2026-02-27T09:00', 1)).toBe('2026-02-28T09:00');
  });

  it('National Day 2025 and 2026', () => {
    expect(add('2025-09-26T11:00', 1)).toBe('2025-09-28T11:00');
    expect(add('2025-09-30T11:00', 1)).toBe('2025-10-09T11:00');
    expect(add('2025-09-30T11:00', 3)).toBe('2025-10-11T11:00');
    expect(add('2026-09-30T11:00', 1)).toBe('2026-10-08T11:00');
    expect(add('2026-09-18T11:00', 1)).toBe('2026-09-20T11:00');
  });

  it('across the year boundary: 元旦 2026 and the Sunday worked after it', () => {
    expect(add('2025-12-31T17:00', 1)).toBe('2026-01-04T17:00');
    expect(add('2025-12-31T17:00', 2)).toBe('2026-01-05T17:00');
    expect(add('2025-12-26T17:00', 5)).toBe('2026-01-05T17:00');
  });

  it('from a day off, counting starts with the next working day', () => {
    expect(add('2025-03-01T10:00', 1)).toBe('2025-03-04T00:00');
    expect(add('2025-03-01T10:00', 0)).toBe('2025-03-03T00:00');
    expect(add('2025-10-03T10:00', 2)).toBe('2025-10-11T00:00');
    expect(add('2025-03-03T10:00', 0)).toBe('2025-03-03T10:00');
  });

  it('works in the calendar’s zone, not UTC: late evening UTC is already the next day in Shanghai', () => {
    // 2025-01-27 20:00 UTC = 2025-01-28 04:00 in Shanghai (除夕).
    const t = Date.parse('2025-01-27T20:00:00Z');
    expect(local(addWorkingDays(t, 0, cn).at)).toBe('2025-02-05T00:00');
    expect(new Date(addWorkingDays(t, 0, cn, 'UTC').at).toISOString()).toBe('2025-01-27T20:00:00.000Z');
  });

  it('warns when it runs past the covered dates (2027 not published in the data)', () => {
    const r = addWorkingDays(cst('2026-12-31T10:00'), 1, cn);
    expect(local(r.at)).toBe('2027-01-01T10:00');
    expect(r.warnings).toEqual([
      expect.objectContaining({ code: 'CAL_BEYOND_COVERAGE', date: '2027-01-01' }),
    ]);
  });

  it('is deterministic and refuses what it cannot mean', () => {
    expect(addWorkingDays(cst('2025-01-27T10:00'), 7, cn)).toEqual(
      addWorkingDays(cst('2025-01-27T10:00'), 7, cn),
    );
    expect(() => addWorkingDays(0, -1, cn)).toThrow(RangeError);
    expect(() => addWorkingDays(0, 1.5, cn)).toThrow(RangeError);
    expect(() => addWorkingDays(0, 1, cn, 'Mars/Olympus')).toThrow(RangeError);
  });

  it('counts working days between two instants', () => {
    expect(workingDaysBetween(cst('2025-01-24T09:00'), cst('2025-02-10T09:00'), cn).days).toBe(
      // 01-24 Fri, 01-26 Sun, 01-27 Mon, 02-05..02-07, 02-08 Sat
      7,
    );
  });
});

describe('P2WD', () => {
  it('is working days, never milliseconds', () => {
    expect(parseDelay('P2WD')).toEqual({ workingDays: 2 });
    expect(parseDuration('P2WD')).toBeUndefined();
    expect(parseDelay('P2D')).toEqual({ ms: 2 * 86_400_000 });
    expect(parseDelay('P2W')).toEqual({ ms: 14 * 86_400_000 });
    expect(parseDelay('P1.5WD')).toBeUndefined();
    expect(parseDelay('PWD')).toBeUndefined();
  });
});

describe('loading a calendar: refusals with line and column', () => {
  const head = `id: test
timezone: Asia/Shanghai
covers: { from: 2025-01-01, to: 2025-12-31 }
`;
  const codes = (text: string) =>
    loadCalendar(head + text, 'cal.yaml').diagnostics.map((d) => [d.code, d.line, d.column, d.pointer]);

  it('overlapping holidays: the later entry, pointing at the earlier one', () => {
    const r = loadCalendar(
      head +
        `holidays:
  - { name: 春节, from: 2025-01-28, to: 2025-02-04 }
  - { name: 其他, from: 2025-02-03, to: 2025-02-05 }
`,
      'cal.yaml',
    );
    expect(r.calendar).toBeUndefined();
    expect(r.diagnostics.map((d) => [d.code, d.line, d.column, d.pointer])).toEqual([
      ['CAL_OVERLAP', 6, 5, '/holidays/1'],
    ]);
    expect(r.diagnostics[0]!.message).toContain('line 5');
  });

  it('malformed dates and ranges', () => {
    expect(
      codes(`holidays:
  - name: 坏日子
    from: 2025-02-30
  - { name: 倒序, from: 2025-03-05, to: 2025-03-01 }
`),
    ).toEqual([
      ['CAL_BAD_DATE', 6, 11, '/holidays/0/from'],
      ['CAL_BAD_RANGE', 7, 39, '/holidays/1/to'],
    ]);
  });

  it('adjusted working days: twice, inside a holiday, on a weekday, outside the covered dates', () => {
    expect(
      codes(`holidays:
  - { name: 春节, from: 2025-01-28, to: 2025-02-04 }
workdays:
  - { date: 2025-01-26, for: 春节 }
  - { date: 2025-01-26, for: 春节 }
  - { date: 2025-01-29, for: 春节 }
  - { date: 2025-01-27, for: 春节 }
  - { date: 2026-01-04, for: 元旦 }
`),
    ).toEqual([
      ['CAL_OVERLAP', 8, 13, '/workdays/1/date'],
      ['CAL_OVERLAP', 9, 13, '/workdays/2/date'],
      ['CAL_WORKDAY_NOT_WEEKEND', 10, 13, '/workdays/3/date'],
      ['CAL_OUTSIDE_COVERAGE', 11, 13, '/workdays/4/date'],
    ]);
  });

  it('YAML errors, duplicate keys, unknown keys and zones', () => {
    expect(codes(`holidays: [\n`)[0]?.[0]).toBe('CAL_YAML_SYNTAX');
    expect(codes(`holidays: []\nholidays: []\n`)).toEqual([['CAL_DUPLICATE_KEY', 5, 1, '']]);
    expect(
      loadCalendar(
        `id: x\ntimezone: Europe/Paris\ncovers: { from: 2025-01-01, to: 2025-12-31 }\nholiday: []\nholidays: []\n`,
        'c.yaml',
      ).diagnostics.map((d) => [d.code, d.line, d.column]),
    ).toEqual([
      ['CAL_UNKNOWN_KEY', 4, 10],
      ['CAL_BAD_TIMEZONE', 2, 11],
    ]);
  });
});
