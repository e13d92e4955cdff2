/**
 * `lookup: { register, match?, valid?, fields, found, missing }`: check the instance against a
 * declared register — e.g. "is there a Non-Disclosure Agreement on file for this client, valid
 * today?" (4.1.4) or "which site activities does this Certification Contract cover?" (4.5.1).
 *
 * A `lookup` effect: the worker reads the register's rows **of the instance's client only**, with
 * their corrections applied (a correction is a new row; the newest value of a field counts),
 * keeps those whose fields equal `match` and, with `valid`, whose `from`/`until` dates enclose the
 * transition's date (UTC), and sends the outcome back into the instance as the engine
 * (`$custodia`, role `registry`): `found` with the chosen row's `fields` (of several valid rows,
 * the one valid longest), or `missing` with `{ reason: none | expired | not_yet_valid }`.
 *
 * Durable and replay-safe by construction: the lookup runs in the transition's commit activity
 * and its outcome is an ordinary event (an update in the history) — replay reads the outcome,
 * never the register; the update id is fixed per (workflowId, seq, action), so a retried commit
 * delivers one outcome.
 *
 * The register must be declared under the definition's own `records:` (the register a lookup
 * reads is part of what the definition depends on; the same name in other definitions is the
 * same register). Only the engine may send the outcome events: every transition on them is for
 * role `registry` with the guard `actor.id == '$custodia'` (optionally `&& (…)`) — else anyone
 * could claim "NDA valid".
 */
import { checkRole, type CheckContext } from '../check-report.ts';
import type { Json, JsonSchema, LookupAction, ProcedureIR } from '../ir.ts';
import { allTransitions, statesAlong, stateTransitions } from '../ir-walk.ts';
import { evaluateAll, scopeOf, type MachineContext, type MachineEvent } from '../machine-context.ts';
import { joinPointer } from '../positions.ts';
import { didYouMean } from '../suggest.ts';
import type { ActionKind, ActionSite } from './kind.ts';

/** The engine's actor id (no directory user can have it) and the role its lookup outcomes carry. */
export const ENGINE_ACTOR_ID = '$custodia';
export const LOOKUP_ROLE = 'registry';

/** Why a lookup found no row. */
export const LOOKUP_MISSING_REASONS = ['none', 'expired', 'not_yet_valid'] as const;
export type LookupMissingReason = (typeof LOOKUP_MISSING_REASONS)[number];

/** The effect (a type alias, so it is plain `Json`). */
export type LookupEffect = {
  kind: 'lookup';
  register: string;
  match: Record<string, Json>;
  valid?: { from?: string; until?: string };
  fields: string[];
  found: string;
  missing: string;
};

const ENGINE_GUARD = `actor.id == '${ENGINE_ACTOR_ID}'`;

/**
 * Is this guard "the engine, and maybe more"? `actor.id == '$custodia'` alone, or followed by
 * `&& (…)` whose parenthesis closes at the very end (so no `|| …` can widen it).
 */
export function isEngineOnlyGuard(guard: string | undefined): boolean {
  const g = guard?.trim();
  if (g === ENGINE_GUARD) return true;
  if (!g?.startsWith(`${ENGINE_GUARD} && (`) || !g.endsWith(')')) return false;
  let depth = 0;
  let quote: string | undefined;
  const rest = g.slice(ENGINE_GUARD.length + 4);
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0 && i < rest.length - 1) return false;
  }
  return depth === 0;
}

/**
 * Does an instance in these active leaves wait for the engine to report back (a register lookup's
 * outcome, a deployment's)? True when a state along a leaf has an event transition only the engine
 * may take (`isEngineOnlyGuard`). The engine reports within seconds: a page showing such an
 * instance looks again soon instead of at its usual pace.
 */
export function awaitsEngineReport(ir: ProcedureIR, leaves: readonly string[]): boolean {
  for (const leaf of leaves)
    for (const state of statesAlong(ir, leaf))
      for (const t of stateTransitions(state))
        if (t.kind === 'event' && isEngineOnlyGuard(t.transition.guard)) return true;
  return false;
}

/** The property names an event's data schema declares, or undefined when it takes any object. */
function declaredProperties(schema: JsonSchema | undefined): string[] | undefined | null {
  if (!schema) return null; // no data allowed at all
  const props = (schema as { properties?: Record<string, unknown> }).properties;
  const closed = (schema as { additionalProperties?: unknown }).additionalProperties === false;
  return closed ? Object.keys(props ?? {}) : undefined;
}

function checkOutcome(
  cx: CheckContext,
  action: LookupAction,
  site: ActionSite,
  which: 'found' | 'missing',
  sends: string[],
): void {
  const event = action[which];
  const pointer = joinPointer(site.pointer, which);
  const def = cx.ir.events[event];
  if (!def) {
    cx.report(
      'PROC_LOOKUP_OUTCOME',
      pointer,
      `the ${which} event "${event}" of the lookup in ${site.where} is not declared under "events"${didYouMean(event, Object.keys(cx.ir.events))}`,
      { hint: 'declare it, with data properties for what the lookup sends back' },
    );
    return;
  }
  const accepted = declaredProperties(def.data);
  const refused =
    accepted === null ? sends : accepted === undefined ? [] : sends.filter((f) => !accepted.includes(f));
  if (refused.length)
    cx.report(
      'PROC_LOOKUP_OUTCOME',
      pointer,
      `the ${which} event "${event}" of the lookup in ${site.where} does not accept ${refused.map((f) => `"${f}"`).join(', ')}, which the lookup sends`,
      { hint: `declare ${refused.join(', ')} among its data properties` },
    );
  for (const t of allTransitions(cx.ir.root)) {
    if (t.kind !== 'event' || t.transition.event !== event) continue;
    const { roles, guard } = t.transition;
    if (roles.length === 1 && roles[0] === LOOKUP_ROLE && isEngineOnlyGuard(guard)) continue;
    cx.report(
      'PROC_LOOKUP_OUTCOME',
      t.transition.pointer,
      `"${event}" is the outcome of a register lookup, but its transition in state "${t.state.path}" may be sent by others than the engine`,
      { at: 'key', hint: `give it roles: [${LOOKUP_ROLE}] and guard: "${ENGINE_GUARD}" (optionally && (…))` },
    );
  }
}

function checkLookup(cx: CheckContext, action: LookupAction, site: ActionSite): void {
  const register = cx.ir.records?.[action.register];
  if (!register) {
    cx.report(
      'PROC_UNKNOWN_RECORD',
      joinPointer(site.pointer, 'register'),
      `register "${action.register}" looked up by ${site.where} is not declared under "records"${didYouMean(action.register, Object.keys(cx.ir.records ?? {}))}`,
      {
        hint: 'declare the register under "records" with the fields it has (as the definition that writes it does)',
      },
    );
  } else {
    const declared = Object.keys(register.fields);
    const field = (name: string, pointer: string, at: 'key' | 'value', date = false): void => {
      const spec = register.fields[name];
      if (!spec)
        cx.report(
          'PROC_LOOKUP_FIELD',
          pointer,
          `register "${action.register}" has no field "${name}" (lookup in ${site.where})${didYouMean(name, declared)}`,
          { at, hint: `its fields are: ${declared.join(', ')}` },
        );
      else if (date && spec.type !== 'date')
        cx.report(
          'PROC_LOOKUP_FIELD',
          pointer,
          `validity field "${name}" of register "${action.register}" is declared ${spec.type}, not date (lookup in ${site.where})`,
          { at, hint: 'bound validity by date fields' },
        );
    };
    for (const name of Object.keys(action.match ?? {}))
      field(name, joinPointer(site.pointer, 'match', name), 'key');
    action.fields.forEach((name, i) => field(name, joinPointer(site.pointer, 'fields', String(i)), 'value'));
    for (const end of ['from', 'until'] as const) {
      const name = action.valid?.[end];
      if (name) field(name, joinPointer(site.pointer, 'valid', end), 'value', true);
    }
  }
  checkRole(
    cx,
    LOOKUP_ROLE,
    site.pointer,
    `the lookup in ${site.where} (its outcome comes from the engine in this role)`,
  );
  if (action.found === action.missing)
    cx.report(
      'PROC_LOOKUP_OUTCOME',
      joinPointer(site.pointer, 'missing'),
      `the lookup in ${site.where} has the same event for found and missing`,
    );
  checkOutcome(cx, action, site, 'found', action.fields);
  checkOutcome(cx, action, site, 'missing', ['reason']);
}

interface RawLookup {
  register: string;
  match?: Record<string, string>;
  valid?: { from?: string; until?: string };
  fields?: string[];
  found: string;
  missing: string;
}

export const lookup: ActionKind<LookupAction> = {
  reportsToInstance: true,
  normalize(value) {
    const raw = value as RawLookup;
    return {
      kind: 'lookup',
      register: raw.register,
      ...(raw.match ? { match: raw.match } : {}),
      ...(raw.valid ? { valid: raw.valid } : {}),
      fields: raw.fields ?? [],
      found: raw.found,
      missing: raw.missing,
    };
  },
  check: checkLookup,
  expressions: (action, pointer) =>
    Object.entries(action.match ?? {}).map(([field, source]) => ({
      source,
      pointer: joinPointer(pointer, 'match', field),
    })),
  compile: (action) => ({
    type: '$effect',
    params: ({ context, event }: { context: MachineContext; event: MachineEvent }): LookupEffect => ({
      kind: 'lookup',
      register: action.register,
      match: evaluateAll(action.match ?? {}, scopeOf(context, event)),
      ...(action.valid ? { valid: { ...action.valid } } : {}),
      fields: [...action.fields],
      found: action.found,
      missing: action.missing,
    }),
  }),
};
