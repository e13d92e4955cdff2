/**
 * The one generic interpreter workflow, `procedure`: runs any compiled procedure definition.
 *
 * - The definition (IR) and its hash arrive as input and stay pinned for the instance's life.
 * - The update `event` carries people's decisions. Its synchronous validator refuses anything the
 *   definition does not allow (state, role, separation of duties, data form, guard) before
 *   anything enters history; the handler applies the transition and returns at once.
 * - Delayed transitions are durable timers keyed by XState's send id, with deadlines kept in the
 *   instance state, cancelled when the state is left, carried over continue-as-new.
 * - Each accepted transition is committed by one idempotent activity (audit record + effects),
 *   in order, by the main loop.
 * - Search attributes follow every transition.
 * - The engine believes no actor it is sent: the validator verifies the event's actor assertion
 *   (`core/assertion.ts`) against the public keys the worker bundled in (`TRUSTED_ACTOR_KEYS`),
 *   and the store's receipt of every attached file (`core/attachments.ts`) against the same keys.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { compileProcedure, type CompiledProcedure } from './core/compile.ts';
import { hashProcedure } from './core/hash.ts';
import { sensitiveValues, startRefusal } from './core/start-fields.ts';
import { checkActorAssertion } from './core/assertion.ts';
import { receiptRefusal } from './core/attachment-receipts.ts';
import type { Actor } from './core/ir.ts';
import {
  applyEvent,
  availableTo,
  describeInstance,
  explainRejection,
  fireTimer,
  dropTimer,
  leafPaths,
  publicContext,
  startInstance,
  type InstanceState,
  type Rejection,
  type Step,
  type TransitionRecord,
} from './core/runtime.ts';
import { commitInActivation, commitTransition } from './audit-commit.ts';
import { assigneeAttribute, installAssignment, installReminder } from './assignment.ts';
import { installCalls } from './call.ts';
import { assigneesOf, tasksOf, withoutStaleAssignees } from './core/assignment.ts';
import { installMigration } from './migration.ts';
import { installSla } from './sla.ts';
import { runPatches } from './patches.ts';
import { installTimers, PATCH_LAZY_TIMERS } from './timers.ts';
import {
  FAILURE_TYPES,
  eventUpdate,
  searchAttributesQuery,
  snapshotQuery,
  type ChildLink,
  type EventResult,
  type ProcedureInput,
  type ProcedureSnapshot,
  type SignedEventInput,
  type TransitionCommit,
} from './api.ts';
import {
  CustodiaAwaiting,
  CustodiaClient,
  CustodiaDueAt,
  CustodiaProcedure,
  CustodiaState,
  CustodiaStateSince,
  CustodiaVersion,
  SEARCH_ATTRIBUTES_BURST_MS,
  SEARCH_ATTRIBUTES_EVERY_MS,
  attributeValues,
} from './search-attributes.ts';

/** Patch: upsert only the search attributes that changed (histories recorded before it replay). */
const PATCH_UPSERT_CHANGED_ONLY = 'upsert-changed-search-attributes-only';

/**
 * Patch: search attributes upserted at most once per `SEARCH_ATTRIBUTES_EVERY_MS` — a change within
 * that time of the last upsert is upserted at its end, with every other change made until then
 * (one timer). A transition after a quiet second is visible at once, as before; a burst of
 * transitions on one instance (an automated client, a bulk action) costs the server one visibility
 * write per second instead of one per transition — the upsert doubles the server's CPU per
 * transition (test/bench/visibility-cost.ts). The run's last change is upserted before it ends.
 */
const PATCH_COALESCE_SEARCH_ATTRIBUTES = 'coalesce-search-attributes';

/**
 * Patch (on top of coalescing): the coalescing timer is cancellable, and the run's end cancels it —
 * the closing task upserts the last change itself (the server drops a firing that raced it). And a
 * burst gets a longer window: a change within `SEARCH_ATTRIBUTES_EVERY_MS` of an upsert that was
 * itself deferred (the changes keep coming) is upserted `SEARCH_ATTRIBUTES_BURST_MS` after it.
 * A change after a quiet second is still upserted at once, and one within a second of that at the
 * second's end. A burst costs the server a visibility write and a timer per window instead of per
 * second, and a run that ends in one no timer firing for its last change.
 */
const PATCH_BURST_WINDOW = 'search-attributes-burst-window';

/** Patch: a start may set only input fields, and only a start role may start by hand. */
const PATCH_START_INPUT = 'start-input';

/** Throws the refusal of a start (input fields, start roles), if any. */
function refuseStart(ir: ProcedureInput['ir'], input: ProcedureInput): void {
  const refusal = startRefusal(ir, input.context, input.starter, { linked: input.parent !== undefined });
  if (refusal) throw new Error(refusal.message);
}

/**
 * The Ed25519 public keys (base64url, comma-separated) whose actor assertions this deployment
 * trusts: written into the workflow bundle by the worker (`workflowBundle` in worker/worker.ts),
 * from the actor key it signs with or CUSTODIA_ACTOR_PUBLIC_KEYS (several during a rotation).
 * Only the update validator reads them, and validators do not run on replay: they are in no
 * history, so instances started before assertions existed are checked like new ones, old
 * histories replay, and continue-as-new has nothing to carry. A bundle without keys refuses
 * every actor.
 */
declare const __CUSTODIA_ACTOR_KEYS__: string | undefined;
const TRUSTED_ACTOR_KEYS: readonly string[] =
  typeof __CUSTODIA_ACTOR_KEYS__ === 'string' ? __CUSTODIA_ACTOR_KEYS__.split(',').filter(Boolean) : [];

/** Continue-as-new well before Temporal's per-run limit of 2,000 updates. */
const DEFAULT_UPDATES_PER_RUN = 1000;

export async function procedure(input: ProcedureInput): Promise<ProcedureSnapshot> {
  // First: which patches this run follows (a new run records one marker for all of them).
  const patches = runPatches();
  // The definition, its hash and compiled form: pinned, changed only by a migration (migration.ts).
  let { ir, hash } = input;
  // The business calendar: pinned at start, or adopted at a migration (patch migration-calendar).
  let calendar = input.calendar;
  let proc: CompiledProcedure;
  try {
    if (!input.carried && hashProcedure(ir) !== input.hash)
      throw new Error(
        `definition hash mismatch: input says ${input.hash}, the definition hashes to ${hashProcedure(ir)}`,
      );
    proc = compileProcedure(ir, calendar ? { calendar } : {});
  } catch (err) {
    throw ApplicationFailure.nonRetryable(
      err instanceof Error ? err.message : String(err),
      FAILURE_TYPES.definition,
    );
  }
  const workflowId = workflowInfo().workflowId;
  /** The check of an update's actor against its assertion (the `event` validator; `assign` too). */
  const authenticator =
    (assertion: unknown, now: number) =>
    (actor: Actor): Rejection | undefined =>
      checkActorAssertion(assertion, TRUSTED_ACTOR_KEYS, { actor, workflowId, now });
  const clientOf = (s: InstanceState): string | undefined => {
    const v = ir.clientField ? s.context[ir.clientField] : undefined;
    return typeof v === 'string' && v ? v : undefined;
  };

  let state: InstanceState;
  let log: TransitionRecord[];
  let children: ChildLink[];
  const pending: TransitionCommit[] = [];
  // Once the main loop has written a commit in the activation (its patches are decided for this
  // run, in the order older histories recorded them), a later commit with none pending before it
  // is written in the activation where it is accepted: no wake-up of the main loop, no promise.
  // Otherwise the main loop commits it, in order.
  let commitsInActivation = false;
  const enqueue = (commit: TransitionCommit): void => {
    if (commitsInActivation && pending.length === 0 && commitInActivation(commit, patches)) return;
    pending.push(commit);
  };
  const runs = (input.carried?.runs ?? 0) + 1;
  let updatesThisRun = 0;
  const maxUpdatesPerRun = input.limits?.updatesPerRun ?? DEFAULT_UPDATES_PER_RUN;

  const commitOf = (s: Step): TransitionCommit => {
    const commit: TransitionCommit = {
      workflowId,
      procedure: ir.id,
      version: ir.version,
      hash,
      record: s.record,
      effects: s.effects,
    };
    const client = clientOf(s.state);
    if (client) commit.client = client;
    const secrets = sensitiveValues(ir, s.state.context);
    if (secrets.length) commit.sensitive = secrets;
    return commit;
  };

  if (input.carried) {
    ({ state, log, children } = input.carried);
    pending.push(...input.carried.pending);
  } else {
    let first: Step;
    try {
      // Only input fields, and only a starter with a start role (core/start-fields.ts).
      if (patches.has(PATCH_START_INPUT)) refuseStart(ir, input);
      first = startInstance(proc, input.context, input.starter, Date.now());
    } catch (err) {
      throw ApplicationFailure.nonRetryable(
        err instanceof Error ? err.message : String(err),
        FAILURE_TYPES.input,
      );
    }
    state = first.state;
    log = [first.record];
    children = [];
    enqueue(commitOf(first));
  }

  /** The search attributes as the instance is now (what the next upsert sets). */
  const currentAttributes = (): SearchAttributeUpdatePair[] => {
    const view = describeInstance(proc, state, Date.now());
    const dueAt = sla.dueAt(view.dueAt);
    const client = clientOf(state);
    const pairs: SearchAttributeUpdatePair[] = [
      { key: CustodiaProcedure, value: ir.id },
      { key: CustodiaVersion, value: ir.version },
      { key: CustodiaState, value: view.leaves },
      { key: CustodiaAwaiting, value: view.awaiting },
      { key: CustodiaStateSince, value: new Date(view.stateSince) },
      { key: CustodiaDueAt, value: dueAt === undefined ? null : new Date(dueAt) },
    ];
    if (client) pairs.push({ key: CustodiaClient, value: client });
    const assigned = assigneeAttribute(state);
    if (assigned) pairs.push(assigned);
    const escalation = sla.attribute();
    if (escalation) pairs.push(escalation);
    return pairs;
  };
  const syncSearchAttributes = (): void => {
    if (!patches.has(PATCH_UPSERT_CHANGED_ONLY)) {
      upsertSearchAttributes(currentAttributes());
      return;
    }
    // A coalescing timer runs: it upserts what will have changed by then.
    if (upsertDueAt !== undefined) return;
    // Only what changed since this run's last upsert (everything on the first): smaller history.
    const changed = currentAttributes().filter((p) => upserted.get(p.key.name) !== JSON.stringify(p.value));
    if (!changed.length) return;
    const now = Date.now();
    if (patches.has(PATCH_COALESCE_SEARCH_ATTRIBUTES) && now - lastUpsertAt < SEARCH_ATTRIBUTES_EVERY_MS) {
      // Changed again within the interval of the last upsert: one upsert at the interval's end
      // carries every change made until then (a timer; one at a time). With
      // `search-attributes-burst-window` the timer is cancellable, and when that last upsert was
      // itself such a deferred one — the changes keep coming: a burst — the window is longer.
      const cancellable = patches.has(PATCH_BURST_WINDOW);
      const burst = cancellable && lastUpsertDeferred;
      const due = lastUpsertAt + (burst ? SEARCH_ATTRIBUTES_BURST_MS : SEARCH_ATTRIBUTES_EVERY_MS);
      upsertDueAt = due;
      upsertTimerTask = workflowInfo().historyLength;
      const fire = (): void => {
        upsertDueAt = undefined;
        upsertTimer = undefined;
        const before = lastUpsertAt;
        syncSearchAttributes();
        if (lastUpsertAt !== before) lastUpsertDeferred = true;
      };
      const cancelled = (err: unknown): void => {
        if (!isCancellation(err)) throw err;
      };
      if (cancellable) {
        const scope = new CancellationScope();
        upsertTimer = scope;
        scope.run(() => sleep(due - now)).then(fire, cancelled);
      } else sleep(due - now).then(fire, cancelled);
      return;
    }
    for (const p of changed) upserted.set(p.key.name, JSON.stringify(p.value));
    upsertSearchAttributes(changed);
    lastUpsertAt = now;
    lastUpsertDeferred = false;
  };
  const upserted = new Map<string, string>();
  /** Whether this run's last upsert was a deferred one (by the coalescing timer): a burst goes on. */
  let lastUpsertDeferred = false;
  /** When this run last upserted (its workflow task's time); none yet: -Infinity. */
  let lastUpsertAt = -Infinity;
  /** When the coalescing timer that runs fires (it upserts what changed by then); none: undefined. */
  let upsertDueAt: number | undefined;
  /** The workflow task that started the coalescing timer (its history length). */
  let upsertTimerTask: number | undefined;
  /** The scope of a cancellable coalescing timer (`search-attributes-burst-window`) that runs. */
  let upsertTimer: CancellationScope | undefined;
  /**
   * Whether the run may end (close or continue as new) in this workflow task: not while a coalescing
   * timer started in an earlier task runs — it could fire while this one completes, and the server
   * fails a task that ends the run with new events pending (UnhandledCommand), the update it answers
   * with it. Then the run ends when the timer has fired (within a second). A timer started in this
   * task is ended with the run, and a cancellable one (`search-attributes-burst-window`) is
   * cancelled by the closing task (`endSearchAttributes`): the server drops its `TimerFired` if it
   * raced the task, and then lets the run end. Likewise a wake of the delayed transitions due soon
   * (`timers.ts`), which the run waits for.
   */
  const mayEndRun = (): boolean =>
    (upsertDueAt === undefined ||
      upsertTimer !== undefined ||
      upsertTimerTask === workflowInfo().historyLength) &&
    timers.mayEndRun();
  /** What `mayEndRun` waits for (before `lazy-timers` the wake's part is always true). */
  const endMayCome = (): boolean =>
    (upsertDueAt === undefined || upsertTimer !== undefined) && timers.mayEndRun();
  /**
   * Before the run ends (`mayEndRun` first): the coalescing timer that runs is ended — a
   * cancellable one cancelled (`search-attributes-burst-window`; the server drops a firing that
   * raced this task) — and, when the instance closes, what changed is upserted in its closing task.
   * Before a continue-as-new nothing is upserted: the next run upserts every attribute first.
   */
  const endSearchAttributes = (closing: boolean): void => {
    if (upsertDueAt === undefined) return;
    upsertTimer?.cancel();
    upsertTimer = undefined;
    upsertDueAt = undefined;
    if (!closing) return;
    lastUpsertAt = -Infinity;
    syncSearchAttributes();
  };

  // SLA reminders and escalations (workflows/sla.ts), before any handler: an update buffered in
  // the first activation is applied as soon as its handler is set. `$sla` records go through the
  // assignment hook's `record` (declared below; only called from a later timer).
  const sla = installSla({
    patches,
    // A getter: a migration (installMigration) may switch the definition.
    get proc() {
      return proc;
    },
    workflowId,
    get calendar() {
      return calendar;
    },
    state: () => state,
    log: () => log,
    record: (next, record, effects) => assignmentHooks.record(next, record, effects),
  });

  const accept = (s: Step): void => {
    // A state left for another leaves its assignment behind.
    state = withoutStaleAssignees(proc, s.state);
    log.push(s.record);
    enqueue(commitOf(s));
    syncSearchAttributes();
    armTimers();
    calls.sync();
  };

  // Durable timers of delayed transitions (workflows/timers.ts); the SLA's beside them.
  const timers = installTimers({
    lazy: patches.has(PATCH_LAZY_TIMERS),
    state: () => state,
    fire: (id, now) => {
      const s = fireTimer(proc, state, id, now);
      if (s) accept(s);
      else state = dropTimer(state, id);
    },
  });
  const armTimers = (): void => {
    timers.arm();
    sla.arm();
  };

  const buildSnapshot = (): ProcedureSnapshot => {
    const view = describeInstance(proc, state, Date.now());
    const snap: ProcedureSnapshot = {
      procedure: ir.id,
      version: ir.version,
      hash,
      title: ir.title,
      state: state.value,
      leaves: view.leaves,
      done: state.done,
      context: publicContext(state),
      available: view.available,
      awaiting: view.awaiting,
      stateSince: new Date(view.stateSince).toISOString(),
      timers: state.timers.map((t) => ({ event: t.event.type, dueAt: new Date(t.dueAt).toISOString() })),
      log,
      children,
      runs,
      assignees: { ...assigneesOf(state.context) },
      tasks: tasksOf(proc, state),
    };
    const dueAt = sla.dueAt(view.dueAt);
    if (dueAt !== undefined) snap.dueAt = new Date(dueAt).toISOString();
    const slaView = sla.view();
    if (slaView) snap.sla = slaView;
    if (input.parent) snap.parent = input.parent;
    if (calls.links().length) snap.calls = calls.links();
    return snap;
  };
  // Before any handler: an update in the first activation may accept a step (which syncs calls).
  const calls = installCalls(
    {
      patches,
      // A getter: a migration (installMigration) may switch the definition.
      get proc() {
        return proc;
      },
      workflowId,
      state: () => state,
      accept,
    },
    input.carried?.calls,
  );

  setHandler(snapshotQuery, buildSnapshot);
  setHandler(searchAttributesQuery, () => attributeValues(currentAttributes()));

  setHandler(
    eventUpdate,
    (event: SignedEventInput): EventResult => {
      // The validator verified the assertion; the record keeps the actor it vouched for.
      const s = applyEvent(proc, state, event, Date.now());
      updatesThisRun++;
      accept(s);
      return {
        state: state.value,
        leaves: leafPaths(proc, state.value),
        seq: state.seq,
        done: state.done,
        available: availableTo(proc, state, event.actor, Date.now()),
      };
    },
    {
      validator: (event: SignedEventInput): void => {
        const now = Date.now();
        const rejection =
          explainRejection(proc, state, event, now, authenticator(event.assertion, now)) ??
          receiptRefusal(event.type, event.data, TRUSTED_ACTOR_KEYS, workflowId);
        if (rejection)
          throw ApplicationFailure.nonRetryable(
            rejection.message,
            FAILURE_TYPES.eventRejected,
            rejection.code,
            rejection.zh,
          );
      },
    },
  );

  // The `assign` update (workflows/assignment.ts): an assignment is a `$assign` record in the log.
  // `remind` likewise, a `$remind` record whose effects notify the awaited roles.
  const assignmentHooks = {
    patches,
    get proc() {
      return proc;
    },
    workflowId,
    state: () => state,
    record: (next: InstanceState, record: TransitionRecord, effects: Step['effects'] = []) => {
      state = next;
      log.push(record);
      enqueue(commitOf({ state: next, record, effects }));
      updatesThisRun++;
      syncSearchAttributes();
    },
    authenticate: (assertion: unknown, now: number) => authenticator(assertion, now),
  };
  installAssignment(assignmentHooks);
  installReminder(assignmentHooks);
  installMigration({
    patches,
    current: () => ({ ir, hash, state }),
    runningCalls: () => calls.runningCalls(),
    get compileOptions() {
      return calendar ? { calendar } : {};
    },
    adoptCalendar: (c) => {
      calendar = c;
    },
    switchTo: (next, record) => {
      ({ ir, hash, proc } = next);
      state = withoutStaleAssignees(proc, next.state);
      log.push(record);
      enqueue(commitOf({ state, record, effects: [] }));
      updatesThisRun++;
      syncSearchAttributes();
      armTimers();
    },
    armMigrated: () => {
      sla.armMigrated();
      syncSearchAttributes();
      armTimers();
      calls.armMigrated();
    },
    authenticate: (assertion, now) => authenticator(assertion, now),
  });

  // Called procedures (workflows/call.ts): child workflows while a calling state is active.
  syncSearchAttributes();
  armTimers();
  calls.sync();

  // Main loop: commit transitions in order; finish when done; continue-as-new before the limits.
  for (;;) {
    await condition(
      () =>
        pending.length > 0 ||
        (state.done && allHandlersFinished()) ||
        ((updatesThisRun >= maxUpdatesPerRun || workflowInfo().continueAsNewSuggested) && !calls.running()),
    );
    while (pending.length > 0) {
      const commit = pending[0]!;
      const done = commitTransition(commit, patches);
      // Written in the activation: no promise to await (`audit-commit.ts`).
      if ('then' in done) children.push(...(await done).children);
      else commitsInActivation = true;
      pending.shift();
    }
    if (state.done && allHandlersFinished() && pending.length === 0) {
      // The last change reaches the search attributes before the instance closes.
      if (!mayEndRun()) {
        await condition(endMayCome);
        continue;
      }
      endSearchAttributes(true);
      break;
    }
    if (
      !state.done &&
      !calls.running() &&
      (updatesThisRun >= maxUpdatesPerRun || workflowInfo().continueAsNewSuggested)
    ) {
      await condition(allHandlersFinished);
      if (pending.length > 0) continue;
      if (!mayEndRun()) {
        await condition(endMayCome);
        continue;
      }
      endSearchAttributes(false);
      return await continueAsNew<typeof procedure>({
        ...input,
        ir,
        hash,
        ...(calendar ? { calendar } : {}),
        carried: {
          state,
          log,
          pending,
          children,
          runs,
          ...(calls.links().length ? { calls: calls.links() } : {}),
        },
      });
    }
  }
  return buildSnapshot();
}
