/**
 * The one rule of whether a transition may be taken: `checkTransition`. The compiled machine's
 * guard (`compile.ts`), the update validator's explanation (`explainRejection` in `runtime.ts`)
 * and the list of events a role may send now (`availableTo`) all ask it, so what is refused and
 * the reason given for it cannot drift apart.
 *
 * For an event transition, in order: the actor's roles, the state's assignee (only they send the
 * events of an assigned state, `assignment-rule.ts`), separation of duties, the event's data
 * (storable text, the event's schema, then the transition's own schema), the CEL guard. A delayed
 * or eventless (`on_done`, `always`) transition has only its guard.
 */
import { assignmentRefusal } from './assignment-rule.ts';
import { attachmentRefusal, withoutAttachments } from './attachments.ts';
import { evaluateGuard, referencedPaths } from './expressions.ts';
import { textIn } from './languages.ts';
import type { DelayedTransitionIR, EventlessTransitionIR, ProcedureIR, TransitionIR } from './ir.ts';
import { scopeOf, type MachineContext, type MachineEvent } from './machine-context.ts';
import type { Rejection } from './rejections.ts';
import { formatProblems, type SchemaSet } from './schemas.ts';
import { unstorableText } from './storable.ts';

/** What the rule reads of a procedure (a `CompiledProcedure` is one). */
export interface AcceptanceRules {
  ir: ProcedureIR;
  schemas: SchemaSet;
}

export interface CheckOptions {
  /**
   * Judge without the event's data (what a role may send *now*, before filling a form): data
   * schemas are skipped and a guard that reads `data` counts as possibly true.
   */
  withoutData?: boolean;
  /** Judge a role, not a person: who the state's task is assigned to does not matter. */
  anyAssignee?: boolean;
}

/**
 * Why `transition` may not be taken by `event` in `context`, or `undefined` when it may.
 * Pure and synchronous. A transition's own data schema selects among an event's transitions, so
 * its failure is a `GUARD_FALSE` like a false guard; the event's schema failing is `INVALID_DATA`.
 */
export function checkTransition(
  rules: AcceptanceRules,
  context: MachineContext,
  event: MachineEvent,
  transition: TransitionIR | DelayedTransitionIR | EventlessTransitionIR,
  options: CheckOptions = {},
): Rejection | undefined {
  const withData = !options.withoutData;
  if ('roles' in transition) {
    const type = transition.event ?? event.type;
    const actor = event.actor;
    if (!actor || !transition.roles.some((r) => actor.roles.includes(r))) {
      const roles = transition.roles.join(', ') || '(none)';
      return {
        code: 'ROLE_NOT_ALLOWED',
        message: `${type} needs one of the roles ${roles}`,
        zh: `${type} 需要以下角色之一：${roles}`,
      };
    }
    if (!options.anyAssignee) {
      const notAssignee = assignmentRefusal(rules.ir, context, transition, type, actor.id);
      if (notAssignee) return notAssignee;
    }
    const conflict = dutyConflict(rules.ir, context._actors, type, actor.id);
    if (conflict) {
      const rule = rules.ir.duties.find((d) => d.event === type && d.distinctFrom.includes(conflict));
      const text = rule?.message;
      const why = (lang: 'zh' | 'en'): string => {
        const t = textIn(text, lang, rules.ir.languages);
        return t ? (lang === 'zh' ? `（${t}）` : ` (${t})`) : '';
      };
      return {
        code: 'DUTY_CONFLICT',
        message: `separation of duties: ${actor.id} sent ${conflict}, so ${actor.id} may not send ${type}${why('en')}`,
        zh: `职责分离：${actor.id} 已执行 ${conflict}，因此不能执行 ${type}${why('zh')}`,
      };
    }
    if (withData) {
      const unstorable = unstorableText(event.data);
      if (unstorable)
        return {
          code: 'INVALID_DATA',
          message: `${type} data rejected: ${unstorable}`,
          zh: `${type} 的数据被拒绝：${unstorable}`,
        };
      // `data.attachments` is the engine's (attachments.ts): the event's schema sees the rest.
      const data = withoutAttachments(event.data);
      if (!rules.schemas.eventData(type, data)) {
        const problems = formatProblems(rules.schemas.eventDataProblems(type, data));
        return {
          code: 'INVALID_DATA',
          message: `${type} data rejected: ${problems}`,
          zh: `${type} 的数据不符合要求：${problems}`,
        };
      }
      const attachments = attachmentRefusal(rules.ir, type, event.data);
      if (attachments) return attachments;
      if (transition.data && !rules.schemas.transitionData(transition.pointer, data)) {
        const problems = formatProblems(rules.schemas.transitionDataProblems(transition.pointer, data));
        return { code: 'GUARD_FALSE', message: problems, zh: `数据不满足此步骤的条件：${problems}` };
      }
    }
  }
  if (!transition.guard) return undefined;
  if (!withData && readsData(transition.guard)) return undefined;
  return evaluateGuard(transition.guard, scopeOf(context, event))
    ? undefined
    : {
        code: 'GUARD_FALSE',
        message: `condition not met: ${transition.guard}`,
        zh: `条件不满足：${transition.guard}`,
      };
}

/** Is `actorId` barred from sending `event` by a separation-of-duties rule? Returns the rule's other event. */
export function dutyConflict(
  ir: ProcedureIR,
  actors: Record<string, string[]>,
  event: string,
  actorId: string,
): string | undefined {
  for (const rule of ir.duties) {
    if (rule.event !== event) continue;
    const other = rule.distinctFrom.find((e) => actors[e]?.includes(actorId));
    if (other) return other;
  }
  return undefined;
}

function readsData(guard: string): boolean {
  return referencedPaths(guard).some((p) => p === 'data' || p.startsWith('data.'));
}
