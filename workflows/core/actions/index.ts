/**
 * The action kinds, as a registry: one module per kind (`assign`, `record`, `notify`, `start`,
 * `deploy_definition`, `lookup`),
 * each with its normalisation, checks, expression sites and compilation (`kind.ts`). Every stage
 * goes through here instead of switching on `action.kind`, and an unknown kind is a positioned
 * diagnostic (`PROC_UNKNOWN_ACTION`) — never silently another kind.
 *
 * Adding a kind: its IR type in `ir.ts` (`ActionIR`) and its branch in the procedure schema, one
 * module here (the registry below does not compile without it), and, when it has an effect, that
 * effect in `Effect` and an executor in `worker/activities/effects.ts` (typed over `Effect['kind']`).
 */
import type { ActionIR } from '../ir.ts';
import { assign } from './assign.ts';
import { deployDefinition, type DeployDefinitionEffect } from './deploy-definition.ts';
import type { ActionConfig, ActionKind } from './kind.ts';
import { lookup, type LookupEffect } from './lookup.ts';
import { notify, type NotifyEffect } from './notify.ts';
import { record, type RecordEffect } from './record.ts';
import { start, type StartEffect } from './start.ts';

export type { ActionConfig, ActionKind, ActionSite, ValueSite } from './kind.ts';
export type { DeployDefinitionEffect, LookupEffect, NotifyEffect, RecordEffect, StartEffect };
export { ASSIGN_FIELDS } from './assign.ts';

/** The name of an action kind: the YAML key that introduces it and the IR's `kind`. */
export type ActionKindName = ActionIR['kind'];

/** Every action kind by name. Typed over `ActionIR['kind']`: a kind without a module does not compile. */
export const ACTION_KINDS: { readonly [K in ActionKindName]: ActionKind<Extract<ActionIR, { kind: K }>> } = {
  assign,
  record,
  notify,
  start,
  deploy_definition: deployDefinition,
  lookup,
};

/** An effect requested by a transition; run by the interpreter as an idempotent activity. */
export type Effect = RecordEffect | NotifyEffect | StartEffect | DeployDefinitionEffect | LookupEffect;

/** The kinds, in the order the documentation lists them. */
export const ACTION_KIND_NAMES = Object.keys(ACTION_KINDS) as ActionKindName[];

/** Is `name` a registered action kind? */
export function isActionKind(name: unknown): name is ActionKindName {
  return typeof name === 'string' && Object.hasOwn(ACTION_KINDS, name);
}

/** The registry entry of an action, or undefined when its kind is unknown (an IR from elsewhere). */
export function actionKindOf(action: { kind: string }): ActionKind<ActionIR> | undefined {
  return isActionKind(action.kind) ? (ACTION_KINDS[action.kind] as ActionKind<ActionIR>) : undefined;
}

/** Whether an effect of this kind reports back to its own instance (`ActionKind.reportsToInstance`). */
export function reportsToInstance(kind: string): boolean {
  return isActionKind(kind) && ACTION_KINDS[kind].reportsToInstance === true;
}

/** Whether an effect of this kind is written by the audit commit's own transaction (`ActionKind.inCommitTransaction`). */
export function inCommitTransaction(kind: string): boolean {
  return isActionKind(kind) && ACTION_KINDS[kind].inCommitTransaction === true;
}

/**
 * A schema-valid YAML action (`{ <kind>: value }`) → the IR action, or `{ unknown: key }` when
 * its key names no registered kind (the loader reports it at the key).
 */
export function normalizeAction(raw: Record<string, unknown>): ActionIR | { unknown: string } {
  const key = Object.keys(raw)[0] ?? '';
  if (!isActionKind(key)) return { unknown: key };
  return (ACTION_KINDS[key] as ActionKind<ActionIR>).normalize(raw[key]);
}

/** The machine action of an IR action. Throws on an unknown kind (`checkProcedure` reports those first). */
export function compileAction(action: ActionIR): ActionConfig {
  const kind = actionKindOf(action);
  if (!kind)
    throw new Error(
      `unknown action kind "${String((action as { kind: unknown }).kind)}"; known: ${ACTION_KIND_NAMES.join(', ')}`,
    );
  return kind.compile(action);
}
