/**
 * Business calendar versions (`schema-v7.ts`): immutable, numbered 1, 2, …; the newest is the one
 * new instances pin (`worker/calendars.ts`). Posting checks the text with the positioned loader
 * (`workflows/core/calendar-load.ts`) and stores nothing when it is refused or says nothing new;
 * each stored version is a `deployment` audit record naming the version and hash it replaced and
 * which holidays and adjusted working days it adds and removes.
 */
import { createHash } from 'node:crypto';
import { parse } from 'yaml';
import type { BusinessCalendar } from '../../workflows/core/calendar.ts';
import { loadCalendar, type CalendarDiagnostic } from '../../workflows/core/calendar-load.ts';
import type { Json } from '../../workflows/core/ir.ts';
import { appendAudit, lockChainHead } from './audit.ts';
import type { SqlClient, SqlQueryable } from './sql.ts';

/** One stored calendar version (the text as posted). */
export interface CalendarVersion {
  version: number;
  id: string;
  text: string;
  sha256: string;
  createdBy: string;
  createdAt: string;
}

/** What a version changes against the one before it (dates, sorted). */
export interface CalendarChange {
  holidaysAdded: string[];
  holidaysRemoved: string[];
  workdaysAdded: string[];
  workdaysRemoved: string[];
  coversBefore: { from: string; to: string };
  coversAfter: { from: string; to: string };
}

/** The version a new one replaces: the store's newest, or (version 0) the shipped file. */
export interface CalendarBase {
  version: number;
  text: string;
}

export type PostCalendarResult =
  | { ok: true; stored: CalendarVersion; calendar: BusinessCalendar; change: CalendarChange }
  | { ok: false; reason: 'invalid'; diagnostics: CalendarDiagnostic[] }
  | { ok: false; reason: 'unchanged'; current: { version: number; sha256: string } };

export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

interface Row {
  version: number;
  id: string;
  text: string;
  sha256: string;
  created_by: string;
  created_at: Date;
}

const COLUMNS = 'version, id, text, sha256, created_by, created_at';

const fromRow = (r: Row): CalendarVersion => ({
  version: Number(r.version),
  id: r.id,
  text: r.text,
  sha256: r.sha256,
  createdBy: r.created_by,
  createdAt: new Date(r.created_at).toISOString(),
});

/** Every stored version, oldest first. */
export async function calendarVersions(db: SqlQueryable): Promise<CalendarVersion[]> {
  const rows = await db.query<Row>(`SELECT ${COLUMNS} FROM calendar_versions ORDER BY version`);
  return rows.map(fromRow);
}

export async function calendarVersion(
  db: SqlQueryable,
  version: number,
): Promise<CalendarVersion | undefined> {
  const [row] = await db.query<Row>(`SELECT ${COLUMNS} FROM calendar_versions WHERE version = $1`, [version]);
  return row && fromRow(row);
}

/** The newest stored version, if any. */
export async function newestCalendarVersion(db: SqlQueryable): Promise<CalendarVersion | undefined> {
  const [row] = await db.query<Row>(`SELECT ${COLUMNS} FROM calendar_versions ORDER BY version DESC LIMIT 1`);
  return row && fromRow(row);
}

const keysOf = (o: Record<string, string>): Set<string> => new Set(Object.keys(o));
const minus = (a: Set<string>, b: Set<string>): string[] => [...a].filter((x) => !b.has(x)).sort();

/** Which dates a calendar adds and removes against another (pure). */
export function calendarChange(before: BusinessCalendar, after: BusinessCalendar): CalendarChange {
  const hb = keysOf(before.holidays);
  const ha = keysOf(after.holidays);
  const wb = keysOf(before.workdays);
  const wa = keysOf(after.workdays);
  return {
    holidaysAdded: minus(ha, hb),
    holidaysRemoved: minus(hb, ha),
    workdaysAdded: minus(wa, wb),
    workdaysRemoved: minus(wb, wa),
    coversBefore: before.covers,
    coversAfter: after.covers,
  };
}

/** Whether two texts say the same (formatting aside): the same parsed document, every key included. */
function sameContent(a: string, b: string): boolean {
  try {
    return JSON.stringify(parse(a)) === JSON.stringify(parse(b));
  } catch {
    return false;
  }
}

/**
 * Store `text` as the next version, replacing the newest (or `shipped`, version 0, when the store
 * has none). Refused, nothing stored: text the loader refuses (`invalid`, with line and column),
 * text saying the same as the current one, formatting aside (`unchanged`).
 */
export async function postCalendarVersion(
  sql: SqlClient,
  input: { text: string; by: string; file?: string },
  shipped: CalendarBase,
): Promise<PostCalendarResult> {
  const file = input.file ?? 'calendar.json';
  const loaded = loadCalendar(input.text, file);
  if (!loaded.calendar) return { ok: false, reason: 'invalid', diagnostics: loaded.diagnostics };
  const calendar = loaded.calendar;
  const sha256 = sha256Hex(input.text);
  return sql.transaction(async (tx) => {
    // The chain head serialises posts: of two racing posts, the second sees the first.
    const head = await lockChainHead(tx);
    const newest = await newestCalendarVersion(tx);
    const base: CalendarBase = newest ?? shipped;
    const baseSha = sha256Hex(base.text);
    const before = loadCalendar(base.text, `calendar@${base.version}`).calendar;
    if (baseSha === sha256 || sameContent(base.text, input.text))
      return { ok: false, reason: 'unchanged', current: { version: base.version, sha256: baseSha } };
    const version = base.version + 1;
    const change: CalendarChange = before
      ? calendarChange(before, calendar)
      : calendarChange({ ...calendar, holidays: {}, workdays: {} }, calendar);
    const entry = await appendAudit(tx, head, {
      kind: 'deployment',
      subject: `calendar:${calendar.id}@${version}`,
      actorId: input.by,
      at: new Date().toISOString(),
      body: {
        procedure: `calendar:${calendar.id}`,
        version: String(version),
        hash: sha256,
        from: { version: base.version, sha256: baseSha },
        change: change as unknown as Json,
      },
    });
    await tx.query(
      `INSERT INTO calendar_versions (version, id, text, sha256, created_by, created_at, audit_position)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [version, calendar.id, input.text, sha256, input.by, entry.at, entry.position],
    );
    const stored: CalendarVersion = {
      version,
      id: calendar.id,
      text: input.text,
      sha256,
      createdBy: input.by,
      createdAt: entry.at,
    };
    return { ok: true, stored, calendar, change };
  });
}
