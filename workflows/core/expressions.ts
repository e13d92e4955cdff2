/**
 * Guard and value expressions: CEL (Common Expression Language), a safe, non-Turing-complete
 * language. Definition text is never passed to `eval` or `new Function`.
 *
 * Variables in scope: `ctx` (the instance context), `data` (the event's data), `actor`
 * (`{ id, roles }`) and `now` (milliseconds since the epoch, from the workflow clock).
 * Integers cross into CEL as `int` (so `data.days + 1` works) and come back as JS numbers.
 */
import { parse } from '@marcbachmann/cel-js';
import type { Actor, Expression, Json } from './ir.ts';

export interface ExpressionScope {
  ctx: Record<string, unknown>;
  data: Record<string, unknown>;
  actor: Actor | { id: string; roles: string[] };
  now: number;
}

/** The top-level variables an expression may name. */
export const EXPRESSION_ROOTS = ['ctx', 'data', 'actor', 'now'] as const;

export interface ExpressionSyntaxError {
  message: string;
  /** 0-based offset in the expression text, when the parser knows it. */
  offset?: number;
}

type Compiled = ReturnType<typeof parse>;
const cache = new Map<string, Compiled>();

function compiled(source: Expression): Compiled {
  let fn = cache.get(source);
  if (!fn) {
    fn = parse(source);
    cache.set(source, fn);
  }
  return fn;
}

/** Parse an expression; `undefined` when it is well formed, else the syntax error. */
export function checkExpressionSyntax(source: Expression): ExpressionSyntaxError | undefined {
  try {
    compiled(source);
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
    const caret = err instanceof Error ? /\n\s*>\s*\d+ \| [^\n]*\n(\s*)\^/.exec(err.message) : null;
    const offset = caret?.[1] !== undefined ? Math.max(0, caret[1].length - 10) : undefined;
    return offset === undefined ? { message } : { message, offset };
  }
}

/**
 * The variable paths an expression reads, e.g. `ctx.medium`, `data.approved`, `actor.id`.
 * Used to tell data-independent guards from data-dependent ones, and by the verifier.
 */
export function referencedPaths(source: Expression): string[] {
  const out = new Set<string>();
  const walk = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      node.forEach(walk);
      return;
    }
    const n = node as { op?: string; args?: unknown };
    const path = memberPath(n);
    if (path) {
      out.add(path);
      return;
    }
    walk(n.args);
  };
  walk(compiled(source).ast);
  return [...out].sort();
}

function memberPath(node: { op?: string; args?: unknown }): string | undefined {
  if (node.op === 'id' && typeof node.args === 'string') return node.args;
  if ((node.op === '.' || node.op === '.?') && Array.isArray(node.args)) {
    const [obj, key] = node.args as [{ op?: string; args?: unknown }, unknown];
    const base = memberPath(obj);
    return base !== undefined && typeof key === 'string' ? `${base}.${key}` : undefined;
  }
  return undefined;
}

/** Evaluate an expression to a JSON value. Throws `ExpressionError` on evaluation failure. */
export function evaluateExpression(source: Expression, scope: ExpressionScope): Json {
  try {
    return fromCel(compiled(source)(toCel(scope) as Record<string, unknown>));
  } catch (err) {
    const message = err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
    throw new ExpressionError(`${source}: ${message}`);
  }
}

/** Evaluate a guard: must produce a boolean. A missing field or a type error counts as `false`. */
export function evaluateGuard(source: Expression, scope: ExpressionScope): boolean {
  try {
    return evaluateExpression(source, scope) === true;
  } catch {
    return false;
  }
}

/** Raised when an expression cannot be evaluated; classified by `name` across the sandbox. */
export class ExpressionError extends Error {
  override name = 'ExpressionError';
}

function toCel(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCel);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toCel(v);
    return out;
  }
  return value;
}

function fromCel(value: unknown): Json {
  if (typeof value === 'bigint') return Number(value);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return value;
  if (Array.isArray(value)) return value.map(fromCel);
  if (value instanceof Map) {
    const out: Record<string, Json> = {};
    for (const [k, v] of value) out[String(k)] = fromCel(v);
    return out;
  }
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object') {
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fromCel(v);
    return out;
  }
  return null;
}
