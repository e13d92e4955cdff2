/**
 * Semantic checks: the rules a JSON Schema cannot express. Runs on a loaded IR and reports every
 * problem at once, each positioned through the document's `PositionIndex`.
 *
 * - references: targets, initial states, events, roles, context fields, invariant states;
 * - actions: each by its kind's own checks (`actions/`); an unknown kind is `PROC_UNKNOWN_ACTION`;
 * - durations (`sla`, `delay`), duplicate invariant ids;
 * - the state graph: unreachable states, states with no way out (`check-graph.ts`);
 * - expressions: syntax, variables, context fields (`check-expressions.ts`);
 * - the JSON Schemas a definition embeds (`check-schemas.ts`).
 *
 * Invariants are only checked for well-formedness here; proving them over all paths is the
 * verifier's job.
 */
import type { Diagnostic } from './diagnostics.ts';
import { parseDelay } from './duration.ts';
import type { InvariantIR, ProcedureIR, StateIR } from './ir.ts';
import { checkExpressions } from './check-expressions.ts';
import { checkGraph } from './check-graph.ts';
import { checkCalls } from './call-check.ts';
import type { CheckContext } from './check-report.ts';
import { checkRole, createReporter, guessTarget, stateLabel, transitionLabel } from './check-report.ts';
import { allTransitions, statePaths, walkStates, type AnyTransition } from './ir-walk.ts';
import { checkSchemas } from './check-schemas.ts';
import { checkMigration } from './migration-check.ts';
import { checkStartFields } from './check-start-fields.ts';
import { checkAttachments } from './check-attachments.ts';
import { ACTION_KIND_NAMES, actionKindOf } from './actions/index.ts';
import { checkRegisterDeclarations } from './actions/record.ts';
import { NO_POSITIONS, joinPointer } from './positions.ts';
import type { PositionIndex } from './positions.ts';
import { didYouMean } from './suggest.ts';
import { checkSla } from './sla.ts';

export interface CheckOptions {
  /** File name for diagnostics (default: the procedure id). */
  file?: string;
  /** Positions of the source document (default: none; every diagnostic at 1:1). */
  positions?: PositionIndex;
}

/** Every semantic problem of a loaded procedure, sorted by position. */
export function checkProcedure(ir: ProcedureIR, options: CheckOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  const cx: CheckContext = {
    ir,
    report: createReporter(options.file ?? ir.id, options.positions ?? NO_POSITIONS, out),
  };
  checkStates(cx);
  checkSla(cx);
  checkOnDone(cx);
  checkCalls(cx);
  checkTransitions(cx);
  checkAssigners(cx);
  checkStartFields(cx);
  checkTopLevel(cx);
  checkRegisterDeclarations(cx);
  checkInvariants(cx);
  checkGraph(cx);
  checkExpressions(cx);
  checkSchemas(cx);
  checkMigration(cx);
  checkAttachments(cx);
  return sortDiagnostics(out);
}

/** Order diagnostics by file, line, column, then code (stable otherwise). */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.code.localeCompare(b.code),
  );
}

function checkStates({ ir, report }: CheckContext): void {
  for (const state of walkStates(ir.root)) {
    if (state.type === 'compound' && state.initial !== undefined && !state.states[state.initial]) {
      const children = Object.keys(state.states);
      report(
        'PROC_UNKNOWN_INITIAL',
        joinPointer(state.pointer, 'initial'),
        `initial state "${state.initial}" of ${stateLabel(state)} is not one of its states${didYouMean(state.initial, children)}`,
        { hint: `its states are: ${children.join(', ')}` },
      );
    }
    if (state.sla !== undefined && parseDelay(state.sla) === undefined) {
      report(
        'PROC_BAD_DURATION',
        joinPointer(state.pointer, 'sla'),
        `"${state.sla}" is not a valid duration (sla of ${stateLabel(state)})`,
        {
          hint: 'use an ISO-8601 duration in weeks, days, hours, minutes or seconds, e.g. P2D, PT4H, P1DT12H, or working days, e.g. P2WD',
        },
      );
    }
    for (const event of Object.keys(state.on)) {
      if (ir.events[event]) continue;
      report(
        'PROC_UNKNOWN_EVENT',
        joinPointer(state.pointer, 'on', event),
        `event ${event} in ${stateLabel(state)} is not declared${didYouMean(event, Object.keys(ir.events))}`,
        { at: 'key', hint: 'declare every event under "events" with its title and data schema' },
      );
    }
  }
}

/** `on_done` only where the state can be done: a compound with a final child, a parallel whose regions all can. */
function checkOnDone({ ir, report }: CheckContext): void {
  for (const state of walkStates(ir.root)) {
    if (!state.onDone) continue;
    const why = neverDone(state);
    if (why)
      report(
        'PROC_ON_DONE_NEVER',
        joinPointer(state.pointer, 'on_done'),
        `${stateLabel(state)} ${why}, so its on_done is never taken`,
        {
          at: 'key',
          hint: 'on_done belongs on a compound state with a "type: final" child, or on a parallel state whose every region has one',
        },
      );
  }
}

/** Why `state` can never be done, or undefined when it can. */
function neverDone(state: StateIR): string | undefined {
  const children = Object.values(state.states);
  if (state.type === 'atomic' || state.type === 'final' || !children.length)
    return 'has no child states (it is never "done")';
  if (state.type === 'compound')
    return children.some((c) => c.type === 'final') ? undefined : 'has no "type: final" child';
  const region = children.find((c) => neverDone(c) !== undefined && c.type !== 'final');
  return region ? `has a region "${region.key}" with no final state` : undefined;
}

/** `assigners:` names declared roles. */
function checkAssigners(cx: CheckContext): void {
  (cx.ir.assigners ?? []).forEach((role, i) => checkRole(cx, role, `/assigners/${i}`, 'assigners'));
}

function checkTransitions(cx: CheckContext): void {
  const paths = statePaths(cx.ir.root);
  for (const t of allTransitions(cx.ir.root)) {
    checkTarget(cx, t, paths);
    if (t.kind === 'event') {
      t.transition.roles.forEach((role, i) =>
        checkRole(cx, role, joinPointer(t.transition.pointer, 'roles', i), `${transitionLabel(t)}`),
      );
    } else if (t.kind === 'delayed' && parseDelay(t.transition.delay) === undefined) {
      cx.report(
        'PROC_BAD_DURATION',
        joinPointer(t.transition.pointer, 'delay'),
        `"${t.transition.delay}" is not a valid duration (delay of ${transitionLabel(t)})`,
        { hint: 'use an ISO-8601 duration in weeks, days, hours, minutes or seconds, e.g. P5D, PT4H' },
      );
    }
    checkActions(cx, t);
  }
}

function checkTarget({ report }: CheckContext, t: AnyTransition, paths: ReadonlySet<string>): void {
  const target = t.transition.target;
  if (target === undefined || paths.has(target)) return;
  const guess = guessTarget(t, target, paths);
  report(
    'PROC_UNKNOWN_TARGET',
    joinPointer(t.transition.pointer, 'target'),
    `target "${target}" of ${transitionLabel(t)} is not a state${guess ? ` (did you mean "${shortTarget(t, target, guess)}"?)` : ''}`,
    {
      hint: 'a target is a sibling state\'s key or a dotted path from the top, e.g. "closed" or "active.reviewing"',
    },
  );
}

/** A guessed target in the form the author used: a sibling's key for a key, else the full path. */
function shortTarget(t: AnyTransition, written: string, path: string): string {
  const parent = t.state.path.includes('.') ? t.state.path.slice(0, t.state.path.lastIndexOf('.')) : '';
  const relative = parent !== '' && path.startsWith(`${parent}.`) ? path.slice(parent.length + 1) : path;
  return written.includes('.') && !relative.includes('.') ? path : relative;
}

function checkActions(cx: CheckContext, t: AnyTransition): void {
  t.transition.actions.forEach((action, index) => {
    const base = joinPointer(t.transition.pointer, 'actions', index);
    const kind = actionKindOf(action);
    if (!kind) {
      const name = String((action as { kind: unknown }).kind);
      cx.report(
        'PROC_UNKNOWN_ACTION',
        base,
        `action #${index + 1} of ${transitionLabel(t)} has the unknown kind "${name}"${didYouMean(name, ACTION_KIND_NAMES)}`,
        { hint: `an action is exactly one of ${ACTION_KIND_NAMES.join(', ')}` },
      );
      return;
    }
    kind.check(cx, action, {
      pointer: joinPointer(base, action.kind),
      index,
      where: transitionLabel(t),
      ...(t.kind === 'event' && t.transition.event !== undefined ? { event: t.transition.event } : {}),
    });
  });
}

function checkTopLevel({ ir, report }: CheckContext): void {
  if (ir.clientField !== undefined && !ir.context[ir.clientField]) {
    report(
      'PROC_UNKNOWN_FIELD',
      '/client_field',
      `client_field "${ir.clientField}" is not a context field${didYouMean(ir.clientField, Object.keys(ir.context))}`,
      { hint: 'declare the field under "context" (type: string)' },
    );
  }
  const events = Object.keys(ir.events);
  const checkEvent = (event: string, pointer: string, where: string): void => {
    if (!ir.events[event])
      report(
        'PROC_UNKNOWN_EVENT',
        pointer,
        `event ${event} in ${where} is not declared${didYouMean(event, events)}`,
      );
  };
  ir.duties.forEach((duty, i) => {
    const base = `/duties/${i}`;
    checkEvent(duty.event, `${base}/event`, `duty #${i + 1}`);
    duty.distinctFrom.forEach((e, j) => checkEvent(e, `${base}/distinct_from/${j}`, `duty #${i + 1}`));
  });
}

function checkInvariants(cx: CheckContext): void {
  const { ir, report } = cx;
  const paths = statePaths(ir.root);
  const firstById = new Map<string, number>();
  ir.invariants.forEach((inv, i) => {
    const base = `/invariants/${i}`;
    const where = `invariant "${inv.id}"`;
    const first = firstById.get(inv.id);
    if (first === undefined) firstById.set(inv.id, i);
    else
      report(
        'PROC_DUPLICATE_ID',
        `${base}/id`,
        `invariant id "${inv.id}" is already used by invariant #${first + 1}`,
      );
    for (const [path, pointer] of invariantStates(inv, base)) {
      if (paths.has(path)) continue;
      report(
        'PROC_UNKNOWN_STATE',
        pointer,
        `state "${path}" in ${where} does not exist${didYouMean(path, paths)}`,
        {
          hint: 'invariants name states by their dotted path from the top, e.g. "active.reviewing"',
        },
      );
    }
    const events =
      inv.kind === 'distinct_actors'
        ? inv.events.map((e, j) => [e, `${base}/events/${j}`] as const)
        : inv.kind === 'roles_only' || inv.kind === 'actor_is'
          ? [[inv.event, `${base}/event`] as const]
          : [];
    for (const [event, pointer] of events) {
      if (!ir.events[event])
        report(
          'PROC_UNKNOWN_EVENT',
          pointer,
          `event ${event} in ${where} is not declared${didYouMean(event, Object.keys(ir.events))}`,
        );
    }
    if (inv.kind === 'roles_only')
      inv.roles.forEach((role, j) => checkRole(cx, role, `${base}/roles/${j}`, where));
  });
}

/** The states an invariant names, with their pointers. */
function invariantStates(inv: InvariantIR, base: string): Array<[string, string]> {
  switch (inv.kind) {
    case 'must_pass':
      return [[inv.to, `${base}/to`], ...inv.via.map((s, j): [string, string] => [s, `${base}/via/${j}`])];
    case 'unreachable':
    case 'never_when':
    case 'deadline':
      return [[inv.state, `${base}/state`]];
    case 'ends_in':
      return inv.states.map((s, j): [string, string] => [s, `${base}/states/${j}`]);
    case 'distinct_actors':
    case 'roles_only':
    case 'actor_is':
      return [];
  }
}
