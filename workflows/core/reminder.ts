/**
 * A manager's reminder (the `remind` update, sent from the stalled view): a `$remind` record in
 * the instance log whose effects are notifications to the roles the active tasks await — the
 * same `notify` effect a definition's action makes, so the records store fans it out to the
 * holders of the role who may see the instance's client, through the notification outbox. The
 * state does not change. Only an assigner (`assignersOf`) reminds.
 */
import { assignersOf } from './assignment-rule.ts';
import { tasksOf } from './assignment.ts';
import type { NotifyEffect } from './actions/notify.ts';
import type { CompiledProcedure } from './compile.ts';
import type { Actor } from './ir.ts';
import type { Rejection } from './rejections.ts';
import type { InstanceState, TransitionRecord } from './runtime.ts';

/** The event type of a reminder's record. */
export const REMIND_EVENT = '$remind';

/** Argument of the `remind` update. */
export interface RemindInput {
  actor: Actor;
  assertion?: string;
}

/** Result of the `remind` update: the record's seq and who was reminded of which states. */
export interface RemindResult {
  seq: number;
  roles: string[];
  states: string[];
}

/** Why `input` may not remind now, or undefined. */
export function remindRefusal(
  proc: CompiledProcedure,
  state: InstanceState,
  input: RemindInput,
  authenticate?: (actor: Actor, assertion: unknown) => Rejection | undefined,
): Rejection | undefined {
  const actor = (input as Partial<RemindInput> | null | undefined)?.actor as Partial<Actor> | undefined;
  if (state.done)
    return {
      code: 'INSTANCE_FINISHED',
      message: 'this instance has finished; nobody is awaited',
      zh: '此实例已结束，不等待任何人',
    };
  if (!actor || typeof actor.id !== 'string' || !actor.id || !Array.isArray(actor.roles))
    return {
      code: 'BAD_ACTOR',
      message: 'a reminder needs an actor { id, roles[] }',
      zh: '提醒需要操作人 { id, roles[] }',
    };
  const unauthenticated = authenticate?.(actor as Actor, input.assertion);
  if (unauthenticated) return unauthenticated;
  const assigners = assignersOf(proc.ir);
  if (!actor.roles.some((r) => assigners.includes(r)))
    return {
      code: 'ASSIGNMENT_NOT_ALLOWED',
      message: `only an assigner (${assigners.join(', ') || 'none declared'}) may send reminders`,
      zh: `只有分派人（${assigners.join('、') || '未声明'}）可以发送提醒`,
    };
  if (!tasksOf(proc, state).length)
    return {
      code: 'ASSIGNMENT_NOT_ALLOWED',
      message: 'nobody is awaited in this instance now',
      zh: '此实例当前不等待任何人',
    };
  return undefined;
}

/** The reminder's record (next seq, state unchanged) and its notifications. */
export function applyReminder(
  proc: CompiledProcedure,
  state: InstanceState,
  actor: Actor,
  workflowId: string,
  now: number,
): { state: InstanceState; record: TransitionRecord; effects: NotifyEffect[]; result: RemindResult } {
  const tasks = tasksOf(proc, state);
  const roles = [...new Set(tasks.flatMap((t) => t.roles))].sort();
  const leaves = tasks.map((t) => t.state);
  const names = (lang: 'zh' | 'en'): string =>
    tasks
      .map((t) => {
        const title = proc.nodes.get(t.state)?.title[lang] ?? t.state;
        const who = t.assignee
          ? lang === 'zh'
            ? `（处理人：${t.assignee}）`
            : ` (assigned to ${t.assignee})`
          : '';
        return `${title}${who}`;
      })
      .join(lang === 'zh' ? '；' : '; ');
  const message = {
    zh: `催办：${proc.ir.title.zh} ${workflowId} 仍在等待处理：${names('zh')}。`,
    en: `Reminder: ${proc.ir.title.en} ${workflowId} is still waiting: ${names('en')}.`,
  };
  const effects: NotifyEffect[] = roles.map((to) => ({ kind: 'notify', to, message }));
  const next: InstanceState = { ...state, seq: state.seq + 1 };
  const record: TransitionRecord = {
    seq: next.seq,
    at: new Date(now).toISOString(),
    event: REMIND_EVENT,
    actor,
    from: leaves,
    to: leaves,
    clauses: [],
    data: { states: leaves, roles },
  };
  return { state: next, record, effects, result: { seq: next.seq, roles, states: leaves } };
}
