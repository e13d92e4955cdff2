/**
 * The calendar a migration brings (`workflows/core/migration-calendar.ts`), pure: adopted only by
 * an instance with none, moved to a version that counts working days; a malformed calendar sent
 * with the update is refused; the `$migrate` record names the calendar adopted.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BusinessCalendar } from '../../workflows/core/calendar.ts';
import { loadCalendar } from '../../workflows/core/calendar-load.ts';
import { compileProcedure } from '../../workflows/core/compile.ts';
import { hashProcedure } from '../../workflows/core/hash.ts';
import type { ProcedureIR } from '../../workflows/core/ir.ts';
import { loadProcedure } from '../../workflows/core/load.ts';
import {
  adoptedCalendar,
  calendarAfterMigration,
  offeredCalendarProblem,
} from '../../workflows/core/migration-calendar.ts';
import { resolveMigration, type MigrateInput } from '../../workflows/core/migration-step.ts';
import { startInstance } from '../../workflows/core/runtime.ts';

const FIXTURES = path.join(import.meta.dirname, '../fixtures/migration-deadlines');
function load(version: string): ProcedureIR {
  const file = path.join(FIXTURES, version, 'cal_request.yaml');
  const r = loadProcedure(readFileSync(file, 'utf8'), file);
  if (!r.ir) throw new Error(JSON.stringify(r.diagnostics));
  return r.ir;
}
const CAL_FILE = path.join(import.meta.dirname, '../../definitions/calendars/cn-2025-2027.json');
const cn = loadCalendar(readFileSync(CAL_FILE, 'utf8'), CAL_FILE).calendar as BusinessCalendar;
const other: BusinessCalendar = { ...cn, id: 'other' };
const V1 = load('v1');
const V2 = load('v2');
const admin = { id: 'ada', roles: ['admin'] };

describe('adoptedCalendar', () => {
  it('is the offered calendar only for an instance with none moved to a version counting working days', () => {
    expect(adoptedCalendar(undefined, V2, cn)).toBe(cn);
    expect(adoptedCalendar(other, V2, cn)).toBeUndefined();
    expect(adoptedCalendar(undefined, V1, cn)).toBeUndefined();
    expect(adoptedCalendar(undefined, V2, undefined)).toBeUndefined();
    // An instance keeps the calendar it was started with.
    expect(calendarAfterMigration(other, V2, cn)).toBe(other);
    expect(calendarAfterMigration(undefined, V2, cn)).toBe(cn);
    expect(calendarAfterMigration(undefined, V1, cn)).toBeUndefined();
  });
});

describe('offeredCalendarProblem', () => {
  it('accepts a loaded calendar or none, and says what is wrong with a malformed one', () => {
    expect(offeredCalendarProblem(undefined)).toBeUndefined();
    expect(offeredCalendarProblem(JSON.parse(JSON.stringify(cn)))).toBeUndefined();
    const why = (c: unknown) => offeredCalendarProblem(c)?.message;
    expect(offeredCalendarProblem('cn')).toEqual({
      message: 'the calendar is not an object',
      zh: '日历不是对象',
    });
    expect(why({ ...cn, id: '' })).toBe('the calendar has no id');
    expect(why({ ...cn, timezone: 8 })).toBe('the calendar has no timezone');
    expect(why({ ...cn, offsetMinutes: '480' })).toBe('the calendar has no whole offsetMinutes');
    expect(why({ ...cn, weekend: [0] })).toBe("the calendar's weekend is not a list of ISO weekdays");
    expect(why({ ...cn, covers: { from: '2025-02-30', to: '2026-12-31' } })).toBe(
      "the calendar's covers is not { from, to } dates",
    );
    expect(why({ ...cn, holidays: { '2026-1-1': 'x' } })).toBe(
      "the calendar's holidays is not a map of dates to names",
    );
  });
});

describe('resolveMigration with a calendar', () => {
  const state = startInstance(compileProcedure(V1), { client: 'acme' }, { id: 'sam', roles: [] }, 1000).state;
  const current = { ir: V1, hash: hashProcedure(V1), state };
  const input = (calendar?: unknown): MigrateInput =>
    ({ ir: V2, hash: hashProcedure(V2), seq: state.seq, actor: admin, calendar }) as MigrateInput;
  const compile = (ir: ProcedureIR) => compileProcedure(ir, { calendar: cn });

  it('names the calendar adopted in the $migrate record, and nothing when none is', () => {
    const adopted = resolveMigration({ ...current, adoptsCalendar: cn }, input(cn), compile, 5000);
    expect('step' in adopted && adopted.step.record.data?.calendar).toBe(cn.id);
    const kept = resolveMigration(current, input(cn), compile, 5000);
    expect('step' in kept && kept.step.record.data).not.toHaveProperty('calendar');
  });

  it('refuses a malformed calendar, nothing moved', () => {
    const out = resolveMigration(current, input({ ...cn, weekend: 'sat' }), compile, 5000);
    expect(out).toEqual({
      refused: {
        code: 'BAD_MIGRATION',
        message: "the calendar sent is refused: the calendar's weekend is not a list of ISO weekdays",
        zh: '发送的工作日历被拒绝：日历的 weekend 不是 ISO 星期列表',
      },
    });
  });
});
