/**
 * Expression checks: every CEL expression in a definition must parse, and may read only what
 * exists where it runs:
 *
 * - `ctx.<field>`: a declared context field;
 * - `actor.id`, `actor.roles` (not in timers, which have no actor);
 * - `data.<field>`: only in event transitions; an error when the event carries no data at all,
 *   a warning when its schema lists properties and this is none of them;
 * - `now`; invariant `when` conditions read only `ctx` and `now`.
 */
import {
  EXPRESSION_ROOTS,
  checkExpressionSyntax,
  expressionCost,
  expressionReferences,
} from './expressions.ts';
import type { DiagnosticCode } from './diagnostics.ts';
import type { JsonSchema } from './ir.ts';
import type { CheckContext } from './check-report.ts';
import { transitionLabel } from './check-report.ts';
import { allTransitions, type AnyTransition } from './ir-walk.ts';
import { actionKindOf } from './actions/index.ts';
import { joinPointer } from './positions.ts';
import { didYouMean } from './suggest.ts';

/** One expression to check: its text, where it is, and what it may read. */
export interface ExpressionSite {
  source: string;
  pointer: string;
  /** `guard` reports syntax errors as PROC_GUARD_SYNTAX, `value` as PROC_EXPRESSION_SYNTAX. */
  role: 'guard' | 'value';
  where: string;
  roots: ReadonlySet<string>;
  /** Why a root outside `roots` is unavailable here (for the message). */
  unavailable: string;
  /** Properties the event data may have; undefined when open or unknown; empty when no data. */
  dataFields?: ReadonlySet<string> | undefined;
  /** True when the data schemas list no properties at all but allow some data. */
  dataOpen: boolean;
}

const ACTOR_FIELDS = ['id', 'roles'];

export function checkExpressions(cx: CheckContext): void {
  for (const t of allTransitions(cx.ir.root)) for (const site of transitionSites(cx, t)) checkSite(cx, site);
  cx.ir.invariants.forEach((inv, i) => {
    if (inv.kind !== 'never_when') return;
    checkSite(cx, {
      source: inv.when,
      pointer: `/invariants/${i}/when`,
      role: 'guard',
      where: `invariant "${inv.id}"`,
      roots: new Set(['ctx', 'now']),
      unavailable: 'an invariant condition reads only ctx and now',
      dataOpen: false,
    });
  });
}

function transitionSites(cx: CheckContext, t: AnyTransition): ExpressionSite[] {
  const where = transitionLabel(t);
  const isEvent = t.kind === 'event';
  const data = isEvent
    ? dataShape(cx.ir.events[t.transition.event ?? '']?.data, t.transition.data)
    : undefined;
  const base = {
    where,
    roots: new Set<string>(isEvent ? EXPRESSION_ROOTS : t.kind === 'delayed' ? ['ctx', 'now'] : ['ctx']),
    unavailable:
      t.kind === 'delayed'
        ? 'a timer has no event data and no actor'
        : 'an eventless transition (on_done, always) has no event: it reads only ctx',
    dataFields: data?.fields,
    dataOpen: data?.open ?? false,
  };
  const sites: ExpressionSite[] = [];
  if (t.transition.guard !== undefined) {
    sites.push({
      ...base,
      source: t.transition.guard,
      pointer: joinPointer(t.transition.pointer, 'guard'),
      role: 'guard',
    });
  }
  t.transition.actions.forEach((action, i) => {
    const pointer = joinPointer(t.transition.pointer, 'actions', i, action.kind);
    for (const value of actionKindOf(action)?.expressions(action, pointer) ?? [])
      sites.push({ ...base, ...value, role: 'value' });
  });
  return sites;
}

/** The data fields an event transition can read, from the event's and the transition's schemas. */
function dataShape(
  eventSchema: JsonSchema | undefined,
  transitionSchema: JsonSchema | undefined,
): { fields: Set<string>; open: boolean } {
  const schemas = [eventSchema, transitionSchema].filter((s): s is JsonSchema => s !== undefined);
  const fields = new Set<string>();
  let open = false;
  for (const schema of schemas) {
    const props = schema.properties;
    if (props && typeof props === 'object') Object.keys(props).forEach((k) => fields.add(k));
    else open = true;
  }
  return { fields, open: open && fields.size === 0 };
}

export function checkSite(cx: CheckContext, site: ExpressionSite): void {
  const syntax = checkExpressionSyntax(site.source);
  if (syntax) {
    const code: DiagnosticCode = site.role === 'guard' ? 'PROC_GUARD_SYNTAX' : 'PROC_EXPRESSION_SYNTAX';
    const what = site.role === 'guard' ? 'guard' : 'expression';
    cx.report(code, site.pointer, `${what} in ${site.where} does not parse: ${syntax.message}`, {
      at: { offset: syntax.offset ?? 0 },
      hint: 'expressions are CEL, e.g. data.days <= 30 && actor.id != ctx.requester',
    });
    return;
  }
  const cost = expressionCost(site.source);
  if (cost.problem)
    cx.report(
      'PROC_EXPRESSION_COST',
      site.pointer,
      `${site.role === 'guard' ? 'guard' : 'expression'} in ${site.where} could run too long: ${cost.problem}`,
      {
        hint: 'loop over fewer, flatter lists; write regexes without a repeated group that repeats (RE2 syntax)',
      },
    );
  for (const ref of expressionReferences(site.source)) checkReference(cx, site, ref.path, ref.offset);
}

function checkReference(cx: CheckContext, site: ExpressionSite, path: string, offset: number): void {
  const [root = '', field] = path.split('.');
  const at = { offset };
  const report = (
    code: DiagnosticCode,
    message: string,
    hint?: string,
    severity: 'error' | 'warning' = 'error',
  ): void =>
    cx.report(code, site.pointer, `${message} (in ${site.where})`, {
      at,
      severity,
      ...(hint ? { hint } : {}),
    });
  if (!site.roots.has(root)) {
    const known = (EXPRESSION_ROOTS as readonly string[]).includes(root);
    report(
      'PROC_UNKNOWN_VARIABLE',
      known ? `"${root}" is not available here` : `unknown variable "${root}"${didYouMean(root, site.roots)}`,
      known ? site.unavailable : `expressions can read ${[...site.roots].join(', ')}`,
    );
    return;
  }
  if (field === undefined) return;
  if (root === 'ctx' && !cx.ir.context[field]) {
    report(
      'PROC_UNKNOWN_FIELD',
      `unknown context field "ctx.${field}"${didYouMean(field, Object.keys(cx.ir.context))}`,
      'declare the field under "context"',
    );
  } else if (root === 'actor' && !ACTOR_FIELDS.includes(field)) {
    report(
      'PROC_UNKNOWN_FIELD',
      `the actor has no "${field}"${didYouMean(field, ACTOR_FIELDS)}`,
      'the actor has only id and roles',
    );
  } else if (root === 'data' && site.dataFields && !site.dataOpen && !site.dataFields.has(field)) {
    if (site.dataFields.size === 0) {
      report(
        'PROC_UNKNOWN_FIELD',
        `"data.${field}" is read but the event carries no data`,
        'declare a data schema for the event',
      );
    } else {
      report(
        'PROC_UNKNOWN_FIELD',
        `"data.${field}" is not a property of the event's data${didYouMean(field, site.dataFields)}`,
        `the data schema lists: ${[...site.dataFields].join(', ')}`,
        'warning',
      );
    }
  }
}
