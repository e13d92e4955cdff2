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
  | 'PROC_BAD_EVENT_SCHEMA'
  /** A context field's schema does not compile, or its default does not match it. */
  | 'PROC_BAD_FIELD_SCHEMA'
  | 'PROC_INVARIANT_VIOLATED'
  /** A `start` action names a procedure that is not deployed, or gives it the wrong input. */
  | 'PROC_UNKNOWN_PROCEDURE'
  /** A `start` action's input can carry a value the started procedure's start schema refuses (too long, not in its enum, wrong type, absent). */
  | 'PROC_START_INPUT_MISMATCH'
  /** A `record` action names a register the definition's `records:` does not declare. */
  | 'PROC_UNKNOWN_RECORD'
  /** A `record` action writes a value whose type is not the register field's declared type. */
  | 'PROC_RECORD_TYPE_MISMATCH'
  /** An action whose kind is none of the registered ones (`actions/`). */
  | 'PROC_UNKNOWN_ACTION'
  /** An action only the engine's own procedure may carry (`deploy_definition` outside `definition_change`). */
  | 'PROC_ENGINE_ONLY_ACTION'
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
  /** An event's data schema declares or requires `attachments`, the engine's field of attached files. */
  | 'PROC_ATTACHMENT_FIELD_RESERVED'
  /** YAML aliases expand beyond the budget (an alias bomb): refused before loading. */
  | 'YAML_ALIAS_BUDGET';

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
