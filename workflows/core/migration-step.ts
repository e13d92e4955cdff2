/**
 * The `migrate` update's rule, pure: whether an instance may move to the version it is sent, and
 * the step that moves it (the new state and its `$migrate` record). The workflow's validator and
 * handler both call {@link resolveMigration}, so what is refused and what is done have one home.
 */
import type { BusinessCalendar } from './calendar.ts';
import type { CompiledProcedure } from './compile.ts';
import { hashProcedure } from './hash.ts';
import type { Actor, Json, ProcedureIR } from './ir.ts';
import {
  planMigration,
  type MigrationPlan,
  type MigrationRefusal,
  type MigrationTiming,
} from './migration.ts';
import { leafPaths, type InstanceState, type Rejection, type TransitionRecord } from './runtime.ts';
import { formatProblems } from './schemas.ts';
import type { RunningCall } from './migration-calls.ts';
import { offeredCalendarProblem } from './migration-calendar.ts';

// For the workflow's `migrate` handler (it imports its values from this module only).
export { hasWorkingDayTimers } from './migration.ts';
export { adoptedCalendar, offeredCalendarProblem } from './migration-calendar.ts';

/** The event type of a migration's record in the instance log and the audit chain. */
export const MIGRATE_EVENT = '$migrate';

/** The role that may migrate instances (the engine's own). */
export const MIGRATION_ROLE = 'admin';

/** Argument of the `migrate` update: the new version pinned by its hash, as planned at `seq`. */
export interface MigrateInput {
  ir: ProcedureIR;
  hash: string;
  /** The instance's sequence number the plan was made at (refused if it has moved since). */
  seq: number;
  actor: Actor;
  assertion?: string;
  /**
   * The deployment's current business calendar, as a new start would pin it (absent when the new
   * version counts no working days). Adopted only by an instance that has none (patch
   * `migration-calendar`, `migration-calendar.ts`); one that has a calendar keeps it.
   */
  calendar?: BusinessCalendar;
}

/** Result of the `migrate` update. */
export interface MigrateResult {
  from: { version: string; hash: string };
  to: { version: string; hash: string };
  plan: MigrationPlan;
  seq: number;
}

/** A refusal of the `migrate` update (carried as the failure's details). */
export interface MigrationRefused {
  code: MigrationRefusal;
  message: string;
  zh: string;
  plan?: MigrationPlan;
}

export interface MigrationStep {
  state: InstanceState;
  record: TransitionRecord;
  plan: MigrationPlan;
}

/** The instance as it runs now. */
export interface CurrentVersion {
  ir: ProcedureIR;
  hash: string;
  state: InstanceState;
  /** Its calls running now (a move that would end one is refused: `migration-calls.ts`). */
  calls?: readonly RunningCall[];
  /** How new `after:` timers in working days are timed (`MigrationTiming`). */
  timing?: MigrationTiming;
  /** The calendar this move makes the instance adopt (`migration-calendar.ts`): named in the record. */
  adoptsCalendar?: BusinessCalendar;
}

const bad = (message: string, zh: string): { refused: MigrationRefused } => ({
  refused: { code: 'BAD_MIGRATION', message, zh },
});

/**
 * Resolve a `migrate` request against the instance now: refused (why), or the step. `compile`
 * compiles (and may memoize) the new version; `authenticate` checks the actor's assertion (the
 * validator passes it; the handler, which also runs on replay, does not).
 */
export function resolveMigration(
  current: CurrentVersion,
  input: MigrateInput,
  compile: (ir: ProcedureIR) => CompiledProcedure,
  now: number,
  authenticate?: (actor: Actor) => Rejection | undefined,
): { refused: MigrationRefused } | { step: MigrationStep; proc: CompiledProcedure } {
  const shape = input as Partial<MigrateInput> | null | undefined;
  const actor = shape?.actor as Partial<Actor> | undefined;
  if (!shape || typeof shape.hash !== 'string' || typeof shape.seq !== 'number' || !shape.ir)
    return bad('a migration needs { ir, hash, seq, actor }', '迁移请求需要 { ir, hash, seq, actor }');
  if (!actor || typeof actor.id !== 'string' || !Array.isArray(actor.roles))
    return bad('a migration needs an actor { id, roles[] }', '迁移请求需要操作人 { id, roles[] }');
  const unauthenticated = authenticate?.(actor as Actor);
  if (unauthenticated) return bad(unauthenticated.message, unauthenticated.zh);
  if (!actor.roles.includes(MIGRATION_ROLE))
    return bad(
      `${actor.id} is not an ${MIGRATION_ROLE}: only admins migrate instances`,
      `${actor.id} 不是管理员：只有管理员可以迁移实例`,
    );
  const calendarProblem = offeredCalendarProblem(shape.calendar);
  if (calendarProblem)
    return bad(
      `the calendar sent is refused: ${calendarProblem.message}`,
      `发送的工作日历被拒绝：${calendarProblem.zh}`,
    );
  let hash: string;
  try {
    hash = hashProcedure(shape.ir);
  } catch {
    return bad('the definition sent is not a procedure', '发送的定义不是程序');
  }
  if (hash !== shape.hash)
    return bad(
      `the definition sent hashes to ${hash}, not ${shape.hash}`,
      `发送的定义哈希为 ${hash}，而不是 ${shape.hash}`,
    );
  if (hash === current.hash)
    return {
      refused: {
        code: 'SAME_VERSION',
        message: `the instance already runs ${current.ir.id} ${current.ir.version}`,
        zh: `该实例已在运行 ${current.ir.id} ${current.ir.version}`,
      },
    };
  if (current.state.seq !== shape.seq)
    return {
      refused: {
        code: 'STATE_CHANGED',
        message: `the instance has moved since the plan (seq ${current.state.seq}, planned at ${shape.seq}); dry-run again`,
        zh: `该实例在计划之后已变化（序号 ${current.state.seq}，计划时为 ${shape.seq}）；请重新试运行`,
      },
    };
  let proc: CompiledProcedure;
  try {
    proc = compile(shape.ir);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return bad(`the new version does not compile: ${why}`, `新版本无法编译：${why}`);
  }
  const problems = (ctx: Record<string, Json>): string | undefined => {
    const p = proc.schemas.startInputProblems(ctx);
    return p.length ? formatProblems(p) : undefined;
  };
  const planned = planMigration(
    current.ir,
    shape.ir,
    current.state,
    now,
    problems,
    current.calls,
    current.timing,
  );
  const { plan } = planned;
  if (!planned.state || plan.code)
    return {
      refused: {
        code: plan.code ?? 'BAD_MIGRATION',
        message: plan.message ?? 'not migrated',
        zh: plan.zh ?? '未迁移',
        plan,
      },
    };
  const seq = current.state.seq + 1;
  const data: Record<string, Json> = {
    fromVersion: current.ir.version,
    fromHash: current.hash,
    toVersion: shape.ir.version,
    toHash: hash,
  };
  if (Object.keys(plan.mapped).length) data.mapped = plan.mapped;
  if (plan.added.length) data.added = plan.added;
  if (plan.dropped.length) data.dropped = plan.dropped;
  if (current.adoptsCalendar) data.calendar = current.adoptsCalendar.id;
  const record: TransitionRecord = {
    seq,
    at: new Date(now).toISOString(),
    event: MIGRATE_EVENT,
    actor: { id: actor.id, roles: [...actor.roles] },
    from: plan.from,
    to: leafPaths(proc, planned.state.value),
    clauses: [],
    data,
  };
  return { step: { state: { ...planned.state, seq }, record, plan }, proc };
}
