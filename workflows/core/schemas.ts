/**
 * The JSON Schemas a procedure declares (event data, per-transition data, start context),
 * compiled once per procedure with ajv (2020-12). Pure: ajv runs in the sandbox and the browser.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { JsonSchema, ProcedureIR } from './ir.ts';
import { linearRegExp } from './safe-regex.ts';
import { allTransitions, contextSchema } from './ir-walk.ts';

export interface SchemaProblem {
  /** JSON pointer inside the data (`/days`), '' for the whole object. */
  path: string;
  message: string;
}

export interface SchemaSet {
  /** Does `data` satisfy the event's declared schema (no schema: no data allowed)? */
  eventData(event: string, data: unknown): boolean;
  /** Does `data` satisfy the transition's extra schema (none: true)? */
  transitionData(pointer: string, data: unknown): boolean;
  /** Problems of the last failed check, in plain words. */
  eventDataProblems(event: string, data: unknown): SchemaProblem[];
  transitionDataProblems(pointer: string, data: unknown): SchemaProblem[];
  /** Problems of a start input against the declared context fields. */
  startInputProblems(input: unknown): SchemaProblem[];
}

const EMPTY: JsonSchema = { type: 'object', maxProperties: 0 };

export function compileSchemas(ir: ProcedureIR): SchemaSet {
  // The schemas were checked when the definition was loaded (check-schemas.ts): skipping the
  // meta-schema here saves ~8 ms per compile (~40 ms per instance start in the sandbox).
  const ajv = new Ajv2020({
    strict: false,
    allErrors: true,
    validateFormats: false,
    validateSchema: false,
    // A definition's `pattern`s run in linear time: a deployed `^(a+)+$` cannot stall the thread.
    code: { regExp: linearRegExp },
  });
  const events = new Map<string, ValidateFunction>();
  for (const [name, def] of Object.entries(ir.events)) events.set(name, ajv.compile(def.data ?? EMPTY));
  const transitions = new Map<string, ValidateFunction>();
  for (const t of allTransitions(ir.root))
    if (t.kind === 'event' && t.transition.data)
      transitions.set(t.transition.pointer, ajv.compile(t.transition.data));
  const start = ajv.compile(contextSchema(ir));

  const run = (fn: ValidateFunction | undefined, data: unknown): boolean => !fn || fn(data ?? {}) === true;
  const problems = (fn: ValidateFunction | undefined, data: unknown): SchemaProblem[] =>
    !fn || fn(data ?? {}) ? [] : (fn.errors ?? []).map(describe);
  return {
    eventData: (event, data) => events.has(event) && run(events.get(event), data),
    transitionData: (pointer, data) => run(transitions.get(pointer), data),
    eventDataProblems: (event, data) =>
      events.has(event)
        ? problems(events.get(event), data)
        : [{ path: '', message: `unknown event ${event}` }],
    transitionDataProblems: (pointer, data) => problems(transitions.get(pointer), data),
    startInputProblems: (input) => problems(start, input),
  };
}

function describe(e: ErrorObject): SchemaProblem {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { path: e.instancePath, message: `missing required field "${String(p.missingProperty)}"` };
    case 'additionalProperties':
      return { path: e.instancePath, message: `unknown field "${String(p.additionalProperty)}"` };
    case 'maxProperties':
      if (p.limit === 0) return { path: e.instancePath, message: 'this event takes no data' };
      break;
    case 'enum':
      return {
        path: e.instancePath,
        message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    default:
      break;
  }
  return { path: e.instancePath, message: e.message ?? e.keyword };
}

/** `"/days: must be <= 30; /purpose: missing …"` */
export function formatProblems(problems: readonly SchemaProblem[]): string {
  return problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ');
}
