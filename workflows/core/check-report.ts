/**
 * Shared plumbing of the semantic checks: a reporter that turns (code, pointer, message) into a
 * positioned diagnostic, and labels of states and transitions for messages. (Walks over the IR
 * are `ir-walk.ts`'s.)
 */
import type { Diagnostic, DiagnosticCode, Severity } from './diagnostics.ts';
import type { ProcedureIR, StateIR } from './ir.ts';
import type { AnyTransition } from './ir-walk.ts';
import type { PositionIndex } from './positions.ts';
import { closestName, didYouMean } from './suggest.ts';

export interface ReportOptions {
  /** Point at the key of the member (default: its value), or at an offset inside a string value. */
  at?: 'key' | 'value' | { offset: number };
  hint?: string;
  severity?: Severity;
}

export type Report = (
  code: DiagnosticCode,
  pointer: string,
  message: string,
  options?: ReportOptions,
) => void;

/** Everything a check needs: the IR, and where to send what it finds. */
export interface CheckContext {
  ir: ProcedureIR;
  report: Report;
}

export function createReporter(file: string, positions: PositionIndex, out: Diagnostic[]): Report {
  return (code, pointer, message, options = {}) => {
    const at = options.at ?? 'value';
    const pos =
      at === 'key'
        ? positions.key(pointer)
        : at === 'value'
          ? positions.value(pointer)
          : positions.inString(pointer, at.offset);
    out.push({
      code,
      severity: options.severity ?? 'error',
      message,
      file,
      line: pos.line,
      column: pos.column,
      pointer,
      ...(options.hint ? { hint: options.hint } : {}),
    });
  };
}

/** `state "a.b"`, or `the procedure` for the root. */
export function stateLabel(state: StateIR): string {
  return state.path === '' ? 'the procedure' : `state "${state.path}"`;
}

/** `transition APPROVE in state "a"` / `timer #1 in state "a"` / `on_done in state "a"`. */
export function transitionLabel(t: AnyTransition): string {
  if (t.kind === 'event') {
    const list = t.state.on[t.transition.event ?? ''] ?? [];
    const index = list.indexOf(t.transition);
    return `transition ${t.transition.event ?? ''}${index > 0 ? ` #${index + 1}` : ''} in ${stateLabel(t.state)}`;
  }
  if (t.kind === 'delayed')
    return `timer #${t.state.after.indexOf(t.transition) + 1} in ${stateLabel(t.state)}`;
  if (t.kind === 'call') return `call outcome "${t.outcome}" in ${stateLabel(t.state)}`;
  const list = (t.kind === 'done' ? t.state.onDone : t.state.always) ?? [];
  const index = list.indexOf(t.transition);
  return `${t.kind === 'done' ? 'on_done' : 'always'}${list.length > 1 ? ` #${index + 1}` : ''} in ${stateLabel(t.state)}`;
}

/**
 * The state an unresolved target most likely meant (a sibling first, then any path), or
 * undefined. Used for "did you mean" and so a typo does not also make states unreachable.
 */
export function guessTarget(
  t: AnyTransition,
  target: string,
  paths: ReadonlySet<string>,
): string | undefined {
  const parent = t.state.path.includes('.') ? t.state.path.slice(0, t.state.path.lastIndexOf('.')) : '';
  const siblings =
    parent === ''
      ? []
      : [...paths].filter((p) => p.startsWith(`${parent}.`)).map((p) => p.slice(parent.length + 1));
  const sibling = closestName(target, siblings);
  return sibling !== undefined ? `${parent}.${sibling}` : closestName(target, paths);
}

/** Report `role` unless the procedure declares it (`client` too, when `allowClient`). */
export function checkRole(
  { ir, report }: CheckContext,
  role: string,
  pointer: string,
  where: string,
  allowClient = false,
): void {
  if (ir.roles[role] || (allowClient && role === 'client')) return;
  const candidates = allowClient ? [...Object.keys(ir.roles), 'client'] : Object.keys(ir.roles);
  report(
    'PROC_UNKNOWN_ROLE',
    pointer,
    `role "${role}" in ${where} is not declared${didYouMean(role, candidates)}`,
    {
      hint: 'declare every role under "roles" with its display name',
    },
  );
}
