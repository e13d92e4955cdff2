/**
 * A migration never ends a running called instance. While a calling state is active its `call:`
 * runs as an instance of its own procedure, with its own people, records and invariants (a
 * violation case must end closed-effective, DOMAIN invariant 8) and its own pinned version:
 * changing the *caller's* definition is no reason to cancel it, and starting the new callee beside
 * it would do the work twice and map the old instance's outcome through an `on_done` written for
 * another procedure. So a move that would leave a calling state whose call runs, drop that call,
 * or make the state call another procedure is refused (`CALL_RUNNING`) — by the plan, so the dry
 * run says it per instance and the `migrate` update refuses it alike. The way on is explicit and
 * audited: let the call end (or cancel the called instance, which the caller takes as its
 * `on_cancelled`), then dry-run again. A move that keeps the state (same path, same entry time) and
 * its callee keeps the call running; its outcome is taken by the new version's `on_done`.
 */
import type { StateIR } from './ir.ts';

/** A call running now: its calling state, the procedure it called, the called instance's id. */
export interface RunningCall {
  state: string;
  procedure: string;
  workflowId: string;
}

/** A running call a move would end, and why (English, Chinese). */
export interface EndedCall {
  call: RunningCall;
  why: string;
  zh: string;
}

/**
 * The running calls a move to the new version's active states `active` (paths) would end: the
 * calling state not active after the move, or calling nothing or another procedure there.
 */
export function callsEndedBy(
  running: readonly RunningCall[],
  newNodes: ReadonlyMap<string, StateIR>,
  active: ReadonlySet<string>,
): EndedCall[] {
  const out: EndedCall[] = [];
  for (const call of running) {
    const callee = newNodes.get(call.state)?.call?.procedure;
    if (!active.has(call.state))
      out.push({ call, why: `the move leaves ${call.state}`, zh: `迁移会离开 ${call.state}` });
    else if (callee === undefined)
      out.push({
        call,
        why: `${call.state} calls nothing in the new version`,
        zh: `新版本中 ${call.state} 不再调用任何程序`,
      });
    else if (callee !== call.procedure)
      out.push({
        call,
        why: `${call.state} calls ${callee} in the new version`,
        zh: `新版本中 ${call.state} 调用的是 ${callee}`,
      });
  }
  return out;
}

/** The refusal text of a move that would end `ended` (non-empty). */
export function callRunningRefusal(ended: readonly EndedCall[]): { message: string; zh: string } {
  const en = ended.map(
    (e) => `${e.call.procedure} (${e.call.workflowId}) called from ${e.call.state} is running and ${e.why}`,
  );
  const zh = ended.map(
    (e) => `${e.call.state} 调用的 ${e.call.procedure}（${e.call.workflowId}）正在运行，而${e.zh}`,
  );
  return {
    message:
      `${en.join('; ')}: a migration never ends a called instance — ` +
      'let the call end (or cancel the called instance), then dry-run again',
    zh: `${zh.join('；')}：迁移不会结束被调用的实例——请等待调用结束（或取消被调用的实例）后重新试运行`,
  };
}
