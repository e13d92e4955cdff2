/**
 * The shape of one action kind: everything the engine knows about `assign`, `record`, `notify`
 * or `start` lives in that kind's module, in these five parts (see `index.ts` for the registry).
 */
import type { CheckContext } from '../check-report.ts';
import type { ActionIR, Expression } from '../ir.ts';

/** Where an action sits, for its checks' diagnostics. */
export interface ActionSite {
  /** Pointer of the action's body, under its kind key (`/states/a/on/GO/0/actions/1/notify`). */
  pointer: string;
  /** Index of the action in its transition's list (0-based). */
  index: number;
  /** The transition, in words (`transition GO in state "a"`). */
  where: string;
  /** The event the transition is taken on (absent for a timer): what `data.x` refers to. */
  event?: string;
}

/** A value expression of an action (checked like any other: syntax, variables, fields). */
export interface ValueSite {
  source: Expression;
  pointer: string;
}

/** An XState action object as the compiled machine config holds it (named in `setup()`). */
export interface ActionConfig {
  type: string;
  params?: unknown;
}

/** One action kind. `A` is its IR form (`Extract<ActionIR, { kind }>`). */
export interface ActionKind<A extends ActionIR> {
  /** The YAML value under the kind's key (schema-valid) → the IR action. */
  normalize(value: unknown): A;
  /** Semantic rules the schema cannot express (declared roles, fields, …). */
  check(cx: CheckContext, action: A, site: ActionSite): void;
  /** The CEL value expressions the action evaluates, with their pointers (`site` is the body's). */
  expressions(action: A, pointer: string): ValueSite[];
  /** The machine action(s) that carry it out: a named action, or an `$effect` marker. */
  compile(action: A): ActionConfig;
  /**
   * Its executor sends an event back to the same instance (as the engine) while the transition is
   * committed — a register lookup's outcome, a deployment's. Such a commit must not hold the
   * instance's workflow task (`workflows/audit-commit.ts`): the event needs the next one.
   */
  reportsToInstance?: true;
  /**
   * Its effect is written by the audit commit's own records-store transaction (a named record, a
   * notification row): nothing outside the store, nothing returned to the instance. A commit whose
   * effects are all such is written in the workflow task's own activation
   * (`workflows/audit-commit.ts`, patch `commit-in-activation`).
   */
  inCommitTransaction?: true;
}
