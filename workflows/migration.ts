/**
 * The `migrate` update of the `procedure` workflow (rule in `core/migration-step.ts`), kept out of
 * the workflow file: the workflow installs it with {@link installMigration}.
 *
 * It runs at a safe point by construction: update handlers are synchronous, so it runs between
 * two transitions, never inside one; the new version arrives as data pinned by its hash (never
 * "latest"), the validator refuses anything it would not do (nothing enters history), and the
 * handler — which also runs on replay — recomputes the same step from the same history. The
 * `$migrate` record is committed like any transition (audit chain: old → new version, the
 * mapping, fields added and dropped). Histories recorded before migrations existed have no
 * `migrate` update; the handler marks its first use with `patched('migration')` (through this run's `Patches`).
 */
import { ApplicationFailure, defineQuery, defineUpdate, setHandler } from '@temporalio/workflow';
import type { Patches } from './patches.ts';
import type { BusinessCalendar } from './core/calendar.ts';
import { compileProcedure, type CompiledProcedure } from './core/compile.ts';
import type { Actor, ProcedureIR } from './core/ir.ts';
import {
  adoptedCalendar,
  hasWorkingDayTimers,
  offeredCalendarProblem,
  resolveMigration,
  type CurrentVersion,
  type MigrateInput,
  type MigrateResult,
  type MigrationRefused,
} from './core/migration-step.ts';
import type { RunningCall } from './core/migration-calls.ts';
import type { Rejection } from './core/rejections.ts';
import type { InstanceState, PendingTimer, TransitionRecord } from './core/runtime.ts';

export type { MigrateInput, MigrateResult } from './core/migration-step.ts';

/** Patch id of migration (marks histories that have one). */
export const PATCH_MIGRATION = 'migration';

/**
 * Patch id of arming the new version's `sla:` reminders and escalations and `call:` procedures at
 * a migration (before it, both were enabled only when the instance started, so an instance
 * migrated from a version without them never had them). What is armed: the points and calls of
 * the states the instance is in after the move; SLA points count from the entry of those states
 * (kept by the migration), not from the migration, so an overdue point is sent at once.
 */
export const PATCH_MIGRATION_ARMS = 'migration-arms';

/**
 * Patch id of refusing a migration that would end a running call (`core/migration-calls.ts`).
 * The validator refuses such a move on any history (validators leave nothing in it); the handler
 * applies the rule behind this patch, taken only when a call runs at the migration, so a history
 * recorded before it — where such a move went through and the call was cancelled or kept — replays.
 */
export const PATCH_MIGRATION_CALLS = 'migration-running-calls';

/**
 * Patch id of timing an `after:` delay in working days (`P2WD`) new to a state at a migration in
 * the instance's business calendar from the state's entry (`core/migration.ts`, `MigrationTiming`).
 * Before it such a timer was due at the entry itself, so it fired the moment the instance migrated.
 * Taken only when the new version has such a delay, so other migrations' histories never meet it.
 */
export const PATCH_MIGRATION_WD_TIMERS = 'migration-working-day-timers';

/**
 * Patch id of a migration bringing the business calendar (`core/migration-calendar.ts`): an
 * instance with no calendar (its version counted no working days) moved to a version that counts
 * them adopts the one the update carries, for the compile of the new version, its SLA points, its
 * working-day timers and continue-as-new. Taken only when it adopts one, so other histories never
 * meet it; before it, such an instance never armed its working-day due times and points.
 */
export const PATCH_MIGRATION_CALENDAR = 'migration-calendar';

/** Failure type of a refused migration; details `[MigrationRefusal code, Chinese message, plan?]`. */
export const MIGRATION_REFUSED = 'MigrationRefused';

/** Move a running instance to another version of its procedure (admins; `core/migration-step.ts`). */
export const migrateUpdate = defineUpdate<MigrateResult, [MigrateInput]>('migrate');

/**
 * What the dry run needs beside the snapshot to say which deadlines a migration sets off
 * (`core/migration-deadlines.ts`): the entry time of every active state (a compound parent's too),
 * the pending `after:` timers, and the business calendar the instance counts working days in.
 * A query: it leaves nothing in the history.
 */
export interface MigrationTimes {
  seq: number;
  enteredAt: Record<string, number>;
  timers: PendingTimer[];
  calendar?: BusinessCalendar;
}
export const migrationTimesQuery = defineQuery<MigrationTimes>('migrationTimes');

export interface MigrationHooks {
  /** This run's patches (`patches.ts`). */
  patches: Patches;
  /** The version and state the instance runs now. */
  current(): CurrentVersion;
  /** The calls running now (`Calls.runningCalls`): a move that would end one is refused. */
  runningCalls?(): RunningCall[];
  /** Take the new version, its compiled form and state, and the `$migrate` record. */
  switchTo(
    next: { ir: ProcedureIR; hash: string; proc: CompiledProcedure; state: InstanceState },
    record: TransitionRecord,
  ): void;
  /**
   * After the switch (patch `migration-arms`): arm the new version's SLA timers and calls
   * (`SlaTimers.armMigrated`, `Calls.armMigrated`) and sync what depends on them.
   */
  armMigrated(): void;
  /**
   * Options the instance compiles its definition with (the business calendar it was started with,
   * or adopted at a migration): read at each use.
   */
  compileOptions?: Parameters<typeof compileProcedure>[1];
  /** Adopt the calendar a migration brings (patch `migration-calendar`), before the switch. */
  adoptCalendar?(calendar: BusinessCalendar): void;
  /** The assertion check of the `event` update, for an actor and its assertion. */
  authenticate(assertion: unknown, now: number): (actor: Actor) => Rejection | undefined;
}

const refusal = (r: MigrationRefused): ApplicationFailure =>
  ApplicationFailure.nonRetryable(r.message, MIGRATION_REFUSED, r.code, r.zh, r.plan ?? null);

/** Register the `migrate` update handler and its validator. */
export function installMigration(h: MigrationHooks): void {
  setHandler(migrationTimesQuery, (): MigrationTimes => {
    const { state } = h.current();
    const calendar = h.compileOptions?.calendar;
    return {
      seq: state.seq,
      enteredAt: { ...state.enteredAt },
      timers: state.timers.map((t) => ({ ...t, event: { ...t.event } })),
      ...(calendar ? { calendar } : {}),
    };
  });
  // The last version compiled, by hash and calendar: the validator's work is the handler's (same
  // workflow task).
  let compiled: { hash: string; calendar?: BusinessCalendar; proc: CompiledProcedure } | undefined;
  const compile = (ir: ProcedureIR, hash: string, calendar?: BusinessCalendar): CompiledProcedure => {
    if (compiled?.hash !== hash || compiled.calendar !== calendar)
      compiled = {
        hash,
        calendar,
        proc: compileProcedure(ir, { ...h.compileOptions, ...(calendar ? { calendar } : {}) }),
      };
    return compiled.proc;
  };
  /** The calendar a move brings (none for a malformed request: the validator refuses it). */
  const brought = (input: MigrateInput): BusinessCalendar | undefined => {
    const shape = input as Partial<MigrateInput> | null | undefined;
    if (typeof shape?.ir?.root !== 'object' || offeredCalendarProblem(shape.calendar)) return undefined;
    return adoptedCalendar(h.compileOptions?.calendar, shape.ir, shape.calendar);
  };
  setHandler(
    migrateUpdate,
    (input: MigrateInput): MigrateResult => {
      h.patches.has(PATCH_MIGRATION);
      const now = Date.now();
      const calls = h.runningCalls?.() ?? [];
      const current: CurrentVersion = {
        ...h.current(),
        calls: calls.length && h.patches.has(PATCH_MIGRATION_CALLS) ? calls : [],
      };
      const offered = brought(input);
      const adopted = offered && h.patches.has(PATCH_MIGRATION_CALENDAR) ? offered : undefined;
      if (adopted) current.adoptsCalendar = adopted;
      const calendar = h.compileOptions?.calendar ?? adopted;
      if (hasWorkingDayTimers(input.ir) && h.patches.has(PATCH_MIGRATION_WD_TIMERS))
        current.timing = { workingDayTimers: { calendar } };
      const out = resolveMigration(current, input, (ir) => compile(ir, input.hash, calendar), now);
      if ('refused' in out) throw refusal(out.refused);
      if (adopted) h.adoptCalendar?.(adopted);
      h.switchTo({ ir: input.ir, hash: input.hash, proc: out.proc, state: out.step.state }, out.step.record);
      if (h.patches.has(PATCH_MIGRATION_ARMS)) h.armMigrated();
      return {
        from: { version: current.ir.version, hash: current.hash },
        to: { version: input.ir.version, hash: input.hash },
        plan: out.step.plan,
        seq: out.step.record.seq,
      };
    },
    {
      validator: (input: MigrateInput): void => {
        const now = Date.now();
        // As the handler decides (its patch is taken whenever it adopts one on a new history).
        const adopted = brought(input);
        const calendar = h.compileOptions?.calendar ?? adopted;
        const out = resolveMigration(
          {
            ...h.current(),
            calls: h.runningCalls?.() ?? [],
            timing: { workingDayTimers: { calendar } },
            ...(adopted ? { adoptsCalendar: adopted } : {}),
          },
          input,
          (ir) => compile(ir, (input as Partial<MigrateInput>).hash ?? '', calendar),
          now,
          (actor) => h.authenticate(input.assertion, now)(actor),
        );
        if ('refused' in out) throw refusal(out.refused);
      },
    },
  );
}
