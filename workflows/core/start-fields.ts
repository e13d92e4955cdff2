/**
 * Who may start a procedure, and with what (issue #11, item 3).
 *
 * - A context field is *settable at start* when it declares `input: true`, or `required: true`
 *   (a field the start input must supply is necessarily one it may supply). Every other field
 *   starts at its default (or absent) and is only ever set by the procedure's own actions.
 * - `start.roles` names the roles that may start the procedure by hand (API, CLI, any Temporal
 *   client). Absent: any role. A linked start (a parent instance's `start` action) is not a start
 *   by hand: the parent's transition was authorised by the parent's own rules, so the roles are not
 *   checked — but its input may set only the child's input fields, like anyone's.
 * - `sensitive: true` fields are never written in clear outside the workflow (see
 *   `sensitiveValues` and `maskSensitive`; the worker masks every commit at one place).
 *
 * Pure (no Node APIs): the API, the CLI and the workflow itself apply the same rule.
 */
import type { Actor, ContextField, Json, JsonSchema, ProcedureIR } from './ir.ts';

/** May a start input set this field? */
export function isInputField(field: ContextField): boolean {
  return field.input === true || field.required === true;
}

/** The names of the fields a start input may set, in declaration order. */
export function inputFields(ir: ProcedureIR): string[] {
  return Object.entries(ir.context)
    .filter(([, f]) => isInputField(f))
    .map(([name]) => name);
}

/** The names of the sensitive fields, in declaration order. */
export function sensitiveFields(ir: ProcedureIR): string[] {
  return Object.entries(ir.context)
    .filter(([, f]) => f.sensitive === true)
    .map(([name]) => name);
}

/** The JSON Schema of a start input: the input fields only (the start form the UI shows). */
export function startInputSchema(ir: ProcedureIR): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, field] of Object.entries(ir.context)) {
    if (!isInputField(field)) continue;
    properties[name] = {
      ...(field.schema ?? {}),
      type: field.type,
      ...(field.default !== undefined ? { default: field.default } : {}),
    };
    if (field.required) required.push(name);
  }
  return { type: 'object', properties, required, additionalProperties: false };
}

/**
 * The starter of an instance a definition's own `schedule:` starts (worker/schedules.ts). Like a
 * linked start, a scheduled start is declared by the definition, so its roles are not checked.
 */
export const SCHEDULE_STARTER_ID = 'schedule';

/** Why a start is refused: a field it may not set, or a starter without a start role. */
export type StartRefusal =
  | { code: 'NOT_INPUT_FIELD'; fields: string[]; message: string }
  | { code: 'START_ROLE_REQUIRED'; roles: string[]; message: string };

/** The fields of `input` the start may not set (declared or not: unknown ones are the schema's). */
export function nonInputFields(ir: ProcedureIR, input: Record<string, unknown>): string[] {
  return Object.keys(input).filter((k) => {
    const field = ir.context[k];
    return field !== undefined && !isInputField(field);
  });
}

/**
 * Why `starter` may not start `ir` with `input`, or undefined. `linked`: started by a parent
 * instance's `start` action; a linked or scheduled start is not checked against `start.roles`
 * (see the module comment). Anyone may start a procedure without `start.roles`.
 */
export function startRefusal(
  ir: ProcedureIR,
  input: Record<string, unknown>,
  starter: Actor,
  options: { linked?: boolean } = {},
): StartRefusal | undefined {
  const fields = nonInputFields(ir, input);
  if (fields.length > 0)
    return {
      code: 'NOT_INPUT_FIELD',
      fields,
      message: `start input rejected: ${fields.map((f) => `"${f}"`).join(', ')} ${
        fields.length === 1 ? 'is not an input field' : 'are not input fields'
      } of ${ir.id}; a start may set only ${describeList(inputFields(ir))}`,
    };
  const roles = ir.start?.roles;
  const declared = options.linked === true || starter.id === SCHEDULE_STARTER_ID;
  if (!declared && roles && !starter.roles.some((r) => roles.includes(r)))
    return {
      code: 'START_ROLE_REQUIRED',
      roles,
      message: `${starter.id} may not start ${ir.id}: starting it needs one of the roles ${roles.join(', ')}`,
    };
  return undefined;
}

function describeList(names: string[]): string {
  return names.length ? names.map((n) => `"${n}"`).join(', ') : 'no field';
}

/**
 * The text of every sensitive value an instance holds (its sensitive fields' values in `context`;
 * strings inside lists and objects too), each at most once, longest first so a value that contains
 * another is masked whole. Numbers and booleans are included as text.
 */
export function sensitiveValues(ir: ProcedureIR, context: Readonly<Record<string, Json>>): string[] {
  const out = new Set<string>();
  const walk = (v: Json | undefined): void => {
    if (v === null || v === undefined) return;
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object') Object.values(v).forEach(walk);
    else if (String(v).trim().length >= MIN_MASKED_LENGTH) out.add(String(v));
  };
  for (const name of sensitiveFields(ir)) walk(context[name]);
  return [...out].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
}

/** Shorter values are not masked inside other text (masking every "a" would hide nothing). */
const MIN_MASKED_LENGTH = 2;

/**
 * `value` with every occurrence of a sensitive text replaced by `mask(text)`: a string equal to
 * one, or containing one, anywhere in a JSON value (object keys are left alone). Numbers and
 * booleans equal to a sensitive text become the mask (a string).
 */
export function maskSensitive<T>(value: T, secrets: readonly string[], mask: (text: string) => string): T {
  if (secrets.length === 0) return value;
  const masks = new Map(secrets.map((s) => [s, mask(s)]));
  const inText = (s: string): string => {
    let out = s;
    for (const [secret, m] of masks) if (out.includes(secret)) out = out.split(secret).join(m);
    return out;
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return inText(v);
    if (typeof v === 'number' || typeof v === 'boolean') return masks.get(String(v)) ?? v;
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
