/**
 * The registers the product knows: those the current definitions declare (`records:`), merged by
 * name — a register several procedures write (e.g. `permission_log`) has the union of their
 * columns (first declaration's title and order first) and of their correctors. What a register
 * value may be (its declared type) is checked here for filters and corrections, with the same
 * JSON-type table the definition checker uses.
 */
import { REGISTER_JSON_TYPES } from '../../workflows/core/actions/record.ts';
import type { Json, ProcedureIR, RegisterFieldType, Text } from '../../workflows/core/ir.ts';
import { allTransitions } from '../../workflows/core/ir-walk.ts';

export interface RegisterField {
  name: string;
  title: Text;
  type: RegisterFieldType;
}

export interface Register {
  name: string;
  title: Text;
  description?: Text;
  fields: RegisterField[];
  /** Roles that may add corrections. */
  correctors: string[];
  /** The procedures that write it (not those that only look it up). */
  procedures: string[];
}

/** Does a `record` action of this definition write register `name`? */
function writes(ir: ProcedureIR, name: string): boolean {
  for (const { transition } of allTransitions(ir.root))
    if (transition.actions.some((a) => a.kind === 'record' && a.record === name)) return true;
  return false;
}

/** Every declared register of these definitions, by name (sorted by name). */
export function registerCatalog(definitions: Iterable<ProcedureIR>): Map<string, Register> {
  const out = new Map<string, Register>();
  for (const ir of definitions)
    for (const [name, decl] of Object.entries(ir.records ?? {})) {
      let r = out.get(name);
      if (!r) {
        r = {
          name,
          title: decl.title,
          ...(decl.description ? { description: decl.description } : {}),
          fields: [],
          correctors: [],
          procedures: [],
        };
        out.set(name, r);
      }
      // A definition that only looks the register up (`lookup`) declares it but does not write it.
      if (writes(ir, name)) r.procedures.push(ir.id);
      for (const role of decl.correctors) if (!r.correctors.includes(role)) r.correctors.push(role);
      for (const [field, f] of Object.entries(decl.fields))
        if (!r.fields.some((x) => x.name === field))
          r.fields.push({ name: field, title: f.title, type: f.type });
    }
  return new Map([...out.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function jsonType(v: Json): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Why `value` cannot be a value of a field of this type, or undefined when it can. */
export function valueProblem(type: RegisterFieldType, value: Json): string | undefined {
  const t = jsonType(value);
  if (!REGISTER_JSON_TYPES[type].includes(t)) return `a ${type} is expected, not a ${t}`;
  if (type === 'date' && !DATE.test(value as string)) return 'a date is written YYYY-MM-DD';
  if (type === 'datetime' && Number.isNaN(Date.parse(value as string)))
    return 'a datetime is written in ISO-8601 (2026-03-01T09:00:00Z)';
  return undefined;
}

/**
 * A filter's text as the value rows must contain for a field of this type: a number, a boolean,
 * a list holding the text, or the text itself. Undefined when the text is no such value.
 */
export function filterValue(type: RegisterFieldType, text: string): Json | undefined {
  switch (type) {
    case 'integer':
    case 'number': {
      const n = Number(text);
      return text.trim() !== '' && Number.isFinite(n) && (type === 'number' || Number.isInteger(n))
        ? n
        : undefined;
    }
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : undefined;
    case 'list':
      return [text];
    case 'date':
      return DATE.test(text) ? text : undefined;
    case 'string':
    case 'datetime':
      return text;
  }
}
