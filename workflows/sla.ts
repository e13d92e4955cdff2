/**
 * SLA reminders and escalations in the `procedure` workflow (rules in `core/sla.ts`): one durable
 * timer for the earliest reminder or escalation of the active states not yet sent; when it fires,
 * a `$sla` record with its notifications, then the next. Re-armed after every transition, so a
 * state left cancels its points and a state entered again starts its own.
 *
 * Replay: only definitions with `sla: { remind | escalate }` run any of this (none existed before
 * it), and the workflow marks them with `patched('sla')`. Which points were sent is read from the
 * log's `$sla` records, so continue-as-new needs nothing more. A run that started without plans
 * and migrated to a version with some arms them from the migration on ({@link SlaTimers.armMigrated},
 * patch `migration-arms`): the points of the states it is in, counted from their entry.
 */
import { CancellationScope, isCancellation, sleep, upsertMemo, workflowInfo } from '@temporalio/workflow';
import type { Patches } from './patches.ts';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { BusinessCalendar } from './core/calendar.ts';
import type { CompiledProcedure } from './core/compile.ts';
import type { Effect } from './core/actions/index.ts';
import { describeInstance, type InstanceState, type TransitionRecord } from './core/runtime.ts';
import {
  applySlaPoint,
  escalationLevel,
  hasSlaPlans,
  nextSlaPoint,
  sentSlaKeys,
  slaDueAt,
  slaPoints,
} from './core/sla.ts';
import { SLA_SINCE_MEMO, slaSinceOf } from './core/sla-since.ts';
import { CustodiaEscalation } from './search-attributes.ts';
import type { SlaView } from './contract.ts';

/** Patch id of SLA reminders and escalations. */
export const PATCH_SLA = 'sla';

/**
 * Patch id of the memo `CustodiaSlaSince` (`core/sla-since.ts`): the entries of states with plans
 * entered before the leaves' latest, for the stalled view's next reminder. Taken only when the memo
 * changes (a compound parent with a plan outlives its first leaf, or a parallel region's leaf is
 * older than another's), so most histories never meet it.
 */
export const PATCH_SLA_SINCE = 'sla-since-memo';

export interface SlaHooks {
  /** This run's patches (`patches.ts`). */
  patches: Patches;
  proc: CompiledProcedure;
  workflowId: string;
  calendar?: BusinessCalendar;
  state(): InstanceState;
  log(): readonly TransitionRecord[];
  /** Take the new state and its record (log, audit commit with its effects, search attributes). */
  record(state: InstanceState, record: TransitionRecord, effects?: Effect[]): void;
}

export interface SlaTimers {
  /** Arm (or re-arm) the timer of the next point; call after every change of state. */
  arm(): void;
  /**
   * After a migration (patch `migration-arms`, `workflows/migration.ts`): from now on the timers
   * follow the current definition's plans even if the run started without any.
   */
  armMigrated(): void;
  /** `CustodiaEscalation` (only for definitions with reminders or escalations). */
  attribute(): SearchAttributeUpdatePair | undefined;
  /** The due time of the active states, working days included (`CustodiaDueAt`). */
  dueAt(fallback: number | undefined): number | undefined;
  /** Escalation level and the next reminder or escalation (the snapshot's `sla`). */
  view(): SlaView | undefined;
}

/** The SLA timers of one workflow run. */
export function installSla(h: SlaHooks): SlaTimers {
  const started = hasSlaPlans(h.proc.ir.root) && h.patches.has(PATCH_SLA);
  // Set by a migration: the plans of whatever version the instance runs now count.
  let migrated = false;
  const isOn = (): boolean => started || (migrated && hasSlaPlans(h.proc.ir.root));
  let armed: { key: string; scope: CancellationScope } | undefined;
  // Against the memo as this run has it (upserts update workflowInfo().memo; a run continued as
  // new starts from the one it was given). A finished instance leaves it: no stalled view lists it.
  const syncSince = (state: InstanceState): void => {
    if (state.done) return;
    const since = slaSinceOf(h.proc, state);
    const had: unknown = workflowInfo().memo?.[SLA_SINCE_MEMO];
    if (JSON.stringify(since) === JSON.stringify(had ?? {}) || !h.patches.has(PATCH_SLA_SINCE)) return;
    upsertMemo({ [SLA_SINCE_MEMO]: Object.keys(since).length ? since : undefined });
  };
  const arm = (): void => {
    if (!isOn()) return;
    const state = h.state();
    syncSince(state);
    const next = nextSlaPoint(slaPoints(h.proc, state, h.calendar), sentSlaKeys(h.log()));
    if (armed && armed.key === next?.key) return;
    armed?.scope.cancel();
    armed = undefined;
    if (!next) return;
    const scope = new CancellationScope();
    armed = { key: next.key, scope };
    scope
      .run(() => sleep(Math.max(1, next.at - Date.now())))
      .then(
        () => {
          if (armed?.scope !== scope) return;
          armed = undefined;
          const now = Date.now();
          const s = h.state();
          const view = describeInstance(h.proc, s, now);
          const out = applySlaPoint(h.proc, s, next, view.leaves, view.available, h.workflowId, now);
          h.record(out.state, out.record, out.effects);
          arm();
        },
        (err: unknown) => {
          if (!isCancellation(err)) throw err;
        },
      );
  };
  return {
    arm,
    armMigrated: () => {
      migrated = true;
    },
    attribute: () => {
      if (!isOn()) return undefined;
      const state = h.state();
      const level = escalationLevel(slaPoints(h.proc, state, h.calendar), sentSlaKeys(h.log()));
      return { key: CustodiaEscalation, value: level };
    },
    view: () => {
      if (!isOn()) return undefined;
      const points = slaPoints(h.proc, h.state(), h.calendar);
      const sent = sentSlaKeys(h.log());
      const next = nextSlaPoint(points, sent);
      const out: SlaView = { level: escalationLevel(points, sent) };
      if (next)
        out.next = {
          kind: next.kind,
          state: next.state,
          at: new Date(next.at).toISOString(),
          ...(next.to ? { to: next.to } : {}),
        };
      return out;
    },
    dueAt: (fallback) => (h.calendar ? slaDueAt(h.proc, h.state(), h.calendar) : fallback),
  };
}
