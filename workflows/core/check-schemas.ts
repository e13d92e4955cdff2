/**
 * The JSON Schemas a definition embeds (event data, per-transition data, context fields) must
 * compile, so the runtime never meets a broken schema. Compiled with a separate ajv instance:
 * strict about unknown keywords (typos such as `requried`), relaxed about type annotations,
 * and not validating `format` (so any format name is accepted, as at run time).
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import type { CheckContext } from './check-report.ts';
import { transitionLabel } from './check-report.ts';
import { allTransitions } from './ir-walk.ts';
import type { JsonSchema } from './ir.ts';
import { canonicalJson } from './hash.ts';
import { joinPointer } from './positions.ts';
import { linearRegExp } from './safe-regex.ts';

let ajv: Ajv2020 | undefined;
/** Compiled schemas by their canonical JSON, so re-checking while someone types stays fast. */
const compiledCache = new Map<string, ValidateFunction | string>();
const CACHE_LIMIT = 500;

/** A validator for `schema`, or the reason it does not compile. */
function compile(schema: JsonSchema): ValidateFunction | string {
  const key = canonicalJson(schema); // the loader guarantees plain, finite JSON
  const cached = compiledCache.get(key);
  if (cached !== undefined) return cached;
  if (compiledCache.size >= CACHE_LIMIT) {
    compiledCache.clear();
    ajv = undefined; // ajv keeps its own cache of every schema object it compiled
  }
  ajv ??= new Ajv2020({
    strict: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    allErrors: true,
    validateFormats: false,
    addUsedSchema: false,
    code: { regExp: linearRegExp }, // as at run time (schemas.ts): linear, RE2 syntax
  });
  let result: ValidateFunction | string;
  try {
    result = ajv.compile(schema);
  } catch (err) {
    result = err instanceof Error ? err.message : String(err);
  }
  compiledCache.set(key, result);
  return result;
}

export function checkSchemas({ ir, report }: CheckContext): void {
  for (const [name, event] of Object.entries(ir.events)) {
    if (!event.data) continue;
    const pointer = joinPointer('/events', name, 'data');
    const compiled = compile(event.data);
    if (typeof compiled === 'string') {
      report(
        'PROC_BAD_EVENT_SCHEMA',
        pointer,
        `data schema of event ${name} is not a valid JSON Schema: ${compiled}`,
      );
    } else if (event.data.type !== 'object') {
      report(
        'PROC_BAD_EVENT_SCHEMA',
        pointer,
        `data schema of event ${name} must describe an object (type: object)`,
        {
          hint: 'event data is a form: an object whose properties are its fields',
        },
      );
    }
  }
  for (const t of allTransitions(ir.root)) {
    if (t.kind !== 'event' || !t.transition.data) continue;
    const compiled = compile(t.transition.data);
    if (typeof compiled === 'string') {
      report(
        'PROC_BAD_EVENT_SCHEMA',
        joinPointer(t.transition.pointer, 'data'),
        `data schema of ${transitionLabel(t)} is not a valid JSON Schema: ${compiled}`,
      );
    }
  }
  for (const [name, field] of Object.entries(ir.context)) {
    const pointer = joinPointer('/context', name);
    const compiled = compile({ ...(field.schema ?? {}), type: field.type });
    if (typeof compiled === 'string') {
      report(
        'PROC_BAD_FIELD_SCHEMA',
        joinPointer(pointer, 'schema'),
        `schema of context field "${name}" is not valid: ${compiled}`,
      );
    } else if (field.default !== undefined && !compiled(field.default)) {
      report(
        'PROC_BAD_FIELD_SCHEMA',
        joinPointer(pointer, 'default'),
        `default of context field "${name}" does not match its type and schema: ${errorText(compiled.errors)}`,
      );
    }
  }
}

function errorText(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((e) => `${e.instancePath || 'value'} ${e.message ?? e.keyword}`).join('; ');
}
