/**
 * Business calendar versions on the embedded store and through the HTTP API (no Temporal needed):
 * posting a version (audited old → new with the dates it adds and removes), the shipped file as
 * the base, refusals that store nothing (malformed, overlapping, identical, non-admin), and the
 * calendar a new instance pins (`calendarInput`) following the current version.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { createApi, type Api } from '../../worker/api/server.ts';
import { CSRF_HEADER, SESSION_COOKIE } from '../../worker/api/sessions.ts';
import {
  CALENDAR_FILE,
  calendarInput,
  currentCalendar,
  refreshCalendar,
  resetCalendarCache,
  shippedBase,
} from '../../worker/calendars.ts';
import { calendarChange, sha256Hex } from '../../worker/records/calendar-versions.ts';
import { openPgliteClient, type SqlClient } from '../../worker/records/sql.ts';
import { createRecordsStore } from '../../worker/records/store.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import { isWorkingDay } from '../../workflows/core/calendar.ts';
import { loadCalendar } from '../../workflows/core/calendar-load.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';
import { addStaff } from './notifications-fixture.ts';

const SHIPPED = readFileSync(CALENDAR_FILE, 'utf8');
const NEW_YEAR = '    { "name": "元旦", "from": "2025-01-01", "to": "2025-01-01" },\n';
const QINGMING = '    { "name": "清明节", "from": "2025-04-04", "to": "2025-04-06" },\n';
/** The shipped calendar with one more holiday: Monday 2026-03-02. */
const WITH_EXTRA = SHIPPED.replace(
  NEW_YEAR,
  NEW_YEAR + '    { "name": "测试日", "from": "2026-03-02", "to": "2026-03-02" },\n',
);
const lineOf = (text: string, needle: string): number =>
  text.slice(0, text.indexOf(needle)).split('\n').length;

let sql: SqlClient;
let store: RecordsStore;
let api: Api;
let base: string;

beforeAll(async () => {
  resetCalendarCache();
  sql = await openPgliteClient(null);
  store = await createRecordsStore(sql);
  await addStaff(store);
  api = createApi({ client: {} as Client, store, definitions: new Map(), taskQueue: 'none' });
  base = await api.listen(0);
}, 60_000);

afterAll(async () => {
  await api?.close();
  await store?.close();
  resetCalendarCache();
});

/** The fields these answers carry (absent where a route does not give them). */
interface Answer {
  code?: string;
  text?: string;
  valid?: boolean;
  diagnostics: { code: string; line: number; column: number }[];
  current: {
    covers: { from: string; to: string };
    years: { year: number; holidays: unknown[]; workdays: unknown[] }[];
  };
  history: { version: number }[];
  change: { holidaysAdded: string[] };
}

async function call(
  userId: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Answer }> {
  const s = await store.createSession(userId, 3600_000);
  const res = await fetch(base + path, {
    method,
    headers: {
      cookie: `${SESSION_COOKIE}=${s.id}`,
      [CSRF_HEADER]: s.csrfToken,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as Answer };
}

const deploymentsOfCalendars = async () =>
  (await store.audit({ kind: 'deployment' })).filter((e) => e.subject.startsWith('calendar:'));

describe('calendar versions', () => {
  it('computes what a version adds and removes', () => {
    const a = loadCalendar(SHIPPED, 'a').calendar!;
    const b = loadCalendar(WITH_EXTRA, 'b').calendar!;
    expect(calendarChange(a, b)).toMatchObject({ holidaysAdded: ['2026-03-02'], holidaysRemoved: [] });
    expect(calendarChange(b, a)).toMatchObject({ holidaysAdded: [], holidaysRemoved: ['2026-03-02'] });
  });

  it('shows the shipped file as version 0 while the store holds none', async () => {
    const { status, json } = await call('root', 'GET', '/api/calendars');
    expect(status).toBe(200);
    expect(json.current).toMatchObject({ version: 0, source: 'shipped', sha256: sha256Hex(SHIPPED) });
    expect(json.current.covers).toEqual({ from: '2025-01-01', to: '2026-12-31' });
    const y2025 = json.current.years.find((y) => y.year === 2025)!;
    expect(y2025.holidays).toContainEqual({ date: '2025-01-28', name: '春节' });
    expect(y2025.workdays.length).toBeGreaterThan(0);
    expect(json.history).toEqual([expect.objectContaining({ version: 0, source: 'shipped' })]);
    expect((await call('root', 'GET', '/api/calendars/0')).json.text).toBe(SHIPPED);
  });

  it('refuses non-admins (403) and stores nothing', async () => {
    expect((await call('alice', 'GET', '/api/calendars')).status).toBe(403);
    expect((await call('alice', 'POST', '/api/calendars', { text: WITH_EXTRA })).status).toBe(403);
    expect((await call('alice', 'POST', '/api/calendars/validate', { text: WITH_EXTRA })).status).toBe(403);
    expect(await store.calendarVersions()).toEqual([]);
  });

  it('refuses overlapping holidays with the line and column, nothing stored', async () => {
    const overlapping = SHIPPED.replace(
      QINGMING,
      QINGMING + '    { "name": "重叠", "from": "2025-04-05", "to": "2025-04-07" },\n',
    );
    const line = lineOf(overlapping, '"重叠"');
    const checked = await call('root', 'POST', '/api/calendars/validate', { text: overlapping });
    expect(checked.status).toBe(200);
    expect(checked.json.valid).toBe(false);
    expect(checked.json.diagnostics).toContainEqual(
      expect.objectContaining({ code: 'CAL_OVERLAP', line, column: expect.any(Number) }),
    );
    const posted = await call('root', 'POST', '/api/calendars', { text: overlapping });
    expect(posted.status).toBe(422);
    expect(posted.json.code).toBe('CALENDAR_INVALID');
    expect(posted.json.diagnostics[0]).toMatchObject({ code: 'CAL_OVERLAP', line });
    expect(await store.calendarVersions()).toEqual([]);
    expect(await deploymentsOfCalendars()).toEqual([]);
  });

  it('refuses malformed JSON with the line and column, nothing stored', async () => {
    const broken = SHIPPED.replace('"weekend": [6, 7],', '"weekend": [6, 7,,');
    const posted = await call('root', 'POST', '/api/calendars', { text: broken });
    expect(posted.status).toBe(422);
    expect(posted.json.diagnostics[0]).toMatchObject({
      code: 'CAL_YAML_SYNTAX',
      line: lineOf(broken, '"weekend"'),
      column: broken.split('\n')[lineOf(broken, '"weekend"') - 1]!.indexOf(',,') + 2,
    });
    expect(await store.calendarVersions()).toEqual([]);
  });

  it('refuses the shipped calendar again (409), nothing stored', async () => {
    const posted = await call('root', 'POST', '/api/calendars', { text: SHIPPED });
    expect(posted.status).toBe(409);
    expect(posted.json.code).toBe('CALENDAR_UNCHANGED');
    // Formatting aside, the same calendar: also unchanged.
    const reformatted = JSON.stringify(JSON.parse(SHIPPED));
    expect((await call('root', 'POST', '/api/calendars', { text: reformatted })).status).toBe(409);
    expect(await store.calendarVersions()).toEqual([]);
  });

  it('stores a new version, audited old → new, and new instances pin it', async () => {
    const ir = validateProcedureText(
      readFileSync('definitions/file_access.yaml', 'utf8'),
      'file_access.yaml',
    ).ir!;
    expect(isWorkingDay('2026-03-02', calendarInput(ir).calendar!)).toBe(true);

    const posted = await call('root', 'POST', '/api/calendars', { text: WITH_EXTRA });
    expect(posted.status).toBe(201);
    expect(posted.json).toMatchObject({
      version: 1,
      id: 'cn-mainland',
      sha256: sha256Hex(WITH_EXTRA),
      createdBy: 'root',
    });
    expect(posted.json.change.holidaysAdded).toEqual(['2026-03-02']);

    const [audit] = await deploymentsOfCalendars();
    expect(audit).toMatchObject({
      subject: 'calendar:cn-mainland@1',
      actorId: 'root',
      body: {
        version: '1',
        hash: sha256Hex(WITH_EXTRA),
        from: { version: 0, sha256: sha256Hex(SHIPPED) },
        change: { holidaysAdded: ['2026-03-02'], holidaysRemoved: [] },
      },
    });
    expect((await store.verifyAudit()).ok).toBe(true);

    // A new instance pins the new version; one started before keeps the calendar it was given.
    expect(currentCalendar().version).toBe(1);
    expect(isWorkingDay('2026-03-02', calendarInput(ir).calendar!)).toBe(false);

    // Another process learns it on its refresh (here: a fresh cache reading the store).
    resetCalendarCache();
    expect(currentCalendar().version).toBe(0);
    expect(await refreshCalendar(store)).toBe(true);
    expect(isWorkingDay('2026-03-02', calendarInput(ir).calendar!)).toBe(false);

    // The same text again: 409, nothing stored; the old one back is a new version 2.
    expect((await call('root', 'POST', '/api/calendars', { text: WITH_EXTRA })).status).toBe(409);
    const back = await call('root', 'POST', '/api/calendars', { text: SHIPPED });
    expect(back.status).toBe(201);
    expect(back.json).toMatchObject({ version: 2, change: { holidaysRemoved: ['2026-03-02'] } });
    expect((await store.calendarVersions()).map((v) => v.version)).toEqual([1, 2]);
    expect(isWorkingDay('2026-03-02', calendarInput(ir).calendar!)).toBe(true);

    const listed = await call('root', 'GET', '/api/calendars');
    expect(listed.json.current).toMatchObject({ version: 2, source: 'store', createdBy: 'root' });
    expect(listed.json.history.map((h) => h.version)).toEqual([2, 1, 0]);
    expect((await call('root', 'GET', '/api/calendars/1')).json.text).toBe(WITH_EXTRA);
    expect((await call('root', 'GET', '/api/calendars/9')).status).toBe(404);
    expect(shippedBase().version).toBe(0);
  });

  it('keeps stored versions append-only', async () => {
    await expect(sql.query(`UPDATE calendar_versions SET text = 'x' WHERE version = 1`)).rejects.toThrow(
      /append-only/,
    );
    await expect(sql.query(`DELETE FROM calendar_versions`)).rejects.toThrow(/append-only/);
    expect((await store.calendarVersion(1))?.text).toBe(WITH_EXTRA);
  });
});
