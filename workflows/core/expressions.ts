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
import { regexCostProblem } from './safe-regex.ts';

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
    const offset = errorOffset(err);
    return offset === undefined ? { message } : { message, offset };
  }
}

/** 0-based offset of a parse error: the parser's range when it gives one, else its caret line. */
function errorOffset(err: unknown): number | undefined {
  if (!(err instanceof Error)) return undefined;
  const range = (err as { range?: { start?: unknown } }).range;
  if (typeof range?.start === 'number') return range.start;
  const caret = /\n(>\s*\d+ \| )[^\n]*\n(\s*)\^/.exec(err.message);
  return caret?.[1] !== undefined && caret[2] !== undefined
    ? Math.max(0, caret[2].length - caret[1].length)
    : undefined;
}

/** A variable path an expression reads, with where it starts in the expression text. */
export interface ExpressionReference {
  /** Dotted path from a top-level variable, e.g. `ctx.medium`, `data.approved`, `actor.id`. */
  path: string;
  /** 0-based offset of the path's first character in the expression. */
  offset: number;
}

/**
 * The variable paths an expression reads, e.g. `ctx.medium`, `data.approved`, `actor.id`.
 * Used to tell data-independent guards from data-dependent ones, and by the verifier.
 */
export function referencedPaths(source: Expression): string[] {
  return [...new Set(expressionReferences(source).map((r) => r.path))].sort();
}

/**
 * Every variable path an expression reads, in source order, with its offset. Variables bound by
 * macros (`list.exists(x, x > 1)`, `cel.bind(v, …)`) are local and not reported.
 */
export function expressionReferences(source: Expression): ExpressionReference[] {
  const out: ExpressionReference[] = [];
  const walk = (node: unknown, bound: ReadonlySet<string>): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const item of node) walk(item, bound);
      return;
    }
    const n = node as AstNode;
    const path = memberPath(n);
    if (path) {
      const root = path.split('.')[0] ?? path;
      if (!bound.has(root)) out.push({ path, offset: typeof n.start === 'number' ? n.start : 0 });
      return;
    }
    if (n.op === 'rcall' && walkMacro(n, bound, walk)) return;
    walk(n.args, bound);
  };
  walk(compiled(source).ast, new Set());
  return out;
}

interface AstNode {
  op?: string;
  args?: unknown;
  start?: number;
}

/** Macros whose leading identifier arguments are local variables of the remaining arguments. */
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

function walkMacro(
  node: AstNode,
  bound: ReadonlySet<string>,
  walk: (node: unknown, bound: ReadonlySet<string>) => void,
): boolean {
  const [name, receiver, args] = node.args as [unknown, AstNode, unknown];
  if (typeof name !== 'string' || !Array.isArray(args)) return false;
  const items = args as AstNode[];
  const isCelBind = name === 'bind' && receiver.op === 'id' && receiver.args === 'cel';
  if (!isCelBind && !COMPREHENSIONS.has(name)) return false;
  const varCount = isCelBind ? 1 : name === 'map' || name === 'filter' ? 1 : items.length - 1;
  const vars = items.slice(0, varCount);
  if (vars.length === 0 || vars.some((v) => v.op !== 'id' || typeof v.args !== 'string')) return false;
  if (!isCelBind) walk(receiver, bound);
  const inner = new Set([...bound, ...vars.map((v) => v.args as string)]);
  // cel.bind(v, init, body): `init` is evaluated outside the binding.
  if (isCelBind) walk(items[1], bound);
  walk(items.slice(isCelBind ? 2 : varCount), inner);
  return true;
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

/**
 * Limits on what one expression may cost. cel-js has no step budget, so the cost is bounded from
 * the shape of the expression: how deeply loops nest (comprehensions and `in` on a list, each
 * linear in a list's size), how many there are, how long list literals are, and that every
 * `matches` regex is a literal that cannot backtrack catastrophically (`safe-regex.ts`).
 */
export const EXPRESSION_LIMITS = {
  /** Loops inside loops: `a.all(x, b.exists(y, y in c))` is 3. */
  maxLoopDepth: 3,
  /** Comprehensions in one expression. */
  maxComprehensions: 12,
  /** Elements of one list literal. */
  maxListLiteral: 100,
  /**
   * At evaluation, when loops nest (depth ≥ 2): comprehensions × (the longest list in scope or
   * written in the expression)^depth must stay under this, else the expression fails (a guard:
   * false). Two nested comprehensions over lists of 1,400 pass.
   */
  maxSteps: 4_000_000,
} as const;

/** The shape of an expression that bounds its cost. */
export interface ExpressionCost {
  loopDepth: number;
  comprehensions: number;
  /** Elements of the longest list literal it writes. */
  longestLiteral: number;
  /** Why it may cost too much whatever the data (a check-time error), if so. */
  problem?: string;
}

const costs = new Map<string, ExpressionCost>();

/** The cost shape of a well-formed expression (cached). */
export function expressionCost(source: Expression): ExpressionCost {
  let cost = costs.get(source);
  if (cost) return cost;
  const found = { comprehensions: 0, longestLiteral: 0, problems: [] as string[] };
  const depth = loopDepth(compiled(source).ast as AstNode, found);
  const L = EXPRESSION_LIMITS;
  const problems = found.problems;
  if (depth > L.maxLoopDepth)
    problems.push(`loops nest ${depth} deep (comprehensions and "in" on a list; at most ${L.maxLoopDepth})`);
  if (found.comprehensions > L.maxComprehensions)
    problems.push(`${found.comprehensions} comprehensions (at most ${L.maxComprehensions})`);
  cost = {
    loopDepth: depth,
    comprehensions: found.comprehensions,
    longestLiteral: found.longestLiteral,
    ...(problems.length ? { problem: problems.join('; ') } : {}),
  };
  if (costs.size >= 2000) costs.clear();
  costs.set(source, cost);
  return cost;
}

/** Depth of nested loops under `node`; counts comprehensions, list literals and unsafe `matches`. */
function loopDepth(
  node: unknown,
  found: { comprehensions: number; longestLiteral: number; problems: string[] },
): number {
  if (!node || typeof node !== 'object') return 0;
  if (Array.isArray(node)) return Math.max(0, ...node.map((n) => loopDepth(n, found)));
  const n = node as AstNode;
  if (n.op === 'list' && Array.isArray(n.args)) {
    found.longestLiteral = Math.max(found.longestLiteral, n.args.length);
    if (n.args.length > EXPRESSION_LIMITS.maxListLiteral)
      found.problems.push(
        `a list literal of ${n.args.length} elements (at most ${EXPRESSION_LIMITS.maxListLiteral})`,
      );
  }
  if (n.op === 'rcall' || n.op === 'call') checkMatches(n, found.problems);
  if (n.op === 'rcall') {
    const [name, receiver, args] = n.args as [unknown, unknown, unknown];
    if (typeof name === 'string' && COMPREHENSIONS.has(name) && Array.isArray(args)) {
      found.comprehensions++;
      return Math.max(loopDepth(receiver, found), 1 + loopDepth(args, found));
    }
  }
  if (n.op === 'in') return 1 + loopDepth(n.args, found);
  return loopDepth(n.args, found);
}

/** `s.matches(re)` / `matches(s, re)`: `re` must be a literal the linear engine accepts and that cannot backtrack badly. */
function checkMatches(n: AstNode, problems: string[]): void {
  const args = n.args as unknown[];
  if (args[0] !== 'matches') return;
  const pattern = (n.op === 'rcall' ? (args[2] as AstNode[])[0] : (args[1] as AstNode[])[1]) as
    (AstNode & { args?: unknown }) | undefined;
  if (pattern?.op !== 'value' || typeof pattern.args !== 'string') {
    problems.push('the regex of matches() must be a string literal');
    return;
  }
  const why = regexCostProblem(pattern.args);
  if (why) problems.push(`matches(${JSON.stringify(pattern.args)}): ${why}`);
}

/** Length of the longest list (or entries of the largest map) anywhere in `value`. */
function longestList(value: unknown): number {
  if (!value || typeof value !== 'object') return 0;
  const items = Array.isArray(value) ? (value as unknown[]) : Object.values(value);
  let longest = items.length;
  for (const v of items) longest = Math.max(longest, longestList(v));
  return longest;
}

/** Refuse an expression whose shape, or whose nested loops over this scope, could run too long. */
function refuseCostly(source: Expression, scope: ExpressionScope): void {
  const cost = expressionCost(source);
  if (cost.problem) throw new ExpressionError(`${source}: too costly: ${cost.problem}`);
  if (cost.loopDepth < 2) return;
  const size = Math.max(longestList(scope.ctx), longestList(scope.data), cost.longestLiteral);
  const steps = Math.max(1, cost.comprehensions) * size ** cost.loopDepth;
  if (steps > EXPRESSION_LIMITS.maxSteps)
    throw new ExpressionError(
      `${source}: too costly: loops nested ${cost.loopDepth} deep over ${size} values (more than ${EXPRESSION_LIMITS.maxSteps} steps)`,
    );
}

/** Evaluate an expression to a JSON value. Throws `ExpressionError` on evaluation failure. */
export function evaluateExpression(source: Expression, scope: ExpressionScope): Json {
  refuseCostly(source, scope);
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
