/**
 * Abstract values and what is known of the context: encoded value sets per field (`canon` /
 * `decode`), JSON Schema domains, evaluation of CEL expressions over every combination of possible
 * values, narrowing on a guard, remembered facts over `ctx` (canonical predicates and their
 * lookup), guard branches, the start context, widening and assignments.
 */
import { parse, serialize } from '@marcbachmann/cel-js';
import { evaluateExpression, expressionReferences } from '../expressions.ts';
import type { Json, JsonSchema } from '../ir.ts';
import { isInputField } from '../start-fields.ts';
import type { Model, Tx } from './model.ts';

/** Largest value set kept for one field; larger sets become unknown. */
const MAX_VALUES = 16;
/** Most distinct values one field may take over the whole search before it is widened to unknown. */
const WIDEN_AFTER = 24;
/** Most value combinations enumerated to evaluate one expression. */
export const MAX_COMBINATIONS = 256;
/** Encoding of an absent field in a value set (valid JSON never starts with `~`). */
export const ABSENT = '~';

// ---------------------------------------------------------------------------------------------
// Abstract values.

/** Encoded possible values of a field (sorted, distinct), or `null` when unknown. */
type Values = readonly string[] | null;
/** Abstract context; a field missing here is absent. */
export type AbsCtx = Readonly<Record<string, Values>>;

export function canon(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canon(v[k] as Json)}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

export const decode = (enc: string): Json => JSON.parse(enc) as Json;
export const valuesOf = (ctx: AbsCtx, field: string): Values =>
  field in ctx ? (ctx[field] ?? null) : [ABSENT];
export const sorted = (values: Iterable<string>): string[] => [...new Set(values)].sort();

/** Possible values allowed by a JSON Schema (enum, const, boolean), or `null` when open. */
export function schemaDomain(schema: JsonSchema | undefined): string[] | null {
  if (!schema) return null;
  if (Array.isArray(schema.enum)) return sorted((schema.enum as Json[]).map(canon));
  if ('const' in schema) return [canon(schema.const as Json)];
  if (schema.type === 'boolean') return ['false', 'true'];
  return null;
}

/** What the event's data may hold for the fields the expressions read. */
export interface DataValuation {
  /** Every data field is listed in `values` (absent when missing). */
  complete: boolean;
  /** Field → encoded value, `ABSENT`, or `null` (unknown). */
  values: Record<string, string | null>;
}

export const NO_DATA: DataValuation = { complete: true, values: {} };

/** Who is acting, for the guards and assigns of one step. */
export interface Env {
  roles: string[] | undefined;
  data: DataValuation;
  /** A timer: the actor is the system (`{id: 'system', roles: []}`), and there is no data. */
  system: boolean;
  /** A symbolic sender whose id is known (identity checks: `actor_is`). */
  actorId?: string;
}

const referenceCache = new Map<string, string[] | null>();
/** The variable paths an expression reads (memoised); `null` when it does not parse. */
export function refsOf(expr: string): string[] | null {
  let out = referenceCache.get(expr);
  if (out === undefined) {
    try {
      out = expressionReferences(expr).map((r) => r.path);
    } catch {
      out = null;
    }
    referenceCache.set(expr, out);
  }
  return out;
}

const FAILED = Symbol('failed');
/** The value of a guard that reads something unknown (the actor, the time, an unknown field). */
export const UNKNOWN = Symbol('unknown');
type Evaluation = { combo: Record<string, string>; value: Json | typeof FAILED | typeof UNKNOWN }[];

/** Evaluate an expression on every combination of possible values; `undefined` when it reads something unknown. */
export function evaluateAbstract(expr: string, ctx: AbsCtx, env: Env): Evaluation | undefined {
  const reads = readsOf(expr);
  if (!reads) return undefined;
  for (const [root, field] of reads.paths) {
    if (root === 'data') {
      if (field === undefined ? !env.data.complete : dataValue(env.data, field) === null) return undefined;
    } else if ((root === 'actor' && !env.system) || root === 'now') return undefined;
  }
  const names = reads.wholeCtx ? sorted([...reads.ctx, ...Object.keys(ctx)]) : reads.ctx;
  const domains = names.map((f) => valuesOf(ctx, f));
  if (domains.some((d) => d === null)) return undefined;
  if (domains.reduce((n, d) => n * (d?.length ?? 1), 1) > MAX_COMBINATIONS) return undefined;
  const key = `A${env.system ? 1 : 0}${dataPart(env.data, reads)}\u0001${expr}\u0001${domainsKey(names, domains as string[][])}`;
  const known = evaluations.get(key);
  if (known) return known;
  const data: Record<string, unknown> = {};
  for (const [f, v] of Object.entries(env.data.values)) if (v !== null && v !== ABSENT) data[f] = decode(v);
  const actor = env.system ? { id: 'system', roles: [] } : { id: '', roles: [] };
  const out: Evaluation = [];
  for (const combo of combinations(names, domains as string[][])) {
    const scopeCtx: Record<string, unknown> = {};
    for (const [f, v] of Object.entries(combo)) if (v !== ABSENT) scopeCtx[f] = decode(v);
    let value: Json | typeof FAILED;
    try {
      value = evaluateExpression(expr, { ctx: scopeCtx, data, actor, now: 0 });
    } catch {
      value = FAILED;
    }
    out.push({ combo, value });
  }
  return remembered(key, out);
}

/** Truth of a boolean connective's operand: true, false, an error, or unknown. */
type Truth = true | false | typeof FAILED | typeof UNKNOWN;

interface CelNode {
  op?: string;
  args?: unknown;
}

/** Leaves of a guard (the operands of `&&`, `||`, `!`): CEL text and the paths read, per syntax tree. */
const leaves = new WeakMap<object, { text: string; refs: string[][] } | null>();
function leafOf(n: CelNode): { text: string; refs: string[][] } | null {
  let out = leaves.get(n);
  if (out === undefined) {
    try {
      const text = serialize(n as Parameters<typeof serialize>[0]);
      out = { text, refs: expressionReferences(text).map((r) => r.path.split('.')) };
    } catch {
      out = null;
    }
    leaves.set(n, out);
  }
  return out;
}

/** A guard's syntax tree and the context fields it reads, memoised per text. */
const guards = new Map<string, { ast: CelNode; fields: string[] } | null>();
function parsedGuard(expr: string): { ast: CelNode; fields: string[] } | null {
  let out = guards.get(expr);
  if (out === undefined) {
    try {
      const refs = expressionReferences(expr).map((r) => r.path.split('.'));
      const fields = sorted(refs.filter((r) => r[0] === 'ctx' && r[1] !== undefined).map((r) => r[1] ?? ''));
      out = { ast: parse(expr).ast as CelNode, fields };
    } catch {
      out = null;
    }
    guards.set(expr, out);
  }
  return out;
}

/**
 * Evaluate a guard over every combination of the KNOWN fields it reads, with three-valued logic:
 * an operand of `&&` / `||` / `!` that reads something unknown is unknown, and the connectives
 * decide what they can without it (`false && ?` is false, `true || ?` is true) — CEL's own
 * absorption. So a guard such as `actor.id == ctx.holder && (op == 'copy' && ctx.permit_copy)`
 * still narrows the fields it can decide. `undefined` when no field is known or it does not parse.
 */
export function evaluatePartial(expr: string, ctx: AbsCtx, env: Env, always = false): Evaluation | undefined {
  const parsed = parsedGuard(expr);
  if (!parsed) return undefined;
  const names = parsed.fields.filter((f) => valuesOf(ctx, f) !== null);
  if (!names.length && !always) return undefined;
  const domains = names.map((f) => valuesOf(ctx, f) as string[]);
  if (domains.reduce((n, d) => n * d.length, 1) > MAX_COMBINATIONS) return undefined;
  const actorKey = env.system ? '' : `${env.actorId ?? ''}\u0002${(env.roles ?? []).join(',')}`;
  const reads = readsOf(expr);
  const dataText = reads ? dataPart(env.data, reads) : dataKey(env.data);
  const key = `P${env.system ? 1 : 0}${actorKey}\u0001${dataText}\u0001${expr}\u0001${domainsKey(names, domains)}`;
  const memo = evaluations.get(key);
  if (memo) return memo;
  const known = new Set(names);
  const data: Record<string, Json> = {};
  for (const [f, v] of Object.entries(env.data.values)) if (v !== null && v !== ABSENT) data[f] = decode(v);
  const actor = env.system ? { id: 'system', roles: [] } : { id: env.actorId ?? '', roles: env.roles ?? [] };
  const decidable = (refs: string[][]): boolean =>
    refs.every(([root, field]) => {
      if (root === 'ctx') return field !== undefined && known.has(field);
      if (root === 'data')
        return field === undefined ? env.data.complete : dataValue(env.data, field) !== null;
      return root === 'actor' && (env.system || (env.actorId !== undefined && field === 'id'));
    });
  const decided = new Map<CelNode, string | null>();
  const textOfLeaf = (n: CelNode): string | null => {
    let text = decided.get(n);
    if (text === undefined) {
      const info = leafOf(n);
      text = info && decidable(info.refs) ? info.text : null;
      decided.set(n, text);
    }
    return text;
  };
  const out: Evaluation = [];
  for (const combo of combinations(names, domains)) {
    const scopeCtx: Record<string, Json> = {};
    for (const [f, v] of Object.entries(combo)) if (v !== ABSENT) scopeCtx[f] = decode(v);
    const truth = (n: CelNode): Truth => {
      const args = Array.isArray(n.args) ? (n.args as CelNode[]) : [];
      if ((n.op === '&&' || n.op === '||') && args.length === 2) {
        const absorbing = n.op === '||';
        const a = truth(args[0] as CelNode);
        if (a === absorbing) return absorbing;
        const b = truth(args[1] as CelNode);
        if (b === absorbing) return absorbing;
        if (a === UNKNOWN || b === UNKNOWN) return UNKNOWN;
        return a === FAILED || b === FAILED ? FAILED : !absorbing;
      }
      if (n.op === '!_' && n.args && typeof n.args === 'object' && !Array.isArray(n.args)) {
        const a = truth(n.args as CelNode);
        return typeof a === 'boolean' ? !a : a;
      }
      const text = textOfLeaf(n);
      if (text === null) return UNKNOWN;
      try {
        const v = evaluateExpression(text, { ctx: scopeCtx, data, actor, now: 0 });
        return v === true ? true : v === false ? false : FAILED;
      } catch {
        return FAILED;
      }
    };
    out.push({ combo, value: truth(parsed.ast) });
  }
  return remembered(key, out);
}

// Evaluations are pure functions of the expression, the values of the fields it reads, the event
// data and the actor: remembered by those, since a search meets the same ones in many
// configurations. Bounded: the whole memo is dropped past MAX_EVALUATIONS (a long-lived editor).
const MAX_EVALUATIONS = 50_000;
const evaluations = new Map<string, Evaluation>();
const dataKeys = new WeakMap<DataValuation, string>();

function remembered(key: string, ev: Evaluation): Evaluation {
  if (evaluations.size >= MAX_EVALUATIONS) evaluations.clear();
  evaluations.set(key, ev);
  return ev;
}

/** What an expression reads, split: its paths, its `ctx` fields (sorted), its `data` fields. */
interface Reads {
  paths: [string, string | undefined][];
  ctx: string[];
  /** Reads `ctx` as a whole (its fields are then every field present). */
  wholeCtx: boolean;
  data: string[];
  /** Reads `data` as a whole (not only named fields). */
  wholeData: boolean;
}
const readsMemo = new Map<string, Reads | null>();
function readsOf(expr: string): Reads | null {
  let out = readsMemo.get(expr);
  if (out === undefined) {
    const refs = refsOf(expr);
    if (!refs) out = null;
    else {
      const paths = refs.map((r): [string, string | undefined] => {
        const [root = '', field] = r.split('.');
        return [root, field];
      });
      const fieldsOf = (root: string): string[] =>
        sorted(paths.flatMap(([r, f]) => (r === root && f !== undefined ? [f] : [])));
      out = {
        paths,
        ctx: fieldsOf('ctx'),
        wholeCtx: paths.some(([r, f]) => r === 'ctx' && f === undefined),
        data: fieldsOf('data'),
        wholeData: paths.some(([r, f]) => r === 'data' && f === undefined),
      };
    }
    readsMemo.set(expr, out);
  }
  return out;
}

/** The part of the event data an expression can see: the fields it reads (or all of it). */
function dataPart(data: DataValuation, reads: Reads): string {
  if (reads.wholeData) return dataKey(data);
  let out = '';
  for (const f of reads.data) out += `${f}=${dataValue(data, f) ?? '?'}\u0002`;
  return out;
}

function dataKey(data: DataValuation): string {
  let out = dataKeys.get(data);
  if (out === undefined) {
    out = `${data.complete ? 1 : 0}${JSON.stringify(data.values)}`;
    dataKeys.set(data, out);
  }
  return out;
}

function domainsKey(names: readonly string[], domains: readonly (readonly string[])[]): string {
  let out = '';
  for (let i = 0; i < names.length; i++) out += `${names[i]}\u0002${(domains[i] ?? []).join('\u0003')}\u0001`;
  return out;
}

function dataValue(data: DataValuation, field: string): string | null {
  const v = data.values[field];
  return v !== undefined ? v : data.complete ? ABSENT : null;
}

export function* combinations(names: string[], domains: string[][]): Generator<Record<string, string>> {
  const pick = (i: number, acc: Record<string, string>): Record<string, string>[] => {
    if (i === names.length) return [acc];
    return (domains[i] ?? []).flatMap((v) => pick(i + 1, { ...acc, [names[i] ?? '']: v }));
  };
  yield* pick(0, {});
}

/** Narrow the fields a guard read to the values seen in `combos` (`null`: no such combination). */
function narrow(ctx: AbsCtx, combos: Evaluation): AbsCtx | null {
  if (!combos.length) return null;
  const out: Record<string, Values> = { ...ctx };
  for (const f of Object.keys(combos[0]?.combo ?? {}))
    out[f] = sorted(combos.map((c) => c.combo[f] ?? ABSENT));
  return sortKeys(out);
}

// ---------------------------------------------------------------------------------------------
// Facts: undecided guards over `ctx`, remembered (as canonical CEL syntax trees) until changed.

/** What is known of the context: value sets per field, and facts (sorted canonical predicates). */
export interface Knowledge {
  ctx: AbsCtx;
  facts: readonly string[];
}

interface Ast {
  op?: string;
  args?: unknown;
}

const predicates = new Map<string, Ast | null>();

/** The syntax tree of an expression that reads `ctx` only (else `null`). */
export function predicate(expr: string): Ast | null {
  let ast = predicates.get(expr);
  if (ast !== undefined) return ast;
  try {
    const refs = expressionReferences(expr).map((r) => r.path.split('.'));
    ast = refs.every((r) => r[0] === 'ctx' && r[1] !== undefined) ? (parse(expr).ast as Ast) : null;
  } catch {
    ast = null;
  }
  predicates.set(expr, ast);
  return ast;
}

/** Canonical text of a syntax tree: positions dropped, operands of `==` / `!=` ordered. */
const canonTexts = new WeakMap<object, string>();
function canonAst(node: unknown): string {
  if (!node || typeof node !== 'object') return canonAstOf(node);
  let out = canonTexts.get(node);
  if (out === undefined) {
    out = canonAstOf(node);
    canonTexts.set(node, out);
  }
  return out;
}

function canonAstOf(node: unknown): string {
  if (typeof node === 'bigint') return `${node}n`;
  if (Array.isArray(node)) return `[${node.map(canonAst).join(',')}]`;
  if (!node || typeof node !== 'object') return JSON.stringify(node) ?? 'undefined';
  const { op, args } = node as Ast;
  if ((op === '==' || op === '!=') && Array.isArray(args))
    return `${op}(${args.map(canonAst).sort().join(',')})`;
  return `${op ?? ''}(${canonAst(args)})`;
}

/** CEL text of each fact's predicate (by canonical key), to evaluate it on concrete values. */
const factTexts = new Map<string, string | undefined>();

function textOf(ast: Ast): string | undefined {
  try {
    return serialize(ast as Parameters<typeof serialize>[0]);
  } catch {
    return undefined;
  }
}

/** The CEL text of a fact (`T:…` / `F:…`) and whether it says "true"; `undefined` when unknown. */
export function factExpression(fact: string): { expr: string; truth: boolean } | undefined {
  const expr = factTexts.get(fact.slice(2));
  return expr === undefined ? undefined : { expr, truth: fact.startsWith('T:') };
}

/** `a == b` ↔ `a != b`. */
function flip(ast: Ast): Ast {
  return { ...ast, op: ast.op === '==' ? '!=' : '==' };
}

/**
 * The facts that follow from `ast` evaluating to `true` (`truth`), or to anything else (false or
 * an error: a missing field makes a guard not true without making its negation true). Keys are
 * `T:` (evaluates to true) or `F:` (does not evaluate to true) plus the canonical tree.
 */
function factsOf(ast: Ast, truth: boolean): string[] {
  const [a, b] = Array.isArray(ast.args) ? (ast.args as Ast[]) : [];
  if (a && b && ((ast.op === '&&' && truth) || (ast.op === '||' && !truth)))
    return [...factsOf(a, truth), ...factsOf(b, truth)];
  const key = canonAst(ast);
  if (!factTexts.has(key)) factTexts.set(key, textOf(ast));
  if (!truth) return [`F:${key}`];
  const out = [`T:${key}`];
  // `!x` true: x is exactly false. `a == b` true: both sides evaluate, so `a != b` is false.
  if (ast.op === '!_') out.push(...factsOf(ast.args as Ast, false));
  if (ast.op === '==' || ast.op === '!=') {
    const flipped = flip(ast);
    const fkey = canonAst(flipped);
    if (!factTexts.has(fkey)) factTexts.set(fkey, textOf(flipped));
    out.push(`F:${fkey}`);
  }
  return out;
}

const factSets = new WeakMap<readonly string[], ReadonlySet<string>>();
/** The facts as a set (memoised per list: configurations share their lists). */
export function factSet(facts: readonly string[]): ReadonlySet<string> {
  let out = factSets.get(facts);
  if (!out) {
    out = new Set(facts);
    factSets.set(facts, out);
  }
  return out;
}

/** Does `ast` evaluate to true (`true`), surely not to true (`false`), or is it unknown? */
export function lookup(ast: Ast, facts: ReadonlySet<string>): boolean | undefined {
  const key = canonAst(ast);
  if (facts.has(`T:${key}`)) return true;
  if (facts.has(`F:${key}`)) return false;
  const [a, b] = Array.isArray(ast.args) ? (ast.args as Ast[]) : [];
  if (ast.op === '!_') return lookup(ast.args as Ast, facts) === true ? false : undefined;
  if ((ast.op === '&&' || ast.op === '||') && a && b) {
    // CEL's && and || absorb errors: false && error is false, true || error is true.
    const [x, y] = [lookup(a, facts), lookup(b, facts)];
    const absorbing = ast.op === '||';
    if (x === absorbing || y === absorbing) return absorbing;
    return x === !absorbing && y === !absorbing ? !absorbing : undefined;
  }
  return undefined;
}

function ctxFieldsOf(node: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => ctxFieldsOf(n, out));
  else if (node && typeof node === 'object') {
    const { op, args } = node as Ast;
    const [obj, key] = Array.isArray(args) ? (args as unknown[]) : [];
    const base = obj as Ast | undefined;
    if (op === '.' && base?.op === 'id' && base.args === 'ctx' && typeof key === 'string') out.add(key);
    else ctxFieldsOf(args, out);
  }
  return out;
}

function withFacts(m: Model, k: Knowledge, ast: Ast, truth: boolean): Knowledge {
  const fields = [...ctxFieldsOf(ast)];
  const added = factsOf(ast, truth);
  for (const key of added) if (!m.factFields.has(key)) m.factFields.set(key, fields);
  return { ctx: k.ctx, facts: sorted([...k.facts, ...added]) };
}

/** What is known when a guard is true / false (`null`: it cannot be). */
export function guardBranches(
  m: Model,
  guard: string | undefined,
  k: Knowledge,
  env: Env,
): { t: Knowledge | null; f: Knowledge | null } {
  if (!guard) return { t: k, f: null };
  const ast = predicate(guard);
  const known = ast ? lookup(ast, factSet(k.facts)) : undefined;
  if (known !== undefined) return known ? { t: k, f: null } : { t: null, f: k };
  const ev = evaluateAbstract(guard, k.ctx, env) ?? (ast ? undefined : evaluatePartial(guard, k.ctx, env));
  if (!ev) return ast ? { t: withFacts(m, k, ast, true), f: withFacts(m, k, ast, false) } : { t: k, f: k };
  const branch = (combos: Evaluation): Knowledge | null => {
    const ctx = narrow(k.ctx, combos);
    return ctx ? { ctx, facts: k.facts } : null;
  };
  return {
    t: branch(ev.filter((e) => e.value === true || e.value === UNKNOWN)),
    f: branch(ev.filter((e) => e.value !== true)),
  };
}

/**
 * The start context: an input field (`start-fields.ts`) takes anything its schema allows (or its
 * default when the start omits it); any other field starts at its default, or absent.
 */
export function initialContext(m: Model): AbsCtx {
  const ctx: Record<string, Values> = {};
  for (const [name, field] of Object.entries(m.ir.context)) {
    const omitted = field.default !== undefined ? canon(field.default) : ABSENT;
    // Lists and objects are not tracked (see `remember`).
    if (!isInputField(field) && field.type !== 'array' && field.type !== 'object') {
      ctx[name] = [omitted];
      remember(m, name, ctx[name] ?? null);
      continue;
    }
    const domain = schemaDomain({ type: field.type, ...(field.schema ?? {}) });
    ctx[name] = domain === null ? null : field.required ? domain : sorted([...domain, omitted]);
    remember(m, name, ctx[name] ?? null);
  }
  return sortKeys(ctx);
}

/** Canonical form: keys sorted, fields that can only be absent left out. */
function sortKeys(ctx: Readonly<Record<string, Values>>): AbsCtx {
  // Usually already canonical (a copy of a canonical context with fields reassigned): kept as is.
  const keys = Object.keys(ctx);
  let canonical = true;
  for (let i = 0; i < keys.length && canonical; i++) {
    const v = ctx[keys[i] as string];
    if ((v?.length === 1 && v[0] === ABSENT) || (i > 0 && (keys[i - 1] as string) >= (keys[i] as string)))
      canonical = false;
  }
  if (canonical) return ctx;
  return Object.fromEntries(
    Object.entries(ctx)
      .filter(([, v]) => !(v?.length === 1 && v[0] === ABSENT))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

/** Record the values a field took; a field that takes too many is widened to unknown from now on. */
function remember(m: Model, field: string, values: Values): Values {
  if (m.widened.has(field)) return null;
  // Lists and objects (item lists, permissions per item) are not tracked: their values come from
  // event data, and telling `[]` from "some list" only multiplies configurations.
  const type = m.ir.context[field]?.type;
  if (type === 'array' || type === 'object') {
    m.widened.add(field);
    return null;
  }
  if (values === null) return null;
  const seen = m.seen.get(field) ?? new Set<string>();
  m.seen.set(field, seen);
  values.forEach((v) => seen.add(v));
  if (seen.size <= WIDEN_AFTER) return values;
  m.widened.add(field);
  return null;
}

export function applyAssigns(m: Model, txs: Tx[], k: Knowledge, env: Env): Knowledge {
  let current = k.ctx;
  let facts = k.facts;
  for (const t of txs)
    for (const action of t.ir.actions) {
      if (action.kind !== 'assign') continue;
      const next: Record<string, Values> = { ...current };
      for (const [field, expr] of Object.entries(action.fields)) {
        const ev = evaluateAbstract(expr, current, env);
        const ok = ev?.filter((e) => e.value !== FAILED).map((e) => canon(e.value as Json));
        const values = ok?.length ? sorted(ok) : null;
        next[field] = remember(m, field, values && values.length <= MAX_VALUES ? values : null);
        facts = facts.filter((f) => !m.factFields.get(f)?.includes(field));
      }
      current = sortKeys(next);
    }
  return { ctx: current, facts };
}
