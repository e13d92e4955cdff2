/**
 * Turns ajv's errors for the procedure schema into plain diagnostics: one per real problem,
 * positioned on the offending YAML node, worded for the person editing the file.
 *
 * ajv reports every failed branch of a `oneOf` (a transition "must be object", "must be array",
 * "must match exactly one schema"); `collapseUnions` keeps only the branch whose shape matches
 * the data, or one "must be a mapping or a list" when none does.
 */
import type { ErrorObject } from 'ajv/dist/2020.js';
import type { Diagnostic, DiagnosticCode } from './diagnostics.ts';
import { joinPointer, parsePointer } from './positions.ts';
import type { PositionIndex } from './positions.ts';
import { describeLocation } from './describe-location.ts';
import { didYouMean } from './suggest.ts';

interface SchemaNode {
  title?: string;
  description?: string;
  properties?: Record<string, SchemaNode | boolean>;
  minProperties?: number;
  maxProperties?: number;
}

/** What a message needs: the problem, where it is, and whether to point at the key or the value. */
interface Problem {
  code: DiagnosticCode;
  message: string;
  pointer: string;
  at: 'key' | 'value';
  hint?: string;
}

/** Hints for properties required by conditional (`if`/`then`) rules, which carry no descriptions. */
const REQUIRED_HINTS: Record<string, string> = {
  initial: 'a state with child states starts in one of them: name it in "initial" (or use type: parallel)',
  states: 'compound and parallel states need child states',
};

/** Diagnostics for ajv's errors (`verbose: true`, so errors carry `parentSchema` and `data`). */
export function schemaDiagnostics(
  errors: readonly ErrorObject[],
  document: unknown,
  positions: PositionIndex,
  file: string,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const error of collapseUnions(errors)) {
    const problem = describeError(error, document);
    if (!problem) continue;
    const pos = problem.at === 'key' ? positions.key(problem.pointer) : positions.value(problem.pointer);
    const id = `${problem.code} ${pos.line}:${pos.column} ${problem.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({
      code: problem.code,
      severity: 'error',
      message: problem.message,
      file,
      line: pos.line,
      column: pos.column,
      pointer: problem.pointer,
      ...(problem.hint ? { hint: problem.hint } : {}),
    });
  }
  return out;
}

/**
 * Replace each failed `oneOf`/`anyOf` by the errors of the branch whose type matched the data;
 * when no branch's type matched, by one type error listing what would have been accepted.
 * (Our unions always have branches of distinct types, so at most one branch matches.)
 */
export function collapseUnions(errors: readonly ErrorObject[]): ErrorObject[] {
  const isUnion = (e: ErrorObject): boolean => e.keyword === 'oneOf' || e.keyword === 'anyOf';
  const drop = new Set<ErrorObject>();
  const synthetic: ErrorObject[] = [];
  for (const union of errors.filter(isUnion)) {
    const at = union.instancePath;
    const typeErrors = errors.filter((e) => e.keyword === 'type' && e.instancePath === at);
    const within = (e: ErrorObject): boolean => e.instancePath === at || e.instancePath.startsWith(at + '/');
    const branchErrors = errors.filter((e) => within(e) && !isUnion(e) && !typeErrors.includes(e));
    drop.add(union);
    for (const e of typeErrors) drop.add(e);
    if (branchErrors.length === 0) {
      const types = [...new Set(typeErrors.map((e) => String(e.params.type)))];
      synthetic.push({ ...union, keyword: 'type', params: { type: types.join(',') } });
    }
  }
  return [...errors.filter((e) => !drop.has(e)), ...synthetic];
}

function describeError(e: ErrorObject, document: unknown): Problem | undefined {
  const at = e.instancePath;
  const parent = (e.parentSchema ?? {}) as SchemaNode;
  const where = describeLocation(at);
  switch (e.keyword) {
    case 'required': {
      const prop = String(e.params.missingProperty);
      const hint = propertyDescription(parent, prop) ?? REQUIRED_HINTS[prop];
      return problem(
        'PROC_SCHEMA',
        `missing required property "${prop}" in ${where}`,
        at,
        at === '' ? 'value' : 'key',
        hint,
      );
    }
    case 'additionalProperties': {
      const prop = String(e.params.additionalProperty);
      const allowed = Object.keys(parent.properties ?? {});
      const suggestion = didYouMean(prop, allowed);
      const hint = suggestion ? undefined : `allowed here: ${allowed.join(', ')}`;
      return problem(
        'PROC_SCHEMA',
        `unknown property "${prop}" in ${where}${suggestion}`,
        joinPointer(at, prop),
        'key',
        hint,
      );
    }
    case 'pattern':
      return patternProblem(e, parent, where);
    case 'type':
      return typeProblem(e, parent, where);
    case 'enum': {
      const allowed = (e.params.allowedValues as unknown[]).map(String);
      const got = typeof e.data === 'string' ? `, got "${e.data}"${didYouMean(e.data, allowed)}` : '';
      return problem('PROC_SCHEMA', `${where} must be one of: ${allowed.join(', ')}${got}`, at, 'value');
    }
    case 'const':
      return problem('PROC_SCHEMA', `${where} must be ${JSON.stringify(e.params.allowedValue)}`, at, 'value');
    case 'minItems': {
      const n = Number(e.params.limit);
      return problem(
        'PROC_SCHEMA',
        `${where} must have at least ${n} item${n === 1 ? '' : 's'}`,
        at,
        'value',
        parent.description,
      );
    }
    case 'minProperties':
    case 'maxProperties':
      return cardinalityProblem(e, parent, where);
    case 'minLength':
      return problem('PROC_SCHEMA', `${where} must not be empty`, at, 'value');
    case 'false schema':
      return notAllowedProblem(at, document);
    case 'if':
    case 'oneOf':
    case 'anyOf':
    case 'propertyNames':
    case 'discriminator':
      return undefined; // reported through the errors of the branch or keyword that failed
    default:
      return problem('PROC_SCHEMA', `${where} ${e.message ?? 'is invalid'}`, at, 'value');
  }
}

function problem(
  code: DiagnosticCode,
  message: string,
  pointer: string,
  at: 'key' | 'value',
  hint?: string,
): Problem {
  return hint ? { code, message, pointer, at, hint } : { code, message, pointer, at };
}

function patternProblem(e: ErrorObject, parent: SchemaNode, where: string): Problem {
  const kind = (parent.title ?? 'value').toLowerCase();
  const code: DiagnosticCode = /^#\/\$defs\/(duration|delay)\//.test(e.schemaPath)
    ? 'PROC_BAD_DURATION'
    : 'PROC_SCHEMA';
  const name = (e as ErrorObject & { propertyName?: string }).propertyName;
  if (name !== undefined) {
    const pointer = joinPointer(e.instancePath, name);
    return problem(
      code,
      `"${name}" is not a valid ${kind} (in ${where})`,
      pointer,
      'key',
      parent.description,
    );
  }
  return problem(
    code,
    `"${String(e.data)}" is not a valid ${kind} (in ${where})`,
    e.instancePath,
    'value',
    parent.description,
  );
}

function typeProblem(e: ErrorObject, parent: SchemaNode, where: string): Problem {
  const expected = String(e.params.type).split(',');
  const got = kindOf(e.data);
  const message = `${where} must be ${expected.map(typePhrase).join(' or ')}, got ${got}`;
  const scalar = typeof e.data === 'number' || typeof e.data === 'boolean';
  const hint =
    expected.includes('string') && scalar
      ? `YAML reads this unquoted value as a ${typeof e.data}; put it in quotes`
      : parent.description;
  return problem('PROC_SCHEMA', message, e.instancePath, 'value', hint);
}

function cardinalityProblem(e: ErrorObject, parent: SchemaNode, where: string): Problem {
  const keys = Object.keys(parent.properties ?? {});
  if (parent.minProperties === 1 && parent.maxProperties === 1 && keys.length > 0) {
    return problem(
      'PROC_SCHEMA',
      `${where} must have exactly one of: ${keys.join(', ')}`,
      e.instancePath,
      'value',
    );
  }
  const message =
    e.keyword === 'minProperties'
      ? `${where} must not be empty`
      : `${where} must have at most ${String(e.params.limit)} entries`;
  return problem('PROC_SCHEMA', message, e.instancePath, 'value', parent.description);
}

/** A property forbidden by a conditional rule (e.g. `on` in a final state). */
function notAllowedProblem(at: string, document: unknown): Problem {
  const segments = parsePointer(at);
  const prop = segments[segments.length - 1] ?? '';
  const parentPointer = at.slice(0, at.lastIndexOf('/'));
  const owner = valueAt(document, segments.slice(0, -1));
  const type = owner && typeof owner === 'object' ? (owner as Record<string, unknown>).type : undefined;
  const article = typeof type === 'string' && /^[aeiou]/.test(type) ? 'an' : 'a';
  const hint =
    typeof type === 'string'
      ? `${article} ${type} ${parentPointer === '' ? 'procedure' : 'state'} has no "${prop}"`
      : undefined;
  return problem(
    'PROC_SCHEMA',
    `property "${prop}" is not allowed in ${describeLocation(parentPointer)}`,
    at,
    'key',
    hint,
  );
}

function propertyDescription(schema: SchemaNode, prop: string): string | undefined {
  const sub = schema.properties?.[prop];
  return typeof sub === 'object' ? sub.description : undefined;
}

function valueAt(document: unknown, segments: readonly string[]): unknown {
  let node = document;
  for (const s of segments) {
    if (!node || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[s];
  }
  return node;
}

function typePhrase(type: string): string {
  const phrases: Record<string, string> = {
    object: 'a mapping',
    array: 'a list',
    string: 'a string',
    integer: 'an integer',
    number: 'a number',
    boolean: 'true or false',
    null: 'empty',
  };
  return phrases[type] ?? type;
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string "${value}"`;
  return `${typeof value === 'number' ? 'the number' : 'the value'} ${String(value)}`;
}
