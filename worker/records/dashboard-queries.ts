/**
 * The manager's dashboard, computed from the audit log's transition records (`audit_log`, kind
 * `transition`: subject = workflow id, seq, at, client, actor, body.procedure/version/to) — never
 * from Temporal visibility, so it costs one SQL statement per chart whatever the number of running
 * instances. What the records do not say (which states are final, their SLAs, who is awaited) comes
 * from the definitions, passed in as a {@link DashboardModel} per procedure@version.
 *
 * Definitions used throughout:
 * - an instance is **open** when its last transition's states (`to`) hold no top-level final state;
 * - a state with an `sla` is **due** `sla` after it was entered, where "entered" is the first of an
 *   unbroken run of transitions whose states include it or a state inside it (a self-transition that
 *   re-enters it is not told apart in the record, so it does not restart the clock — the workflow's
 *   own `CustodiaDueAt` does restart it); an instance's due time is the earliest due time of its
 *   active SLA states, as for `CustodiaDueAt`;
 * - an instance is **overdue** at T when T is past that due time and no transition happened between;
 *   a day's figure is the instances overdue at its last instant (UTC; for today: now);
 * - an **SLA breach** is one such run of a state left (or still active) after its due time, counted
 *   in the month of the due time;
 * - **cycle time** is from the start record (seq 0) to the transition into a final state.
 */
import type { SqlQueryable } from './sql.ts';

/** What the definitions say about one procedure@version's states. */
export interface DashboardModel {
  /** States with an SLA (milliseconds; working-day SLAs have no fixed length and are left out). */
  sla: { procedure: string; version: string; path: string; ms: number }[];
  /** Top-level final states: an instance whose states include one has ended. */
  finals: { procedure: string; version: string; state: string }[];
  /** Roles that can act in a leaf state (its and its ancestors' transitions). */
  awaits: { procedure: string; version: string; state: string; role: string }[];
}

/** Whose records count. */
export interface DashboardScope {
  /** Only records of these clients; undefined: every record (the roles that see every client). */
  clients?: readonly string[];
  /** With `clients`: also records without a client of these procedures (admins, clientless work). */
  clientless?: readonly string[];
  /** Only this client. */
  client?: string;
  /** Only this procedure. */
  procedure?: string;
}

/** A period [from, to) and the time the dashboard is computed at. */
export interface DashboardPeriod {
  from: Date;
  to: Date;
  now: Date;
}

/** Actors that are the engine, not people: timers and eventless transitions. */
export const ENGINE_ACTORS = ['timer', 'system'] as const;

class Params {
  readonly values: unknown[] = [];
  add(v: unknown, cast = ''): string {
    this.values.push(v);
    return `$${this.values.length}${cast}`;
  }
}

/** `t`: the transition records in scope (with the next transition's time, `next_at`). */
function transitionsCte(p: Params, scope: DashboardScope, withNext = false): string {
  const where = [`kind = 'transition'`];
  if (scope.clients !== undefined) {
    const own = `client = ANY(${p.add([...scope.clients], '::text[]')})`;
    where.push(
      scope.clientless?.length
        ? `(${own} OR (client IS NULL AND body->>'procedure' = ANY(${p.add([...scope.clientless], '::text[]')})))`
        : own,
    );
  }
  if (scope.client !== undefined) where.push(`client = ${p.add(scope.client)}`);
  if (scope.procedure !== undefined) where.push(`body->>'procedure' = ${p.add(scope.procedure)}`);
  const next = withNext ? `, lead(at) OVER (PARTITION BY subject ORDER BY seq) AS next_at` : '';
  return `t AS (
    SELECT subject, seq, at, actor, client, body->>'procedure' AS procedure, body->>'version' AS version,
           body->'to' AS leaves${next}
    FROM audit_log WHERE ${where.join(' AND ')})`;
}

const recordset = (p: Params, rows: unknown[], columns: string): string =>
  `jsonb_to_recordset(${p.add(JSON.stringify(rows), '::jsonb')}) AS x(${columns})`;

/** `last`: each instance's last transition; `open`: those of instances that have not ended. */
function openCte(p: Params, model: DashboardModel): string {
  return `last AS (
      SELECT DISTINCT ON (subject) subject, seq, at, procedure, version, leaves, client
      FROM t ORDER BY subject, seq DESC),
    finals AS (SELECT * FROM ${recordset(p, model.finals, 'procedure text, version text, state text')}),
    open AS (
      SELECT * FROM last l WHERE NOT EXISTS (
        SELECT 1 FROM jsonb_array_elements_text(l.leaves) s(state)
        JOIN finals f ON f.procedure = l.procedure AND f.version = l.version AND f.state = s.state))`;
}

export interface OpenStateCount {
  procedure: string;
  state: string;
  count: number;
}

/** Open instances per procedure and active leaf state (an instance in parallel states counts in each). */
export async function openByState(
  db: SqlQueryable,
  scope: DashboardScope,
  model: DashboardModel,
): Promise<OpenStateCount[]> {
  const p = new Params();
  const sql = `WITH ${transitionsCte(p, scope)}, ${openCte(p, model)}
    SELECT procedure, s.state, count(*)::int AS count
    FROM open, jsonb_array_elements_text(open.leaves) s(state)
    GROUP BY procedure, s.state ORDER BY procedure, s.state`;
  return db.query<OpenStateCount>(sql, p.values);
}

export interface RoleWorkload {
  role: string;
  /** Open instances awaiting the role. */
  count: number;
}

/** Open instances awaiting each role (by the definitions' transitions out of their states). */
export async function awaitingByRole(
  db: SqlQueryable,
  scope: DashboardScope,
  model: DashboardModel,
): Promise<RoleWorkload[]> {
  const p = new Params();
  const sql = `WITH ${transitionsCte(p, scope)}, ${openCte(p, model)},
    awaits AS (SELECT * FROM ${recordset(p, model.awaits, 'procedure text, version text, state text, role text')})
    SELECT a.role, count(DISTINCT o.subject)::int AS count
    FROM open o, jsonb_array_elements_text(o.leaves) s(state)
    JOIN awaits a ON a.state = s.state
    WHERE a.procedure = o.procedure AND a.version = o.version
    GROUP BY a.role ORDER BY count DESC, a.role`;
  return db.query<RoleWorkload>(sql, p.values);
}

export interface PersonWorkload {
  actor: string;
  /** Transitions the person made in the period. */
  transitions: number;
  /** Instances they were made in. */
  instances: number;
}

/** Transitions each person made in the period (engine actors left out), most first. */
export async function transitionsByPerson(
  db: SqlQueryable,
  scope: DashboardScope,
  period: DashboardPeriod,
  limit = 50,
): Promise<PersonWorkload[]> {
  const p = new Params();
  const sql = `WITH ${transitionsCte(p, scope)}
    SELECT actor, count(*)::int AS transitions, count(DISTINCT subject)::int AS instances FROM t
    WHERE at >= ${p.add(period.from.toISOString(), '::timestamptz')}
      AND at < ${p.add(period.to.toISOString(), '::timestamptz')}
      AND actor <> ALL(${p.add([...ENGINE_ACTORS], '::text[]')})
    GROUP BY actor ORDER BY transitions DESC, actor LIMIT ${p.add(limit, '::int')}`;
  return db.query<PersonWorkload>(sql, p.values);
}

export interface CycleTime {
  procedure: string;
  /** Instances that ended in the period. */
  count: number;
  medianMs: number;
  p90Ms: number;
}

/** `done`: instances that ended in the period, with their start and end. */
function doneCte(p: Params, model: DashboardModel, period: DashboardPeriod): string {
  return `${openCte(p, model)},
    done AS (
      SELECT l.subject, l.procedure, s.at AS started, l.at AS ended FROM last l
      JOIN t s ON s.subject = l.subject AND s.seq = 0
      WHERE l.at >= ${p.add(period.from.toISOString(), '::timestamptz')}
        AND l.at < ${p.add(period.to.toISOString(), '::timestamptz')}
        AND NOT EXISTS (SELECT 1 FROM open o WHERE o.subject = l.subject))`;
}

/** Median and 90th percentile of the cycle time of instances that ended in the period, per procedure. */
export async function cycleTimes(
  db: SqlQueryable,
  scope: DashboardScope,
  model: DashboardModel,
  period: DashboardPeriod,
): Promise<CycleTime[]> {
  const p = new Params();
  const sql = `WITH ${transitionsCte(p, scope)}, ${doneCte(p, model, period)},
    d AS (SELECT procedure, extract(epoch FROM ended - started) * 1000 AS ms FROM done)
    SELECT procedure, count(*)::int AS count,
      round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))::float8 AS "medianMs",
      round(percentile_cont(0.9) WITHIN GROUP (ORDER BY ms))::float8 AS "p90Ms"
    FROM d GROUP BY procedure ORDER BY procedure`;
  return db.query<CycleTime>(sql, p.values);
}

/**
 * `stay`: per transition, each SLA state active after it with when it was entered (`entered`) and
 * its due time; `seg`: per transition with an SLA state, the instance's due time until the next
 * transition (`next_at`, null while none).
 */
function slaCte(p: Params, model: DashboardModel): string {
  return `sla AS (SELECT * FROM ${recordset(p, model.sla, 'procedure text, version text, path text, ms bigint')}),
    act AS (
      SELECT DISTINCT t.subject, t.seq, t.at, t.next_at, t.procedure, x.path, x.ms
      FROM t JOIN sla x ON x.procedure = t.procedure AND x.version = t.version
      JOIN LATERAL jsonb_array_elements_text(t.leaves) l(leaf)
        ON l.leaf = x.path OR left(l.leaf, length(x.path) + 1) = x.path || '.'),
    isl AS (SELECT *, seq - row_number() OVER (PARTITION BY subject, path ORDER BY seq) AS grp FROM act),
    stay AS (
      SELECT *, min(at) OVER (PARTITION BY subject, path, grp)
        + ms * interval '1 millisecond' AS due FROM isl),
    seg AS (
      SELECT subject, procedure, at, next_at, min(due) AS due FROM stay
      GROUP BY subject, procedure, seq, at, next_at)`;
}

/** `ov`: the intervals [s, e) during which an instance was overdue (e null: still is). */
function overdueCte(p: Params, model: DashboardModel, now: string): string {
  return `${slaCte(p, model)},
    ov AS (
      SELECT subject, procedure, greatest(at, due) AS s, next_at AS e FROM seg
      WHERE due < coalesce(next_at, ${now}))`;
}

export interface OverduePoint {
  /** The day (UTC, YYYY-MM-DD). */
  day: string;
  /** Instances overdue at the end of that day (now, for today). */
  count: number;
}

/** The UTC days of the period, as dates. */
function daySeries(p: Params, period: DashboardPeriod): string {
  return `days AS (
      SELECT d::date AS day FROM generate_series(date_trunc('day', ${p.add(period.from.toISOString(), '::timestamptz')} AT TIME ZONE 'UTC'),
        ${p.add(period.to.toISOString(), '::timestamptz')} AT TIME ZONE 'UTC' - interval '1 microsecond',
        interval '1 day') d)`;
}

/**
 * Instances overdue at the end of each UTC day of the period (at `now` for today): the intervals
 * becoming overdue and ceasing to be, summed day by day (no day × instance join).
 */
export async function overdueByDay(
  db: SqlQueryable,
  scope: DashboardScope,
  model: DashboardModel,
  period: DashboardPeriod,
): Promise<OverduePoint[]> {
  const p = new Params();
  const now = p.add(period.now.toISOString(), '::timestamptz');
  const sql = `WITH ${transitionsCte(p, scope, true)}, ${overdueCte(p, model, now)}, ${daySeries(p, period)},
    ev AS (SELECT s AS at, 1 AS d FROM ov UNION ALL SELECT e, -1 FROM ov WHERE e IS NOT NULL),
    first_day AS (SELECT min(day) AS day FROM days),
    per_day AS (
      SELECT greatest((ev.at AT TIME ZONE 'UTC')::date, first_day.day) AS day, sum(d) AS d
      FROM ev, first_day WHERE ev.at < ${now} GROUP BY 1)
    SELECT to_char(days.day, 'YYYY-MM-DD') AS day,
      coalesce(sum(coalesce(per_day.d, 0)) OVER (ORDER BY days.day), 0)::int AS count
    FROM days LEFT JOIN per_day ON per_day.day = days.day ORDER BY days.day`;
  return db.query<OverduePoint>(sql, p.values);
}

export interface BreachCount {
  /** YYYY-MM (UTC). */
  month: string;
  procedure: string;
  count: number;
}

/** `breach`: SLA state stays left (or still active at `now`) after their due time. */
function breachCte(p: Params, model: DashboardModel, now: string): string {
  return `${slaCte(p, model)},
    stays AS (
      SELECT subject, procedure, path, grp, min(due) AS due,
        CASE WHEN bool_or(next_at IS NULL) THEN ${now} ELSE max(next_at) END AS left_at
      FROM stay GROUP BY subject, procedure, path, grp),
    breach AS (SELECT * FROM stays WHERE left_at > due)`;
}

/** SLA breaches per month of their due time, within the period, per procedure. */
export async function breachesByMonth(
  db: SqlQueryable,
  scope: DashboardScope,
  model: DashboardModel,
  period: DashboardPeriod,
): Promise<BreachCount[]> {
  const p = new Params();
  const now = p.add(period.now.toISOString(), '::timestamptz');
  const sql = `WITH ${transitionsCte(p, scope, true)}, ${breachCte(p, model, now)}
    SELECT to_char(due AT TIME ZONE 'UTC', 'YYYY-MM') AS month, procedure, count(*)::int AS count
    FROM breach
    WHERE due >= ${p.add(period.from.toISOString(), '::timestamptz')}
      AND due < least(${p.add(period.to.toISOString(), '::timestamptz')}, ${now})
    GROUP BY 1, 2 ORDER BY 1, 2`;
  return db.query<BreachCount>(sql, p.values);
}

/** What a chart's element stands for, to list the instances behind it. */
export type DrillDown =
  | { chart: 'overdue'; day: string }
  | { chart: 'breaches'; month: string; procedure?: string }
  | { chart: 'cycle'; procedure: string }
  | { chart: 'person'; actor: string };

/** The workflow ids behind a chart's element (at most `limit`, newest activity first) and how many. */
export async function instancesBehind(
  db: SqlQueryable,
  scope: DashboardScope,
  model: DashboardModel,
  period: DashboardPeriod,
  drill: DrillDown,
  limit = 200,
): Promise<{ workflowIds: string[]; total: number }> {
  const p = new Params();
  let nowParam: string | undefined;
  const now = (): string => (nowParam ??= p.add(period.now.toISOString(), '::timestamptz'));
  const from = (): string => p.add(period.from.toISOString(), '::timestamptz');
  const to = (): string => p.add(period.to.toISOString(), '::timestamptz');
  let body: string;
  switch (drill.chart) {
    case 'overdue': {
      const day = p.add(drill.day, '::date');
      body = `${transitionsCte(p, scope, true)}, ${overdueCte(p, model, now())},
        pt AS (SELECT least((${day} + interval '1 day') AT TIME ZONE 'UTC', ${now()}) AS at),
        ids AS (SELECT subject, s AS at FROM ov, pt WHERE ov.s < pt.at AND (ov.e IS NULL OR ov.e >= pt.at))`;
      break;
    }
    case 'breaches': {
      const month = p.add(`${drill.month}-01`, '::date');
      const proc = drill.procedure === undefined ? '' : `AND procedure = ${p.add(drill.procedure)}`;
      body = `${transitionsCte(p, scope, true)}, ${breachCte(p, model, now())},
        ids AS (SELECT subject, due AS at FROM breach
          WHERE due >= greatest(${month} AT TIME ZONE 'UTC', ${from()})
            AND due < least((${month} + interval '1 month') AT TIME ZONE 'UTC', ${to()}, ${now()}) ${proc})`;
      break;
    }
    case 'cycle':
      body = `${transitionsCte(p, { ...scope, procedure: drill.procedure })}, ${doneCte(p, model, period)},
        ids AS (SELECT subject, ended AS at FROM done)`;
      break;
    case 'person':
      body = `${transitionsCte(p, scope)},
        ids AS (SELECT subject, at FROM t WHERE actor = ${p.add(drill.actor)}
          AND at >= ${from()} AND at < ${to()})`;
      break;
  }
  const sql = `WITH ${body},
    g AS (SELECT subject, max(at) AS at FROM ids GROUP BY subject)
    SELECT subject, count(*) OVER ()::int AS total FROM g ORDER BY at DESC, subject
    LIMIT ${p.add(limit, '::int')}`;
  const rows = await db.query<{ subject: string; total: number }>(sql, p.values);
  return { workflowIds: rows.map((r) => r.subject), total: rows[0]?.total ?? 0 };
}
