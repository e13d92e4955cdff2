/**
 * What a migration sets off at once: the deadlines of the new version that the migrated instance
 * has already passed. Pure; the dry run asks it per instance before anyone presses the button.
 *
 * A migration keeps the entry time of each state (`migration.ts`), and the new version's
 * deadlines count from that entry, not from the migration: the due time (`sla:`), the reminders
 * and escalations (`sla: { remind, escalate }`, armed by the migration — patch `migration-arms`),
 * and the `after:` timers new to a state. One that lies in the past fires the moment the instance
 * moves: a reminder or escalation is sent at once (each in turn, earliest first), an `after:`
 * timer fires at once (its transition is taken if its guard holds), and a due time already past
 * makes the instance overdue at once (`CustodiaDueAt`).
 *
 * Nothing here is a rule of its own: the migrated state is `planMigration`'s (the one the
 * `migrate` update computes), its timers are the ones the workflow arms, the reminders and
 * escalations are `slaPoints` less those already sent (their `$sla` records in the instance log,
 * `sentSlaKeys`: a point keeps its key — state, entry, kind, index — across a migration that keeps
 * the state's entry), due times are `slaDueTimes` — the rules `workflows/sla.ts` and
 * `workflows/procedure.workflow.ts` arm with, with the instance's own business calendar.
 */
import type { BusinessCalendar } from './calendar.ts';
import type { CompiledProcedure } from './compile.ts';
import { timerId } from './migration.ts';
import { fireTimer, type InstanceState } from './runtime.ts';
import { slaDueTimes, slaPoints } from './sla.ts';

/** What fires: the due time, a reminder, an escalation, an `after:` timer. */
export const DEADLINE_KINDS = ['due', 'remind', 'escalate', 'after'] as const;
export type DeadlineKind = (typeof DEADLINE_KINDS)[number];

/** One deadline of the migrated instance. */
export interface MigrationDeadline {
  kind: DeadlineKind;
  /** The state whose deadline it is (a compound parent's too). */
  state: string;
  /** When it is due (ms): the state's entry plus the delay. */
  at: number;
  /** Entry time of the state (ms), kept by the migration. */
  since: number;
  /** The delay as written (`sla:` due time, reminder's or escalation's `after`, the `after:` delay). */
  delay: string;
  /** Reminders and escalations: the key of the `$sla` record the workflow writes for it. */
  key?: string;
  /** The role told: an escalation's, or a reminder's own (absent: the roles the state awaits). */
  to?: string;
  /** Escalations: the level reached. */
  level?: number;
  /**
   * An `after:` timer that fires at once: the leaves its transition takes the instance to (its
   * guard false: absent, the instance stays). Leaving a state ends its remaining deadlines.
   */
  moves?: string[];
}

/** The deadlines that fire at the migration, and those due within the horizon after it. */
export interface MigrationDeadlines {
  /** Already due: they fire the moment the instance migrates. Earliest first. */
  atOnce: MigrationDeadline[];
  /** Due after now but within the horizon asked for. Earliest first. */
  soon: MigrationDeadline[];
}

/**
 * The deadlines of `migrated` (the state `planMigration` gives, in the new version `to`) that are
 * past at `now` or due within `withinMs` of it. `sent` are the keys of the `$sla` records in the
 * instance log; `calendar` is the instance's business calendar (the one it was started with:
 * without one, working-day deadlines are never armed, as in the workflow).
 */
export function migrationDeadlines(
  to: CompiledProcedure,
  migrated: InstanceState,
  sent: ReadonlySet<string>,
  now: number,
  withinMs: number,
  calendar?: BusinessCalendar,
): MigrationDeadlines {
  const all: MigrationDeadline[] = [];
  if (migrated.done) return { atOnce: [], soon: [] };
  for (const d of slaDueTimes(to, migrated, calendar))
    all.push({ kind: 'due', state: d.state, at: d.at, since: d.since, delay: d.sla });
  for (const p of slaPoints(to, migrated, calendar)) {
    if (sent.has(p.key)) continue;
    const plan = to.nodes.get(p.state)?.slaPlan;
    const item = p.kind === 'remind' ? plan?.remind[p.index] : plan?.escalate[p.index];
    all.push({
      kind: p.kind,
      state: p.state,
      at: p.at,
      since: p.since,
      delay: typeof item === 'string' ? item : (item?.after ?? ''),
      key: p.key,
      ...(p.to !== undefined ? { to: p.to } : {}),
      ...(p.level !== undefined ? { level: p.level } : {}),
    });
  }
  // The `after:` timers the workflow arms for the migrated state (kept or new), by state and delay.
  // One already due fires at once: where its transition takes the instance (`fireTimer`, the
  // workflow's step, from the migrated state; a guard that is false leaves it where it is).
  for (const timer of migrated.timers) {
    const owner = afterOwner(to, migrated, timer.id);
    const step = timer.dueAt <= now ? fireTimer(to, migrated, timer.id, now) : undefined;
    all.push({
      kind: 'after',
      state: owner?.state ?? '',
      at: timer.dueAt,
      since: owner ? (migrated.enteredAt[owner.state] ?? timer.dueAt) : timer.dueAt,
      delay: owner?.delay ?? timer.id,
      ...(step ? { moves: step.record.to } : {}),
    });
  }
  // At the same time, in the order the workflow arms them: `after:` timers, then the SLA points.
  const order: DeadlineKind[] = ['after', 'due', 'remind', 'escalate'];
  all.sort((a, b) => a.at - b.at || order.indexOf(a.kind) - order.indexOf(b.kind));
  return {
    atOnce: all.filter((d) => d.at <= now),
    soon: all.filter((d) => d.at > now && d.at <= now + withinMs),
  };
}

/** The active state and delay whose `after:` timer has the send id `id`. */
function afterOwner(
  to: CompiledProcedure,
  state: InstanceState,
  id: string,
): { state: string; delay: string } | undefined {
  for (const path of Object.keys(state.enteredAt))
    for (const t of to.nodes.get(path)?.after ?? [])
      if (timerId(to.ir, path, t.delay) === id) return { state: path, delay: t.delay };
  return undefined;
}

/** Per kind, how many deadlines; and how many instances have any. */
export interface DeadlineCounts extends Record<DeadlineKind, number> {
  instances: number;
}

/** Totals over instances' deadlines (the dry run's summary). */
export function countDeadlines(lists: readonly (readonly { kind: DeadlineKind }[])[]): DeadlineCounts {
  const out: DeadlineCounts = { instances: 0, due: 0, remind: 0, escalate: 0, after: 0 };
  for (const list of lists) {
    if (list.length) out.instances++;
    for (const d of list) out[d.kind]++;
  }
  return out;
}

/** A deadline as the dry run answers it (API, CLI, UI): times ISO. */
export interface DeadlineView extends Omit<MigrationDeadline, 'at' | 'since'> {
  at: string;
  since: string;
}

/** An instance's deadlines the move sets off at once, and those due within the horizon. */
export interface InstanceDeadlines {
  atOnce: DeadlineView[];
  soon: DeadlineView[];
}

/** The dry run's totals of what the moving instances set off. */
export interface DeadlineSummary {
  /** The horizon of `soon` (ms after the dry run). */
  withinMs: number;
  /** Instances with any deadline that fires at once, and the deadlines per kind. */
  atOnce: DeadlineCounts;
  /** The same for the deadlines due within the horizon. */
  soon: DeadlineCounts;
  /** Moving instances whose deadlines are unknown. */
  unknown: number;
}
