/**
 * Migrating running instances to another deployed version, client side: the dry run (every
 * running instance of a procedure classified, nothing changed) and the move of one instance (the
 * `migrate` update, signed for the admin). Shared by the HTTP API and `custodia migrate`.
 *
 * Per instance: its snapshot (version, state, context, seq), the version it runs (its IR, from
 * the definitions or the records store, checked against the hash it pinned), the plan
 * (`workflows/core/migration.ts` — the rule the workflow applies too), then, for a plan that
 * moves, the coverage check: the migrated configuration must be one the new version's proof
 * reached (`workflows/core/verify/reachable.ts`), or the instance cannot move (`NOT_COVERED`).
 * The workflow re-checks the plan against its own state at `seq` (anything moved since is
 * `STATE_CHANGED`), so what was checked is what moves.
 *
 * For a plan that moves, the dry run also says which of the new version's deadlines the move sets
 * off at once (`workflows/core/migration-deadlines.ts`): computed from the instance's own entry
 * times, pending timers and business calendar (the `migrationTimes` query), the `$sla` records
 * already in its log, and the migrated state the plan gives — the rules the workflow arms with.
 * An instance with no calendar moved to a version that counts working days adopts the current
 * calendar the update carries (`workflows/core/migration-calendar.ts`): the dry run counts with it.
 */
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Actor, Json, ProcedureIR } from '../../workflows/core/ir.ts';
import { compileProcedure } from '../../workflows/core/compile.ts';
import {
  planMigration,
  type MigrationClass,
  type MigrationPlan,
  type MigrationRefusal,
} from '../../workflows/core/migration.ts';
import type { MigrateResult } from '../../workflows/core/migration-step.ts';
import { calendarAfterMigration } from '../../workflows/core/migration-calendar.ts';
import {
  countDeadlines,
  migrationDeadlines,
  type DeadlineSummary,
  type DeadlineView,
  type InstanceDeadlines,
  type MigrationDeadline,
} from '../../workflows/core/migration-deadlines.ts';

export type { DeadlineSummary, DeadlineView, InstanceDeadlines };
import { parseDuration } from '../../workflows/core/duration.ts';
import { formatProblems } from '../../workflows/core/schemas.ts';
import { sentSlaKeys } from '../../workflows/core/sla.ts';
import { reachableSet, type ReachableSet } from '../../workflows/core/verify/reachable.ts';
import {
  MIGRATION_REFUSED,
  migrateUpdate,
  migrationTimesQuery,
  type MigrationTimes,
} from '../../workflows/migration.ts';
import type { ProcedureSnapshot } from '../../workflows/api.ts';
import { EVENT_ASSERTION_TTL_MS, type ActorSigner } from '../actor-keys.ts';
import type { LoadedDefinition } from '../definitions.ts';
import { calendarInput } from '../calendars.ts';
import { getSnapshot } from '../instances.ts';
import type { RecordsStore } from '../records/types.ts';
import { buildListQuery, listRows, type InstanceRow } from '../visibility.ts';

export interface MigrationDeps {
  client: Client;
  store: RecordsStore;
  definitions: ReadonlyMap<string, LoadedDefinition>;
}

/** The version instances move to. */
export interface MigrationTarget {
  ir: ProcedureIR;
  hash: string;
  version: string;
}

/** One instance's classification (the dry run's row, the batch's plan). */
export interface InstanceMigration {
  workflowId: string;
  client?: string;
  fromVersion: string;
  /** The instance's sequence number the plan was made at. */
  seq: number;
  plan: MigrationPlan;
  /**
   * A plan that moves (dry run): the new version's deadlines the move sets off at once and those
   * due soon. Absent when the instance's entry times could not be read (`deadlinesUnknown`).
   */
  deadlines?: InstanceDeadlines;
  /** Why the deadlines of a moving instance are unknown (it changed between two reads, …). */
  deadlinesUnknown?: string;
}

export interface DryRun {
  procedure: string;
  to: { version: string; hash: string };
  /** The new version's proof the coverage check used. */
  proof: { exhaustive: boolean; explored: number };
  total: number;
  counts: Record<MigrationClass, number>;
  /** What the moves set off: deadlines already due (fire at once) and due within `withinMs`. */
  deadlines: DeadlineSummary;
  instances: InstanceMigration[];
}

/** The default horizon of the dry run's `soon` deadlines: one hour. */
export const DEFAULT_DEADLINE_HORIZON_MS = 3_600_000;

/** The longest horizon a dry run looks ahead: 30 days. */
export const MAX_DEADLINE_HORIZON_MS = 30 * 86_400_000;

/** A dry run's horizon (`PT1H`, `P1D`…) in ms, or undefined when it is no duration or too long. */
export function parseHorizon(text: string): number | undefined {
  const ms = parseDuration(text);
  return ms !== undefined && ms <= MAX_DEADLINE_HORIZON_MS ? ms : undefined;
}

/** The classes and deadline totals of `instances` (the dry run's summary; again for a subset). */
export function summarize(
  instances: readonly InstanceMigration[],
  withinMs: number,
): { counts: Record<MigrationClass, number>; deadlines: DeadlineSummary } {
  const counts: Record<MigrationClass, number> = { moves: 0, needs_mapping: 0, cannot_move: 0 };
  for (const i of instances) counts[i.plan.class]++;
  const moving = instances.filter((i) => i.plan.class === 'moves');
  return {
    counts,
    deadlines: {
      withinMs,
      atOnce: countDeadlines(moving.map((i) => i.deadlines?.atOnce ?? [])),
      soon: countDeadlines(moving.map((i) => i.deadlines?.soon ?? [])),
      unknown: moving.filter((i) => !i.deadlines).length,
    },
  };
}

/** The most running instances one dry run or batch covers. */
export const MAX_MIGRATION = 10_000;

/** A migration the engine or the plan refused: the refusal code and reason. */
export class MigrationRefusedError extends Error {
  override name = 'MigrationRefusedError';
  constructor(
    message: string,
    readonly code: MigrationRefusal | 'UNKNOWN_VERSION' | 'TOO_MANY',
    readonly plan?: MigrationPlan,
  ) {
    super(message);
  }
}

/** The deployed version `version` of `procedure` (default: the current one). */
export async function migrationTarget(
  deps: MigrationDeps,
  procedure: string,
  version?: string,
): Promise<MigrationTarget> {
  const live = deps.definitions.get(procedure);
  if (live && (version === undefined || live.ir.version === version))
    return { ir: live.ir, hash: live.hash, version: live.ir.version };
  const v = version === undefined ? undefined : await deps.store.definitionVersion(procedure, version);
  if (!v)
    throw new MigrationRefusedError(
      `no deployed version ${version ?? '(current)'} of "${procedure}"`,
      'UNKNOWN_VERSION',
    );
  return { ir: v.ir, hash: v.hash, version: v.version };
}

/** The reachable set of a version's proof, explored once per process and hash (a few kept). */
const reachable = new Map<string, ReachableSet>();
export function proofOf(target: MigrationTarget): ReachableSet {
  let r = reachable.get(target.hash);
  if (!r) {
    r = reachableSet(target.ir);
    if (reachable.size >= 8) reachable.delete(reachable.keys().next().value as string);
    reachable.set(target.hash, r);
  }
  return r;
}

/** The running instances of `procedure` (within `scope`, a visibility clause), at most MAX_MIGRATION. */
export async function runningInstances(
  client: Client,
  procedure: string,
  scope?: string,
): Promise<InstanceRow[]> {
  const q = [buildListQuery({ procedure }), ...(scope ? [scope] : [])].join(' AND ');
  const rows = await listRows(client, q, MAX_MIGRATION + 1);
  if (rows.length > MAX_MIGRATION)
    throw new MigrationRefusedError(`more than ${MAX_MIGRATION} running instances`, 'TOO_MANY');
  return rows;
}

/** Versions instances run, by hash (from the definitions, else the records store). */
export class VersionIndex {
  private readonly byHash = new Map<string, ProcedureIR | undefined>();
  constructor(private readonly deps: MigrationDeps) {}
  async of(snap: ProcedureSnapshot): Promise<ProcedureIR | undefined> {
    if (this.byHash.has(snap.hash)) return this.byHash.get(snap.hash);
    const live = this.deps.definitions.get(snap.procedure);
    let ir = live?.hash === snap.hash ? live.ir : undefined;
    if (!ir) {
      const v = await this.deps.store.definitionVersion(snap.procedure, snap.version);
      ir = v?.hash === snap.hash ? v.ir : undefined;
    }
    this.byHash.set(snap.hash, ir);
    return ir;
  }
}

const refusedPlan = (
  from: string[],
  code: MigrationRefusal,
  message: string,
  zh: string,
  cls: MigrationClass = 'cannot_move',
): MigrationPlan => ({ class: cls, code, message, zh, from, to: [], mapped: {}, added: [], dropped: [] });

const isoOf = (d: MigrationDeadline): DeadlineView => ({
  ...d,
  at: new Date(d.at).toISOString(),
  since: new Date(d.since).toISOString(),
});

/** The instance's entry times, timers and calendar, or why not (an older worker has no such query). */
async function timesOf(client: Client, workflowId: string): Promise<MigrationTimes | string> {
  try {
    return await client.workflow.getHandle(workflowId).query(migrationTimesQuery);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Options of {@link planInstance}. */
export interface PlanOptions {
  /** Say which deadlines the move sets off (the dry run; the batch need not). */
  deadlines?: boolean;
  /** Horizon of the `soon` deadlines (ms; default one hour). */
  withinMs?: number;
  /** The time the deadlines are judged at (ms; default now). */
  now?: number;
}

/** Classify one instance (nothing changes): the plan, with the new proof's coverage checked. */
export async function planInstance(
  deps: MigrationDeps,
  versions: VersionIndex,
  target: MigrationTarget,
  workflowId: string,
  options: PlanOptions = {},
): Promise<InstanceMigration> {
  const snap = await getSnapshot(deps.client, workflowId);
  const seq = snap.log.at(-1)?.seq ?? 0;
  const client = typeof snap.context.client === 'string' ? snap.context.client : undefined;
  const base = { workflowId, fromVersion: snap.version, seq, ...(client ? { client } : {}) };
  if (snap.procedure !== target.ir.id)
    return {
      ...base,
      plan: refusedPlan(
        snap.leaves,
        'OTHER_PROCEDURE',
        `the instance runs ${snap.procedure}`,
        `该实例运行的是 ${snap.procedure}`,
      ),
    };
  if (snap.hash === target.hash)
    return {
      ...base,
      plan: refusedPlan(
        snap.leaves,
        'SAME_VERSION',
        `already on ${target.version}`,
        `已在 ${target.version}`,
      ),
    };
  const from = await versions.of(snap);
  if (!from)
    return {
      ...base,
      plan: refusedPlan(
        snap.leaves,
        'BAD_MIGRATION',
        `version ${snap.version} (${snap.hash}) is not among the deployed versions`,
        `版本 ${snap.version}（${snap.hash}）不在已部署的版本中`,
      ),
    };
  const proc = compiledOf(target);
  const problems = (ctx: Record<string, Json>): string | undefined => {
    const p = proc.schemas.startInputProblems(ctx);
    return p.length ? formatProblems(p) : undefined;
  };
  const now = options.now ?? Date.now();
  const running = (snap.calls ?? [])
    .filter((c) => c.status === 'running')
    .map((c) => ({ state: c.state, procedure: c.procedure, workflowId: c.workflowId }));
  // The calendar the instance counts in after the move: its own, or the one the move brings.
  const calendarOf = (times?: MigrationTimes) =>
    calendarAfterMigration(times?.calendar, target.ir, calendarInput(target.ir).calendar);
  const plan = (times?: MigrationTimes) =>
    planMigration(
      from,
      target.ir,
      {
        value: snap.state,
        context: { ...snap.context, _actors: {} },
        done: snap.done,
        enteredAt: times?.enteredAt ?? {},
        timers: times?.timers ?? [],
        seq,
      },
      now,
      problems,
      running,
      // As a migration now times them (patch `migration-working-day-timers`).
      { workingDayTimers: { calendar: times ? calendarOf(times) : undefined } },
    );
  const planned = plan();
  if (!planned.state) return { ...base, plan: planned.plan };
  const pub = Object.fromEntries(Object.entries(planned.state.context).filter(([k]) => !k.startsWith('_')));
  if (!proofOf(target).covers(planned.state.value, pub as Record<string, Json>))
    return {
      ...base,
      plan: {
        ...planned.plan,
        class: 'cannot_move',
        code: 'NOT_COVERED',
        message: `the proof of ${target.version} never reaches ${planned.plan.to.join(', ')} with this context: its invariants say nothing of it`,
        zh: `${target.version} 的证明从未在此上下文下到达 ${planned.plan.to.join('、')}：其不变量对此未作保证`,
      },
    };
  if (!options.deadlines) return { ...base, plan: planned.plan };
  // It moves: the deadlines need the entry times and timers the workflow would migrate with (the
  // class does not depend on them), read after the snapshot — at the same seq, or they are unknown.
  const times = await timesOf(deps.client, workflowId);
  if (typeof times === 'string')
    return {
      ...base,
      plan: planned.plan,
      deadlinesUnknown: `the instance's entry times could not be read: ${times}`,
    };
  if (times.seq !== seq)
    return {
      ...base,
      plan: planned.plan,
      deadlinesUnknown: `the instance moved while it was planned (seq ${seq} → ${times.seq}); dry-run again`,
    };
  const timed = plan(times).state;
  if (!timed) return { ...base, plan: planned.plan, deadlinesUnknown: 'no migrated state' };
  const d = migrationDeadlines(
    proc,
    timed,
    sentSlaKeys(snap.log),
    now,
    options.withinMs ?? DEFAULT_DEADLINE_HORIZON_MS,
    calendarOf(times),
  );
  return {
    ...base,
    plan: planned.plan,
    deadlines: { atOnce: d.atOnce.map(isoOf), soon: d.soon.map(isoOf) },
  };
}

const compiled = new Map<string, ReturnType<typeof compileProcedure>>();
function compiledOf(target: MigrationTarget): ReturnType<typeof compileProcedure> {
  let p = compiled.get(target.hash);
  if (!p) {
    p = compileProcedure(target.ir);
    if (compiled.size >= 8) compiled.delete(compiled.keys().next().value as string);
    compiled.set(target.hash, p);
  }
  return p;
}

/** Run `fn` over `items`, `n` at a time, keeping their order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  n: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
  return out;
}

/**
 * Classify every running instance of `procedure` (within `scope`) for a move to `target`, with the
 * deadlines each move sets off at once or within `withinMs` (default one hour).
 */
export async function dryRun(
  deps: MigrationDeps,
  procedure: string,
  target: MigrationTarget,
  scope?: string,
  options: { withinMs?: number } = {},
): Promise<DryRun> {
  const rows = await runningInstances(deps.client, procedure, scope);
  const versions = new VersionIndex(deps);
  const proof = proofOf(target);
  const withinMs = options.withinMs ?? DEFAULT_DEADLINE_HORIZON_MS;
  const now = Date.now();
  const instances = await mapLimit(rows, 8, async (r) => {
    try {
      return await planInstance(deps, versions, target, r.workflowId, { deadlines: true, withinMs, now });
    } catch (err) {
      // Finished (or gone) since it was listed.
      const why = err instanceof Error ? err.message : String(err);
      return {
        workflowId: r.workflowId,
        fromVersion: r.version ?? '',
        seq: 0,
        plan: refusedPlan(r.state, 'FINISHED', `not running: ${why}`, `未在运行：${why}`),
      };
    }
  });
  const { counts, deadlines } = summarize(instances, withinMs);
  return {
    procedure,
    to: { version: target.version, hash: target.hash },
    proof: { exhaustive: proof.exhaustive, explored: proof.explored },
    total: instances.length,
    counts,
    deadlines,
    instances,
  };
}

/** Send the `migrate` update for a planned instance, signed for `actor` (an admin). */
export async function migrateInstance(
  client: Client,
  signer: ActorSigner,
  target: MigrationTarget,
  planned: InstanceMigration,
  actor: Actor,
): Promise<MigrateResult> {
  if (planned.plan.class !== 'moves')
    throw new MigrationRefusedError(
      planned.plan.message ?? 'not movable',
      planned.plan.code ?? 'BAD_MIGRATION',
      planned.plan,
    );
  const assertion = signer.sign(actor, { workflowId: planned.workflowId, ttlMs: EVENT_ASSERTION_TTL_MS });
  try {
    return await client.workflow.getHandle(planned.workflowId).executeUpdate(migrateUpdate, {
      // The current calendar, as a new start would pin it: adopted only by an instance with none.
      args: [
        { ir: target.ir, hash: target.hash, seq: planned.seq, actor, assertion, ...calendarInput(target.ir) },
      ],
    });
  } catch (err) {
    if (
      err instanceof WorkflowUpdateFailedError &&
      err.cause instanceof ApplicationFailure &&
      err.cause.type === MIGRATION_REFUSED
    ) {
      const code = String(err.cause.details?.[0] ?? 'BAD_MIGRATION') as MigrationRefusal;
      throw new MigrationRefusedError(err.cause.message, code);
    }
    throw err;
  }
}

/** `1.0.0 → 2.0.0: submitted → review.pending` */
export function describeMove(from: string, to: string, plan: MigrationPlan): string {
  return `${from} → ${to}: ${plan.from.join(', ')} → ${plan.to.join(', ')}`;
}
