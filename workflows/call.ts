/**
 * Called procedures in the `procedure` workflow (`call:` of a state; the pure part is
 * `core/call.ts`). While a calling state is active, its called instance runs as a Temporal child
 * workflow of this one:
 *
 * - started when the state is entered (its id from this instance's id, the state and the seq of
 *   the transition that entered it: `calledWorkflowId`), with the callee's current deployed
 *   version (the `resolveCallee` activity, so the version is in this history);
 * - its end (completed in a final state, failed, terminated, cancelled) is applied here as the
 *   engine event of that outcome (`callOutcomeEvent`), a transition like any other: in the log,
 *   committed to the audit;
 * - leaving the state otherwise (a timer, a person's event, this instance cancelled) cancels it;
 * - parent close policy REQUEST_CANCEL: if this instance closes while the callee runs (terminated,
 *   failed, timed out), the server asks the callee to cancel — it is never left running for a
 *   caller that will not take its outcome, and never killed without its own cancellation record.
 *
 * Behind `patched('call')`, taken only when a call starts (histories without calls never meet it).
 * Continue-as-new waits while a call runs (a child belongs to the run that started it). A migration
 * syncs the calls with the new version (patch `migration-arms`): those of the states it moves into
 * start — also when the run started without any call. It never ends a running call: a move that
 * would leave its state, drop it or re-point it to another procedure is refused
 * (`core/migration-calls.ts`, patch `migration-running-calls`); one recorded before that patch
 * cancelled the calls of the states it left, and replays so.
 */
import {
  CancellationScope,
  ParentClosePolicy,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { Patches } from './patches.ts';
import type { SearchAttributePair } from '@temporalio/common';
import type { CompiledProcedure } from './core/compile.ts';
import { SYSTEM_ACTOR } from './core/compile.ts';
import type { Json, ProcedureIR } from './core/ir.ts';
import { applySystemEvent, type InstanceState, type Step } from './core/runtime.ts';
import {
  callOutcomeEvent,
  calledWorkflowId,
  hasCalls,
  neededCalls,
  type CallResult,
  type NeededCall,
} from './core/call.ts';
import type { RunningCall } from './core/migration-calls.ts';
import type { CallLink, ProcedureInput, ProcedureSnapshot } from './api.ts';
import { CustodiaClient, CustodiaProcedure, CustodiaVersion } from './search-attributes.ts';

/** Patch id of called procedures. */
export const PATCH_CALL = 'call';

/** Activities the calls need (implemented in `worker/activities/call.activities.ts`). */
export interface CallActivities {
  /** The current deployed version of `procedure`; fails (not retried) when it is not deployed. */
  resolveCallee(procedure: string): Promise<{ ir: ProcedureIR; hash: string }>;
}

const { resolveCallee } = proxyActivities<CallActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 5 },
});

export interface CallHooks {
  /** This run's patches (`patches.ts`). */
  patches: Patches;
  proc: CompiledProcedure;
  workflowId: string;
  state(): InstanceState;
  /** Take a step (the workflow's `accept`: log, commit, search attributes, timers, calls). */
  accept(s: Step): void;
}

export interface Calls {
  /** Start the calls the active states need, cancel those of states left. After every step. */
  sync(): void;
  /**
   * After a migration (patch `migration-arms`, `workflows/migration.ts`): from now on the calls
   * follow the current definition even if the run started without any; then {@link sync}.
   */
  armMigrated(): void;
  /** A called instance is running (continue-as-new waits). */
  running(): boolean;
  /** The calls running now (a migration must not end them: `core/migration-calls.ts`). */
  runningCalls(): RunningCall[];
  /** Every call of this instance so far (the snapshot's `calls`). */
  links(): CallLink[];
}

interface Running {
  scope: CancellationScope;
  /** Entry time of the calling state: a re-entry is a new call. */
  enteredAt: number;
  link: CallLink;
}

/** The calls of an instance (`carried`: those of earlier runs). */
export function installCalls(h: CallHooks, carried: CallLink[] = []): Calls {
  const links: CallLink[] = [...carried];
  const running = new Map<string, Running>();
  // Set by a migration: the calls of whatever version the instance runs now count.
  let migrated = false;
  const started = hasCalls(h.proc.nodes);
  const isOn = (): boolean => started || (migrated && hasCalls(h.proc.nodes));

  const finish = (entry: Running, result: CallResult): void => {
    const path = entry.link.state;
    if (running.get(path) !== entry) return;
    running.delete(path);
    const node = h.proc.nodes.get(path);
    if (!node) return;
    const now = Date.now();
    const event = callOutcomeEvent(node, entry.link.workflowId, result, now);
    const outcome = event.data?.['outcome'];
    entry.link.status =
      result.kind === 'done' && outcome !== 'failed'
        ? 'done'
        : outcome === 'cancelled'
          ? 'cancelled'
          : 'failed';
    if (typeof outcome === 'string') entry.link.outcome = outcome;
    const reason = event.data?.['reason'];
    if (typeof reason === 'string') entry.link.reason = reason;
    const s = applySystemEvent(h.proc, h.state(), event, SYSTEM_ACTOR, now);
    if (s) h.accept(s);
  };

  const start = (need: NeededCall, state: InstanceState): void => {
    const workflowId = calledWorkflowId(h.workflowId, need.path, state.seq, need.procedure);
    const link: CallLink = {
      state: need.path,
      workflowId,
      procedure: need.procedure,
      seq: state.seq,
      status: 'running',
    };
    links.push(link);
    const scope = new CancellationScope();
    const entry: Running = { scope, enteredAt: state.enteredAt[need.path] ?? 0, link };
    running.set(need.path, entry);
    scope
      .run(async () => {
        const callee = await resolveCallee(need.procedure);
        const input: ProcedureInput = {
          ir: callee.ir,
          hash: callee.hash,
          context: need.input,
          starter: SYSTEM_ACTOR,
          parent: { workflowId: h.workflowId, seq: state.seq },
        };
        const child = await startChild<(input: ProcedureInput) => Promise<ProcedureSnapshot>>('procedure', {
          workflowId,
          args: [input],
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
          taskQueue: workflowInfo().taskQueue,
          typedSearchAttributes: calleeAttributes(callee.ir, need.input),
        });
        return await child.result();
      })
      .then(
        (snap) => finish(entry, { kind: 'done', state: snap.state, context: snap.context }),
        (err: unknown) => {
          // Cancelled by this instance (its state left, or it is being cancelled): nothing to take.
          if (scope.consideredCancelled) return;
          finish(entry, classify(err));
        },
      );
  };

  const sync = (): void => {
    if (!isOn()) return;
    const state = h.state();
    const needed = neededCalls(h.proc.nodes, state.value, state.context, state.done);
    for (const [path, entry] of running) {
      if (needed.some((n) => n.path === path) && state.enteredAt[path] === entry.enteredAt) continue;
      running.delete(path);
      entry.link.status = 'cancelled';
      entry.link.reason = 'the calling state was left';
      entry.scope.cancel();
    }
    for (const need of needed) {
      if (running.has(need.path) || !h.patches.has(PATCH_CALL)) continue;
      start(need, state);
    }
  };

  const armMigrated = (): void => {
    migrated = true;
    sync();
  };

  const runningCalls = (): RunningCall[] =>
    [...running.values()].map(({ link }) => ({
      state: link.state,
      procedure: link.procedure,
      workflowId: link.workflowId,
    }));

  return { sync, armMigrated, running: () => running.size > 0, runningCalls, links: () => links };
}

/** How a called instance's end is classified (by failure names, never `instanceof`). */
function classify(err: unknown): CallResult {
  const e = err as { name?: string; message?: string; cause?: { name?: string; message?: string } };
  if (e?.name === 'ChildWorkflowFailure' && e.cause?.name === 'CancelledFailure')
    return { kind: 'cancelled' };
  const cause = e?.cause;
  if (cause?.name === 'TerminatedFailure') return { kind: 'failed', reason: 'terminated' };
  const reason = cause?.message || e?.message || String(err);
  return { kind: 'failed', reason };
}

/** The search attributes a called instance starts with (as `startSearchAttributes` on the worker). */
function calleeAttributes(ir: ProcedureIR, input: Record<string, Json>): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [
    { key: CustodiaProcedure, value: ir.id },
    { key: CustodiaVersion, value: ir.version },
  ];
  const client = ir.clientField ? input[ir.clientField] : undefined;
  if (typeof client === 'string' && client) pairs.push({ key: CustodiaClient, value: client });
  return pairs;
}
