/**
 * Service levels of a state (`sla:` in the definition language): a due time, reminders to the roles
 * the state awaits, and an escalation chain — every delay counted from the state's entry, in
 * calendar time (`P2D`, `PT4H`) or in working days of the instance's business calendar (`P2WD`).
 *
 * ```yaml
 * sla: { due: P2WD, remind: [P1WD], escalate: [{ after: P2WD, to: quality_manager }] }
 * sla: P2D            # shorthand: the due time only
 * sla:                 # items with their own recipient, text and clauses
 *   remind: [{ after: P7D, to: client, message: { zh: …, en: … } }]
 *   escalate: [{ after: P10WD, to: general_manager, message: { zh: …, en: … }, clauses: ['3.2.2'] }]
 * ```
 *
 * A reminder without `to` tells the roles the state awaits; an escalation tells its `to` and raises
 * the instance's escalation level. `message` replaces the generic text, `clauses` the state's
 * clauses on the `$sla` record.
 *
 * Pure: the workflow (`workflows/sla.ts`) asks {@link slaPoints} what is scheduled for the active
 * states, arms a durable timer per point not yet sent, and records each with {@link applySlaPoint}:
 * a `$sla` record whose effects are `notify` effects (the same path as a definition's `notify`).
 * Which points were sent is read back from those records, so continue-as-new carries it in the log.
 */
import type { NotifyEffect } from './actions/notify.ts';
import { addWorkingDays, type BusinessCalendar } from './calendar.ts';
import type { CheckContext } from './check-report.ts';
import { checkRole, stateLabel } from './check-report.ts';
import type { CompiledProcedure } from './compile.ts';
import { parseDelay, type Delay } from './duration.ts';
import type { IsoDuration, SlaEscalationIR, SlaPlanIR, SlaReminderIR, StateIR, Text } from './ir.ts';
import { textIn } from './languages.ts';
import { walkStates } from './ir-walk.ts';
import { joinPointer } from './positions.ts';
import type { InstanceState, TransitionRecord } from './runtime.ts';

/** The event type of an SLA reminder's or escalation's record. */
export const SLA_EVENT = '$sla';

/** The actor of `$sla` records (the engine, like `timer` for delayed transitions). */
export const SLA_ACTOR = { id: 'sla', roles: [] as string[] };

/** An `sla` item's own recipient, text and clauses, as written. */
interface RawSlaExtras {
  to?: string;
  message?: Text;
  clauses?: string[];
}

/** `sla:` as written: a delay, or the object form. */
export type RawSla =
  | string
  | {
      due?: string;
      remind?: (string | ({ after: string } & RawSlaExtras))[];
      escalate?: ({ after: string; to: string } & RawSlaExtras)[];
    };

/** The optional parts of an item, present only when written (so plans without them hash the same). */
function extras(raw: RawSlaExtras, withTo: boolean): RawSlaExtras {
  return {
    ...(withTo && raw.to !== undefined ? { to: raw.to } : {}),
    ...(raw.message !== undefined ? { message: { ...raw.message } } : {}),
    ...(raw.clauses !== undefined ? { clauses: [...raw.clauses] } : {}),
  };
}

/** The IR fields of a state's `sla:` (`sla` stays the due delay, so its old form hashes the same). */
export function normalizeSla(raw: RawSla): { sla?: IsoDuration; slaPlan?: SlaPlanIR } {
  if (typeof raw === 'string') return { sla: raw };
  const out: { sla?: IsoDuration; slaPlan?: SlaPlanIR } = {};
  if (raw.due !== undefined) out.sla = raw.due;
  if (raw.remind?.length || raw.escalate?.length)
    out.slaPlan = {
      remind: (raw.remind ?? []).map((r): SlaReminderIR => {
        if (typeof r === 'string') return r;
        const more = extras(r, true);
        // No recipient, text or clauses of its own: the plain delay (the IR of `remind: [P1D]`).
        return Object.keys(more).length ? { after: r.after, ...more } : r.after;
      }),
      escalate: (raw.escalate ?? []).map((e): SlaEscalationIR => ({
        after: e.after,
        to: e.to,
        ...extras(e, false),
      })),
    };
  return out;
}

/** A reminder in its object form (a plain delay has no recipient, text or clauses of its own). */
export function reminderOf(r: SlaReminderIR): Exclude<SlaReminderIR, string> {
  return typeof r === 'string' ? { after: r } : r;
}

/** Whether any state counts in working days (the instance then needs a business calendar). */
export function usesWorkingDays(root: StateIR): boolean {
  const wd = (d: string | undefined) => d !== undefined && /WD$/.test(d);
  for (const s of walkStates(root)) {
    if (wd(s.sla) || s.after.some((t) => wd(t.delay))) return true;
    if (
      s.slaPlan?.remind.some((r) => wd(reminderOf(r).after)) ||
      s.slaPlan?.escalate.some((e) => wd(e.after))
    )
      return true;
  }
  return false;
}

/** Whether any state has reminders or escalations (the workflow arms SLA timers only then). */
export function hasSlaPlans(root: StateIR): boolean {
  for (const s of walkStates(root)) if (s.slaPlan) return true;
  return false;
}

/**
 * Whether the state's escalation chain surely tells someone within `limit` of entry (the
 * verifier's `deadline`): a first escalation that certainly ends no later than the limit — in the
 * same unit, or calendar time against working days (n working days last at least n days); working
 * days against calendar time have no fixed length, so they never count as sure.
 */
export function escalatesWithin(state: StateIR, limit: Delay): boolean {
  const first = state.slaPlan?.escalate[0];
  const d = first ? parseDelay(first.after) : undefined;
  return d !== undefined && notBefore(limit, d);
}

/**
 * The length XState is told for an `after` delay: the duration, or — for `P<n>WD` — n days (a
 * placeholder: {@link timerDueAt} replaces the deadline with the calendar's).
 */
export function nominalDelayMs(text: string): number {
  const d = parseDelay(text);
  if (!d) return 0;
  return 'ms' in d ? d.ms : d.workingDays * 86_400_000;
}

/**
 * Deadline of a delayed transition raised at `now`: `now + ms`, or for a working-day delay (its
 * XState send id names it, `xstate.after.after_P2WD.…`) n working days in `calendar` (without one:
 * n calendar days, what the simulator in the browser shows).
 */
export function timerDueAt(sendId: string, now: number, ms: number, calendar?: BusinessCalendar): number {
  const m = /\bafter_P(\d{1,4})WD\b/.exec(sendId);
  if (!m || !calendar) return now + ms;
  return addWorkingDays(now, Number(m[1]), calendar).at;
}

/** `since` plus a delay; working days need `calendar` (undefined without one). */
export function delayEnd(text: string, since: number, calendar?: BusinessCalendar): number | undefined {
  const d = parseDelay(text);
  if (!d) return undefined;
  if ('ms' in d) return since + d.ms;
  return calendar ? addWorkingDays(since, d.workingDays, calendar).at : undefined;
}

/** One scheduled reminder or escalation of an active state. */
export interface SlaPoint {
  /** Stable key: state path, entry time, kind and index. */
  key: string;
  state: string;
  /** Entry time of the state (ms). */
  since: number;
  kind: 'remind' | 'escalate';
  index: number;
  at: number;
  /** The role told: an escalation's, or a reminder's own (absent: the roles the state awaits). */
  to?: string;
  /** Escalations: the level reached (1 = first; escalations with the same delay share it). */
  level?: number;
  /** The item's own text, instead of the generic reminder or escalation text. */
  message?: Text;
  /** The item's own clauses, instead of the state's, on its `$sla` record. */
  clauses?: string[];
}

const keyOf = (state: string, since: number, kind: string, index: number): string =>
  `${state}@${since}/${kind}/${index}`;

/** Every reminder and escalation of the active states, sent or not, earliest first. */
export function slaPoints(
  proc: CompiledProcedure,
  state: InstanceState,
  calendar?: BusinessCalendar,
): SlaPoint[] {
  if (state.done) return [];
  const out: SlaPoint[] = [];
  for (const [path, since] of Object.entries(state.enteredAt)) {
    const plan = proc.nodes.get(path)?.slaPlan;
    if (!plan) continue;
    plan.remind.forEach((r, index) => {
      const item = reminderOf(r);
      const at = delayEnd(item.after, since, calendar);
      if (at !== undefined)
        out.push({
          key: keyOf(path, since, 'remind', index),
          state: path,
          since,
          kind: 'remind',
          index,
          at,
          ...(item.to !== undefined ? { to: item.to } : {}),
          ...(item.message ? { message: item.message } : {}),
          ...(item.clauses ? { clauses: item.clauses } : {}),
        });
    });
    // Escalations written with the same delay tell their roles at once, at the same level.
    const levels = [...new Set(plan.escalate.map((e) => e.after))];
    plan.escalate.forEach((e, index) => {
      const at = delayEnd(e.after, since, calendar);
      if (at !== undefined)
        out.push({
          key: keyOf(path, since, 'escalate', index),
          state: path,
          since,
          kind: 'escalate',
          index,
          at,
          to: e.to,
          level: levels.indexOf(e.after) + 1,
          ...(e.message ? { message: e.message } : {}),
          ...(e.clauses ? { clauses: e.clauses } : {}),
        });
    });
  }
  return out.sort((a, b) => a.at - b.at || a.key.localeCompare(b.key));
}

/** Keys of the points already sent (their `$sla` records in the log). */
export function sentSlaKeys(log: readonly TransitionRecord[]): Set<string> {
  const keys = new Set<string>();
  for (const r of log) if (r.event === SLA_EVENT && typeof r.data?.key === 'string') keys.add(r.data.key);
  return keys;
}

/** The escalation level of the active states now: the highest level sent since they were entered. */
export function escalationLevel(points: readonly SlaPoint[], sent: ReadonlySet<string>): number {
  let level = 0;
  for (const p of points) if (p.level && sent.has(p.key)) level = Math.max(level, p.level);
  return level;
}

/** The next point not yet sent, if any. */
export function nextSlaPoint(points: readonly SlaPoint[], sent: ReadonlySet<string>): SlaPoint | undefined {
  return points.find((p) => !sent.has(p.key));
}

/** The due time of each active state with `sla:` (ms), working days included (none without a calendar). */
export function slaDueTimes(
  proc: CompiledProcedure,
  state: InstanceState,
  calendar?: BusinessCalendar,
): { state: string; since: number; sla: IsoDuration; at: number }[] {
  if (state.done) return [];
  const out: { state: string; since: number; sla: IsoDuration; at: number }[] = [];
  for (const [path, since] of Object.entries(state.enteredAt)) {
    const sla = proc.nodes.get(path)?.sla;
    const at = sla === undefined ? undefined : delayEnd(sla, since, calendar);
    if (sla !== undefined && at !== undefined) out.push({ state: path, since, sla, at });
  }
  return out;
}

/** Due time (ms) of the active states, working days included (earliest; undefined when none). */
export function slaDueAt(
  proc: CompiledProcedure,
  state: InstanceState,
  calendar?: BusinessCalendar,
): number | undefined {
  let due: number | undefined;
  for (const { at } of slaDueTimes(proc, state, calendar)) due = Math.min(due ?? Infinity, at);
  return due;
}

/** Roles that can act in `path` (or below it) now. */
function awaitedIn(path: string, roles: Record<string, string[]>, proc: CompiledProcedure): string[] {
  const out = new Set<string>();
  for (const s of walkStates(proc.nodes.get(path) ?? proc.ir.root))
    for (const list of Object.values(s.on))
      for (const t of list) for (const r of t.roles) if (roles[r]) out.add(r);
  return [...out].sort();
}

/**
 * The `$sla` record of a point (state unchanged, next seq) and its notifications: a reminder tells
 * its own `to`, else the roles `available` says can act in the state now; an escalation tells its
 * `to` role. The point's own `message` (in each language) replaces the generic text.
 */
export function applySlaPoint(
  proc: CompiledProcedure,
  state: InstanceState,
  point: SlaPoint,
  leaves: string[],
  available: Record<string, string[]>,
  workflowId: string,
  now: number,
): { state: InstanceState; record: TransitionRecord; effects: NotifyEffect[] } {
  const node = proc.nodes.get(point.state);
  const title = (l: 'zh' | 'en') => node?.title[l] ?? node?.title.zh ?? node?.title.en ?? point.state;
  const proc_ = (l: 'zh' | 'en') => proc.ir.title[l] ?? proc.ir.title.zh ?? proc.ir.title.en ?? proc.ir.id;
  const since = new Date(point.since).toISOString().slice(0, 16).replace('T', ' ');
  const roles = point.to !== undefined ? [point.to] : awaitedIn(point.state, available, proc);
  const message = point.message
    ? {
        zh: textIn(point.message, 'zh', proc.ir.languages),
        en: textIn(point.message, 'en', proc.ir.languages),
      }
    : point.kind === 'escalate'
      ? {
          zh: `升级（第 ${point.level} 级）：${proc_('zh')} ${workflowId} 的“${title('zh')}”自 ${since}（UTC）起仍未处理。`,
          en: `Escalation (level ${point.level}): ${proc_('en')} ${workflowId} has been at “${title('en')}” since ${since} UTC and is still not done.`,
        }
      : {
          zh: `提醒：${proc_('zh')} ${workflowId} 的“${title('zh')}”自 ${since}（UTC）起等待您处理。`,
          en: `Reminder: ${proc_('en')} ${workflowId} has been waiting at “${title('en')}” for you since ${since} UTC.`,
        };
  const next: InstanceState = { ...state, seq: state.seq + 1 };
  const record: TransitionRecord = {
    seq: next.seq,
    at: new Date(now).toISOString(),
    event: SLA_EVENT,
    actor: SLA_ACTOR,
    from: leaves,
    to: leaves,
    clauses: point.clauses ?? node?.clauses ?? [],
    data: {
      key: point.key,
      state: point.state,
      kind: point.kind,
      index: point.index,
      roles,
      ...(point.level ? { level: point.level } : {}),
    },
  };
  return { state: next, record, effects: roles.map((to) => ({ kind: 'notify', to, message })) };
}

/**
 * Whether `a` certainly ends at or after `b` (from the same instant): both in the same unit, or a
 * working-day count against calendar time (n working days last at least n days); unknown otherwise.
 */
function notBefore(a: Delay, b: Delay): boolean {
  if ('ms' in a && 'ms' in b) return a.ms >= b.ms;
  if ('workingDays' in a && 'workingDays' in b) return a.workingDays >= b.workingDays;
  if ('workingDays' in a && 'ms' in b) return a.workingDays * 86_400_000 >= b.ms;
  return false;
}

/** The `sla:` checks: delays, roles, order of the chain, reminders before the due time, repeats. */
export function checkSla(cx: CheckContext): void {
  for (const state of walkStates(cx.ir.root)) {
    const plan = state.slaPlan;
    if (!plan) continue;
    const base = joinPointer(state.pointer, 'sla');
    const bad = (text: string, pointer: string): Delay | undefined => {
      const d = parseDelay(text);
      if (!d)
        cx.report(
          'PROC_BAD_DURATION',
          pointer,
          `"${text}" is not a valid delay (sla of ${stateLabel(state)})`,
          {
            hint: 'use an ISO-8601 duration (P2D, PT4H) or working days (P2WD)',
          },
        );
      return d;
    };
    // A reminder at the same delay to the same recipient as another is a repeat (escalations: the order check).
    const seen = new Map<string, number>();
    const repeat = (after: string, to: string | undefined, i: number, pointer: string): void => {
      const key = `${after} ${to ?? ''}`;
      const first = seen.get(key);
      if (first === undefined) seen.set(key, i);
      else
        cx.report(
          'PROC_SLA_DUPLICATE',
          pointer,
          `reminder #${i + 1} of ${stateLabel(state)} repeats #${first + 1} (after ${after}${to ? `, to ${to}` : ''})`,
          { hint: 'remove the repeat, or remind another role at this delay' },
        );
    };
    const due = state.sla === undefined ? undefined : parseDelay(state.sla);
    let awaitedReminder = false;
    plan.remind.forEach((r, i) => {
      const item = reminderOf(r);
      const p = joinPointer(base, 'remind', i);
      const at = typeof r === 'string' ? p : joinPointer(p, 'after');
      if (item.to === undefined) awaitedReminder = true;
      else checkRole(cx, item.to, joinPointer(p, 'to'), `reminder #${i + 1} of ${stateLabel(state)}`, true);
      repeat(item.after, item.to, i, p);
      const d = bad(item.after, at);
      if (d && due && notBefore(d, due))
        cx.report(
          'PROC_SLA_ORDER',
          at,
          `reminder ${item.after} of ${stateLabel(state)} is not before its due time ${state.sla}`,
          {
            hint: 'remind before the state is due; escalate after it',
          },
        );
    });
    if (awaitedReminder && !Object.keys(state.on).length && !Object.values(state.states).length)
      cx.report(
        'PROC_SLA_NOBODY_AWAITED',
        joinPointer(base, 'remind'),
        `${stateLabel(state)} awaits no role: nobody to remind`,
        {
          hint: 'remind in states that have events people send, or name the role to remind (to:)',
        },
      );
    let prev: { d: Delay; text: string } | undefined;
    const told = new Map<string, number>();
    plan.escalate.forEach((e, i) => {
      const p = joinPointer(base, 'escalate', i);
      checkRole(cx, e.to, joinPointer(p, 'to'), `escalation #${i + 1} of ${stateLabel(state)}`);
      const d = bad(e.after, joinPointer(p, 'after'));
      if (!d) return;
      // The same delay as the one before: another role told at the same level (not the same role twice).
      if (prev && prev.text === e.after) {
        const first = told.get(`${e.after} ${e.to}`);
        if (first !== undefined)
          cx.report(
            'PROC_SLA_DUPLICATE',
            joinPointer(p, 'to'),
            `escalation #${i + 1} of ${stateLabel(state)} repeats #${first + 1} (after ${e.after}, to ${e.to})`,
            { hint: 'remove the repeat, or escalate to another role at this delay' },
          );
        told.set(`${e.after} ${e.to}`, first ?? i);
        return;
      }
      told.set(`${e.after} ${e.to}`, i);
      if (prev && notBefore(prev.d, d))
        cx.report(
          'PROC_SLA_ORDER',
          joinPointer(p, 'after'),
          `escalation #${i + 1} of ${stateLabel(state)} (after ${e.after}) is not later than the one before it (after ${prev.text})`,
          { hint: 'list the escalation chain in increasing delays (the same delay: roles told at once)' },
        );
      prev = { d, text: e.after };
    });
  }
}
