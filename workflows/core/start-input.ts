/**
 * Does a `start` action's input fit the started procedure's start schema? A static bound, from the
 * parent's schemas: each input expression is given the shape of the values it can take (type,
 * longest string, possible values, whether it can be absent) where that follows from its form —
 * `data.x` and `ctx.x` (their JSON Schema), literals, `+` on strings, `c ? a : b` — and compared
 * with the target's context field. An expression of any other form is not judged here (the worker
 * records a start that then fails; see `worker/activities/effects.ts`).
 *
 * Pure (no Node APIs).
 */
import { parse } from '@marcbachmann/cel-js';
import type { ContextField, Json, JsonSchema, ProcedureIR, StartAction } from './ir.ts';

/** What an input expression can evaluate to, as far as its form tells. */
interface Shape {
  type?: string;
  /** Longest string value (code points); `Infinity` when the source allows any length. */
  maxLength?: number;
  /** Every value it can take, when finite and known. */
  values?: Json[];
  /** It can be absent (an optional event data field read without `has`). */
  optional?: boolean;
}

/** One input field that the target's start schema may refuse, and why. */
export interface StartInputMismatch {
  field: string;
  reason: string;
}

interface AstNode {
  op?: string;
  args?: unknown;
}

/**
 * The input fields of `action` (on a transition taken on `event`, or a delayed one) that can carry
 * a value the target's context field refuses.
 */
export function startInputMismatches(
  action: StartAction,
  event: string | undefined,
  parent: ProcedureIR,
  target: ProcedureIR,
): StartInputMismatch[] {
  const data = event ? parent.events[event]?.data : undefined;
  const out: StartInputMismatch[] = [];
  for (const [field, source] of Object.entries(action.input ?? {})) {
    const spec = target.context[field];
    if (!spec) continue; // reported as an unknown field elsewhere
    let shape: Shape | undefined;
    try {
      shape = shapeOf(parse(source).ast as AstNode, data, parent);
    } catch {
      continue; // syntax is reported by the definition's own check
    }
    if (!shape) continue;
    const reason = refusal(shape, spec);
    if (reason) out.push({ field, reason: `${reason} (from \`${source}\`)` });
  }
  return out;
}

/**
 * The JSON type `source` evaluates to (on a transition taken on `event`), when its form tells
 * (`data.x`, `ctx.x`, literals, `+` on strings, `c ? a : b`); undefined otherwise or when it does
 * not parse. Used by the `record` action's check against a register's declared field types.
 */
export function expressionType(
  source: string,
  event: string | undefined,
  ir: ProcedureIR,
): string | undefined {
  const data = event ? ir.events[event]?.data : undefined;
  try {
    return shapeOf(parse(source).ast as AstNode, data, ir)?.type;
  } catch {
    return undefined;
  }
}

function refusal(shape: Shape, spec: ContextField): string | undefined {
  if (shape.type && !typeFits(shape.type, spec.type))
    return `its value is of type ${shape.type}, the field is of type ${spec.type}`;
  if (shape.optional && spec.required && spec.default === undefined)
    return 'its value can be absent, the field is required';
  const schema = spec.schema ?? {};
  const maxLength = typeof schema['maxLength'] === 'number' ? schema['maxLength'] : undefined;
  if (maxLength !== undefined && (shape.type === 'string' || shape.type === undefined)) {
    const longest = shape.maxLength;
    if (longest === Infinity)
      return `its value has no length limit, the field takes at most ${maxLength} characters`;
    if (longest !== undefined && longest > maxLength)
      return `its value can be ${longest} characters long, the field takes at most ${maxLength}`;
  }
  const allowed = Array.isArray(schema['enum']) ? (schema['enum'] as Json[]) : undefined;
  if (allowed) {
    if (!shape.values)
      return `its value is not limited to the field's values (${allowed.map(show).join(', ')})`;
    const extra = shape.values.filter((v) => !allowed.some((a) => same(a, v)));
    if (extra.length > 0)
      return `its value can be ${extra.map(show).join(', ')}, not among the field's values`;
  }
  return undefined;
}

function typeFits(from: string, to: string): boolean {
  return from === to || (from === 'integer' && to === 'number');
}

function show(v: Json): string {
  return JSON.stringify(v);
}

function same(a: Json, b: Json): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function length(s: string): number {
  return [...s].length;
}

function shapeOf(node: AstNode, data: JsonSchema | undefined, parent: ProcedureIR): Shape | undefined {
  if (node.op === 'value') return literal(node.args as Json);
  const path = memberPath(node);
  if (path) return pathShape(path, data, parent);
  const args = Array.isArray(node.args) ? (node.args as AstNode[]) : [];
  if (node.op === '+' && args.length === 2) {
    const [a, b] = [shapeOf(args[0]!, data, parent), shapeOf(args[1]!, data, parent)];
    if (!a || !b || a.type !== 'string' || b.type !== 'string') return undefined;
    const values =
      a.values && b.values && a.values.length * b.values.length <= 64
        ? a.values.flatMap((x) => b.values!.map((y) => `${String(x)}${String(y)}`))
        : undefined;
    return {
      type: 'string',
      maxLength: (a.maxLength ?? Infinity) + (b.maxLength ?? Infinity),
      ...(values ? { values } : {}),
      ...(a.optional || b.optional ? { optional: true } : {}),
    };
  }
  if (node.op === '?:' && args.length === 3) {
    const guarded = hasCall(args[0]!);
    const [a, b] = [shapeOf(args[1]!, data, parent), shapeOf(args[2]!, data, parent)];
    if (!a || !b) return undefined;
    const values = a.values && b.values ? [...a.values, ...b.values] : undefined;
    return {
      ...(a.type === b.type && a.type ? { type: a.type } : {}),
      ...(a.maxLength !== undefined && b.maxLength !== undefined
        ? { maxLength: Math.max(a.maxLength, b.maxLength) }
        : {}),
      ...(values ? { values } : {}),
      ...((a.optional && memberPath(args[1]!) !== guarded) || b.optional ? { optional: true } : {}),
    };
  }
  return undefined;
}

function literal(v: Json): Shape {
  if (typeof v === 'string') return { type: 'string', maxLength: length(v), values: [v] };
  if (typeof v === 'boolean') return { type: 'boolean', values: [v] };
  if (typeof v === 'number' || typeof v === 'bigint')
    return { type: Number.isInteger(Number(v)) ? 'integer' : 'number', values: [Number(v)] };
  return {};
}

/** `has(x.y)`: the path it tests. */
function hasCall(node: AstNode): string | undefined {
  if (node.op !== 'call' || !Array.isArray(node.args)) return undefined;
  const [name, args] = node.args as [unknown, AstNode[]];
  return name === 'has' && Array.isArray(args) && args[0] ? memberPath(args[0]) : undefined;
}

function pathShape(path: string, data: JsonSchema | undefined, parent: ProcedureIR): Shape | undefined {
  const [root, field, ...rest] = path.split('.');
  if (!field || rest.length > 0) return undefined;
  if (root === 'data') {
    const properties = (data?.['properties'] ?? {}) as Record<string, JsonSchema>;
    const schema = properties[field];
    if (!schema) return undefined;
    const required = Array.isArray(data?.['required']) && (data['required'] as string[]).includes(field);
    return { ...schemaShape(schema, schema['type']), ...(required ? {} : { optional: true }) };
  }
  if (root === 'ctx') {
    const spec = parent.context[field];
    if (!spec) return undefined;
    // A context field without a default can be absent until assigned; whether it is assigned by
    // then is a path question the checker does not answer, so it is not reported as absent.
    return schemaShape(spec.schema ?? {}, spec.type);
  }
  return undefined;
}

function schemaShape(schema: JsonSchema, type: unknown): Shape {
  const values = Array.isArray(schema['enum']) ? (schema['enum'] as Json[]) : undefined;
  const t =
    typeof type === 'string'
      ? type
      : values && values.every((v) => typeof v === 'string')
        ? 'string'
        : undefined;
  const shape: Shape = { ...(t ? { type: t } : {}), ...(values ? { values } : {}) };
  if (t === 'string')
    shape.maxLength = values
      ? Math.max(0, ...values.map((v) => length(String(v))))
      : typeof schema['maxLength'] === 'number'
        ? schema['maxLength']
        : Infinity;
  return shape;
}

function memberPath(node: AstNode): string | undefined {
  if (node.op === 'id' && typeof node.args === 'string') return node.args;
  if ((node.op === '.' || node.op === '.?') && Array.isArray(node.args)) {
    const [obj, key] = node.args as [AstNode, unknown];
    const base = memberPath(obj);
    return base !== undefined && typeof key === 'string' ? `${base}.${key}` : undefined;
  }
  return undefined;
}
