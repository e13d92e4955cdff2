/**
 * Diagnostics: every problem found in a definition, as data (never thrown one at a time).
 */

/** Closed set of diagnostic codes. Tests assert codes and positions, not messages. */
export type DiagnosticCode =
  | 'PROC_YAML_SYNTAX'
  | 'PROC_SCHEMA'
  | 'PROC_DUPLICATE_KEY'
  | 'PROC_DUPLICATE_ID'
  | 'PROC_UNKNOWN_TARGET'
  | 'PROC_UNKNOWN_ROLE'
  | 'PROC_UNKNOWN_EVENT'
  | 'PROC_UNKNOWN_STATE'
  | 'PROC_UNKNOWN_FIELD'
  /** An expression names a variable other than ctx, data, actor, now (or one not available there). */
  | 'PROC_UNKNOWN_VARIABLE'
  | 'PROC_UNKNOWN_INITIAL'
  | 'PROC_UNREACHABLE_STATE'
  | 'PROC_NO_WAY_OUT'
  | 'PROC_GUARD_SYNTAX'
  | 'PROC_EXPRESSION_SYNTAX'
  | 'PROC_BAD_DURATION'
  /** `sla:` out of order: a reminder not before the due time, an escalation not later than the one before. */
  | 'PROC_SLA_ORDER'
  /** `sla: { remind }` on a state where no role sends anything: nobody to remind. */
  | 'PROC_SLA_NOBODY_AWAITED'
  /** `sla:` lists the same reminder or escalation twice (same delay, same recipient). */
  | 'PROC_SLA_DUPLICATE'
  | 'PROC_BAD_EVENT_SCHEMA'
  /** A context field's schema does not compile, or its default does not match it. */
  | 'PROC_BAD_FIELD_SCHEMA'
  | 'PROC_INVARIANT_VIOLATED'
  /** A `start` action names a procedure that is not deployed, or gives it the wrong input. */
  | 'PROC_UNKNOWN_PROCEDURE'
  /** A `start` action's input can carry a value the started procedure's start schema refuses (too long, not in its enum, wrong type, absent). */
  | 'PROC_START_INPUT_MISMATCH'
  /** A start (a `start` action, a schedule) sets a field of the started procedure that is not declared `input: true`. */
  | 'PROC_START_FIELD_NOT_INPUT'
  /** A `sensitive: true` field is used where it would be written in clear (the client field). */
  | 'PROC_SENSITIVE_IN_CLEAR'
  /** A `record` action names a register the definition's `records:` does not declare. */
  | 'PROC_UNKNOWN_RECORD'
  /** A `record` action writes a value whose type is not the register field's declared type. */
  | 'PROC_RECORD_TYPE_MISMATCH'
  /** An action whose kind is none of the registered ones (`actions/`). */
  | 'PROC_UNKNOWN_ACTION'
  /** An action only the engine's own procedure may carry (`deploy_definition` outside `definition_change`). */
  | 'PROC_ENGINE_ONLY_ACTION'
  /** A `lookup` names a field its register does not declare, or a validity field that is not a date. */
  | 'PROC_LOOKUP_FIELD'
  /** A `lookup`'s outcome event is undeclared, refuses what the lookup sends, or someone other than the engine may send it. */
  | 'PROC_LOOKUP_OUTCOME'
  /** An expression could run too long: comprehensions nested too deep, or a `matches` regex that can backtrack. */
  | 'PROC_EXPRESSION_COST'
  /** More diagnostics were found than are reported (the last one says how many). */
  | 'PROC_MORE_DIAGNOSTICS'
  /** `on_done` on a state that can never be done: atomic, or with no final state to reach. */
  | 'PROC_ON_DONE_NEVER'
  /** Eventless transitions (`always`, `on_done`) can follow one another forever (the verifier's proof). */
  | 'PROC_EVENTLESS_LOOP'
  /** A text lacks one of the definition's languages (`languages:`, default zh and en). */
  | 'PROC_MISSING_TRANSLATION'
  /** A text has a version in a language the definition does not declare. */
  | 'PROC_UNDECLARED_LANGUAGE'
  /** `call:` on a state that is not atomic, or an outcome's `output` outside `on_done`. */
  | 'PROC_CALL_MISPLACED'
  /** A call's `on_done` names a state that is not a final state of the called procedure. */
  | 'PROC_CALL_UNKNOWN_OUTCOME'
  /** A final state of the called procedure has no `on_done` entry in the call. */
  | 'PROC_CALL_UNHANDLED_OUTCOME'
  /** A call's `output` maps from a field the callee does not have, or into one this procedure does not. */
  | 'PROC_CALL_OUTPUT_FIELD'
  /** A call's `output` maps a callee field into a field of another type (or narrower values). */
  | 'PROC_CALL_OUTPUT_TYPE'
  /** An event's data schema declares or requires `attachments`, the engine's field of attached files. */
  | 'PROC_ATTACHMENT_FIELD_RESERVED'
  /** YAML aliases expand beyond the budget (an alias bomb): refused before loading. */
  | 'YAML_ALIAS_BUDGET'
  /** A `migrate:` entry maps a state to one running instances cannot be moved to (a final state). */
  | 'PROC_BAD_MIGRATION';

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  code: DiagnosticCode;
  severity: Severity;
  message: string;
  /** File name as given to the loader (may be a virtual name in the editor). */
  file: string;
  /** 1-based line and column. */
  line: number;
  column: number;
  /** JSON pointer into the definition document (e.g. `/states/submitted/on/APPROVE/0/target`). */
  pointer: string;
  hint?: string;
}

/** `file:line:col CODE message` — the CLI's one-line form (contract). */
export function formatDiagnostic(d: Diagnostic): string {
  const hint = d.hint ? ` (hint: ${d.hint})` : '';
  return `${d.file}:${d.line}:${d.column} ${d.code} ${d.message}${hint}`;
}

/** True when any diagnostic is an error (warnings do not stop a definition from running). */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}
