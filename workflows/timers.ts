/**
 * The durable timers of delayed transitions (`after:`): when each pending delayed transition of the
 * instance (`state.timers`) is due, the workflow fires it (`fireTimer`).
 *
 * Before the patch `lazy-timers` every pending delayed transition had a Temporal timer of its own,
 * started when its state was entered and cancelled when it was left: a state with an `after:` cost
 * two commands, two history events and the server's timer bookkeeping on every entry and exit —
 * on every round of a review loop, although its timer almost never fires.
 *
 * With the patch a run has at most **one** Temporal timer for all of them, the *wake*, due at the
 * earliest pending transition's time. Leaving a state does not cancel it; entering one starts a new
 * wake only when its transition is due before the running wake. When the wake fires, every pending
 * transition then due fires (earliest first; one that an earlier one's step removed does not), and
 * the next wake is started for what is still pending. A wake that fires with nothing due costs one
 * workflow task — once per delay at most, where the per-transition timers cost two events on every
 * entry. Nothing fires earlier or later than before: the pending transitions and their due times are
 * the instance's state (`state.timers`, the snapshot's `timers`), as before.
 *
 * A run must not end (close or continue as new) in a workflow task while a timer started in an
 * earlier task may fire: the server fails a task that ends the run with new events pending
 * (UnhandledCommand), and the update it answers with it. A wake left behind by a state the instance
 * has left is such a timer, where a cancelled one was not: `mayEndRun` holds the run's end until a
 * wake due within {@link WAKE_END_MARGIN_MS} has fired (the main loop waits for it).
 */
import { CancellationScope, isCancellation, sleep, workflowInfo } from '@temporalio/workflow';
import type { InstanceState } from './core/runtime.ts';

export const PATCH_LAZY_TIMERS = 'lazy-timers';

/**
 * A wake due within this much of a task that would end the run is waited for (it could fire while
 * the task completes). A wake due later is left to the run's end, as a state's own timer always was.
 */
export const WAKE_END_MARGIN_MS = 2_000;

export interface TimerHooks {
  /** Whether this run follows `lazy-timers` (decided once, when the run starts). */
  lazy: boolean;
  state(): InstanceState;
  /** Fire the pending delayed transition `id` now (its step accepted, or the timer dropped). */
  fire(id: string, now: number): void;
}

export interface Timers {
  /** After every change of `state.timers`: start (or, before the patch, cancel) what it needs. */
  arm(): void;
  /** Whether the run may end in this workflow task (see the file's header). */
  mayEndRun(): boolean;
}

export function installTimers(h: TimerHooks): Timers {
  return h.lazy ? wakeTimer(h) : timerPerTransition(h);
}

/** Before `lazy-timers`: one cancellable timer per pending delayed transition. */
function timerPerTransition(h: TimerHooks): Timers {
  const armed = new Map<string, { dueAt: number; scope: CancellationScope }>();
  const arm = (): void => {
    const timers = h.state().timers;
    for (const [id, t] of armed)
      if (!timers.some((x) => x.id === id && x.dueAt === t.dueAt)) {
        t.scope.cancel();
        armed.delete(id);
      }
    for (const timer of timers) {
      if (armed.has(timer.id)) continue;
      const scope = new CancellationScope();
      armed.set(timer.id, { dueAt: timer.dueAt, scope });
      scope
        .run(() => sleep(Math.max(1, timer.dueAt - Date.now())))
        .then(
          () => {
            if (armed.get(timer.id)?.scope !== scope) return;
            armed.delete(timer.id);
            h.fire(timer.id, Date.now());
          },
          (err: unknown) => {
            if (!isCancellation(err)) throw err;
          },
        );
    }
  };
  return { arm, mayEndRun: () => true };
}

/** `lazy-timers`: one wake for the earliest pending delayed transition. */
function wakeTimer(h: TimerHooks): Timers {
  /** The running wake: when it fires, its scope, the task that started it (its history length). */
  let wake: { at: number; scope: CancellationScope; task: number } | undefined;
  /** While the wake's due transitions fire (each step re-arms): the next wake is started after. */
  let firing = false;

  const onWake = (): void => {
    const now = Date.now();
    // Earliest first; equal times in the order the state holds them (a stable sort).
    const due = h
      .state()
      .timers.filter((t) => t.dueAt <= now)
      .sort((a, b) => a.dueAt - b.dueAt);
    firing = true;
    try {
      for (const t of due)
        // An earlier one's step may have left the state that was waiting for this one.
        if (h.state().timers.some((x) => x.id === t.id && x.dueAt === t.dueAt)) h.fire(t.id, now);
    } finally {
      firing = false;
    }
    arm();
  };

  const arm = (): void => {
    if (firing) return;
    const timers = h.state().timers;
    if (!timers.length) return;
    let next = Infinity;
    for (const t of timers) next = Math.min(next, t.dueAt);
    // The running wake comes first (or at the same time): it will see to this one.
    if (wake && wake.at <= next) return;
    // Superseded by an earlier one: at most one wake runs.
    wake?.scope.cancel();
    const scope = new CancellationScope();
    const w = { at: next, scope, task: workflowInfo().historyLength };
    wake = w;
    scope
      .run(() => sleep(Math.max(1, next - Date.now())))
      .then(
        () => {
          if (wake !== w) return;
          wake = undefined;
          onWake();
        },
        (err: unknown) => {
          if (!isCancellation(err)) throw err;
        },
      );
  };

  return {
    arm,
    mayEndRun: () =>
      wake === undefined ||
      wake.task === workflowInfo().historyLength ||
      wake.at - Date.now() > WAKE_END_MARGIN_MS,
  };
}
