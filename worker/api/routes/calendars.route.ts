/**
 * Business calendar versions (admin): the current version with its holidays and adjusted working
 * days per year and the history, one version's text, validating a text (positioned diagnostics,
 * nothing stored) and posting it as the next version (audited; new instances pin it, running ones
 * keep theirs — `../../calendars.ts`).
 */
import type { BusinessCalendar } from '../../../workflows/core/calendar.ts';
import { loadCalendar } from '../../../workflows/core/calendar-load.ts';
import { currentCalendar, shippedBase, useCalendarVersion } from '../../calendars.ts';
import { sha256Hex, type CalendarVersion } from '../../records/calendar-versions.ts';
import { ApiProblem, sendJson } from '../http.ts';
import { defineRoute, objectSchema } from '../route.ts';

/** `{text, file?}`: a calendar as JSON (or YAML) text. */
const draft = objectSchema<{ text: string; file?: string }>(
  {
    text: { type: 'string', minLength: 1, maxLength: 200_000 },
    file: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,100}$' },
  },
  ['text'],
);
const diagnosticList = { type: 'array', items: { type: 'object' } };

/** Holidays and adjusted working days grouped by year (dates sorted). */
export function calendarYears(
  cal: BusinessCalendar,
): { year: number; holidays: { date: string; name: string }[]; workdays: { date: string; for: string }[] }[] {
  const years = new Map<
    number,
    { holidays: { date: string; name: string }[]; workdays: { date: string; for: string }[] }
  >();
  const at = (date: string) => {
    const y = Number(date.slice(0, 4));
    let e = years.get(y);
    if (!e) years.set(y, (e = { holidays: [], workdays: [] }));
    return e;
  };
  for (const date of Object.keys(cal.holidays).sort())
    at(date).holidays.push({ date, name: cal.holidays[date]! });
  for (const date of Object.keys(cal.workdays).sort())
    at(date).workdays.push({ date, for: cal.workdays[date]! });
  return [...years.entries()].sort(([a], [b]) => a - b).map(([year, e]) => ({ year, ...e }));
}

/** A stored version without its text (history rows). */
const head = (v: CalendarVersion) => ({
  version: v.version,
  id: v.id,
  sha256: v.sha256,
  createdBy: v.createdBy,
  createdAt: v.createdAt,
});

const list = defineRoute({
  method: 'GET',
  path: '/api/calendars',
  summary:
    'The business calendar: the current version (coverage, holidays and adjusted working days per year) and every version (admin)',
  auth: 'admin',
  action: 'reading business calendars',
  responses: {
    200: {
      description:
        '{current: {version, id, sha256, source, timezone, weekend, covers, years}, history: [{version, id, sha256, createdBy?, createdAt?, source}]}',
    },
  },
  async handle({ res }, app) {
    const stored = await app.store.calendarVersions();
    const newest = stored[stored.length - 1];
    if (newest) useCalendarVersion(newest);
    const base = shippedBase();
    const cal = newest ? currentCalendar().calendar : loadCalendar(base.text, 'shipped').calendar!;
    const currentSha = newest ? newest.sha256 : sha256Hex(base.text);
    sendJson(res, 200, {
      current: {
        version: newest?.version ?? 0,
        id: cal.id,
        sha256: currentSha,
        source: newest ? 'store' : 'shipped',
        ...(newest ? { createdBy: newest.createdBy, createdAt: newest.createdAt } : {}),
        timezone: cal.timezone,
        weekend: cal.weekend,
        covers: cal.covers,
        years: calendarYears(cal),
      },
      history: [
        ...stored.map((v) => ({ ...head(v), source: 'store' })).reverse(),
        { version: 0, id: shippedId(base.text), sha256: sha256Hex(base.text), source: 'shipped' },
      ],
    });
  },
});

const shippedId = (text: string): string => loadCalendar(text, 'shipped').calendar?.id ?? '';

const one = defineRoute({
  method: 'GET',
  path: '/api/calendars/:version',
  summary: "One calendar version's text (0 = the shipped file) (admin)",
  auth: 'admin',
  action: 'reading business calendars',
  params: { version: { type: 'string', pattern: '^[0-9]{1,9}$' } },
  responses: { 200: { description: '{version, id, sha256, text, createdBy?, createdAt?, source}' } },
  problems: { 404: 'UNKNOWN_CALENDAR_VERSION' },
  async handle({ params, res }, app) {
    const raw = params.version ?? '';
    const n = /^[0-9]{1,9}$/.test(raw) ? Number(raw) : -1;
    if (n === 0) {
      const base = shippedBase();
      sendJson(res, 200, {
        version: 0,
        id: shippedId(base.text),
        sha256: sha256Hex(base.text),
        text: base.text,
        source: 'shipped',
      });
      return;
    }
    const v = n > 0 ? await app.store.calendarVersion(n) : undefined;
    if (!v) throw new ApiProblem(404, 'UNKNOWN_CALENDAR_VERSION', `no calendar version ${raw}`);
    sendJson(res, 200, { ...head(v), text: v.text, source: 'store' });
  },
});

const validate = defineRoute({
  method: 'POST',
  path: '/api/calendars/validate',
  summary: 'Check a calendar text: diagnostics with line and column; nothing is stored (admin)',
  auth: 'admin',
  action: 'validating business calendars',
  body: draft,
  responses: {
    200: {
      description:
        '{valid, id?, covers?, diagnostics: [{file, line, column, code, message, pointer, hint?}]}',
      schema: { type: 'object', properties: { valid: { type: 'boolean' }, diagnostics: diagnosticList } },
    },
  },
  async handle({ body, res }) {
    const { calendar, diagnostics } = loadCalendar(body.text, body.file ?? 'calendar.json');
    sendJson(res, 200, {
      valid: calendar !== undefined,
      ...(calendar ? { id: calendar.id, covers: calendar.covers, years: calendarYears(calendar) } : {}),
      diagnostics,
    });
  },
});

const post = defineRoute({
  method: 'POST',
  path: '/api/calendars',
  summary:
    'Store a calendar text as the next version (admin; audited): new instances pin it, running ones keep theirs',
  auth: 'admin',
  action: 'changing business calendars',
  body: draft,
  responses: {
    201: {
      description:
        '{version, id, sha256, createdBy, createdAt, change: {holidaysAdded, holidaysRemoved, workdaysAdded, workdaysRemoved, coversBefore, coversAfter}}',
    },
  },
  problems: {
    409: 'CALENDAR_UNCHANGED (the same as the current version, formatting aside)',
    422: 'CALENDAR_INVALID (with `diagnostics`: line and column; nothing stored)',
  },
  async handle({ body, session, res }, app) {
    const result = await app.store.postCalendarVersion(
      { text: body.text, by: session.user.id, file: body.file ?? 'calendar.json' },
      shippedBase(),
    );
    if (!result.ok) {
      if (result.reason === 'invalid') {
        const first = result.diagnostics[0];
        throw new ApiProblem(
          422,
          'CALENDAR_INVALID',
          first
            ? `${first.file}:${first.line}:${first.column} ${first.code} ${first.message}`
            : 'the calendar is invalid',
          { diagnostics: result.diagnostics },
        );
      }
      throw new ApiProblem(
        409,
        'CALENDAR_UNCHANGED',
        `the calendar is the same as the current version ${result.current.version} (formatting aside); nothing stored`,
        { current: result.current },
      );
    }
    useCalendarVersion(result.stored);
    sendJson(res, 201, { ...head(result.stored), change: result.change });
  },
});

export const calendarRoutes = [list, validate, one, post];
