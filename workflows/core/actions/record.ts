/**
 * `record: name` or `record: { record, fields }`: write a named record (e.g. a lending-log entry)
 * beyond the audit record every transition writes. Runs as a `record` effect.
 *
 * When the definition declares its registers (`records:`), the action must name a declared
 * register, write only its declared fields, and give each a value of the declared type as far as
 * the expression's form tells (`data.x`, `ctx.x`, literals, …). Without `records:` records are
 * free-form (definitions written before registers were declared keep validating).
 */
import { checkRole, type CheckContext } from '../check-report.ts';
import type { Json, RecordAction, RegisterFieldType } from '../ir.ts';
import { evaluateAll, scopeOf, type MachineContext, type MachineEvent } from '../machine-context.ts';
import { joinPointer } from '../positions.ts';
import { expressionType } from '../start-input.ts';
import { didYouMean } from '../suggest.ts';
import type { ActionKind, ActionSite } from './kind.ts';

/** The JSON types a value of each register field type may have. */
export const REGISTER_JSON_TYPES: Record<RegisterFieldType, readonly string[]> = {
  string: ['string'],
  date: ['string'],
  datetime: ['string'],
  integer: ['integer'],
  number: ['integer', 'number'],
  boolean: ['boolean'],
  list: ['array'],
};

/** The declarations themselves: the roles that may correct a register's rows are declared roles. */
export function checkRegisterDeclarations(cx: CheckContext): void {
  for (const [name, register] of Object.entries(cx.ir.records ?? {}))
    register.correctors.forEach((role, i) =>
      checkRole(cx, role, `/records/${name}/correctors/${i}`, `the correctors of register "${name}"`),
    );
}

function checkRecord({ ir, report }: CheckContext, action: RecordAction, site: ActionSite): void {
  const registers = ir.records;
  if (!registers) return;
  const register = registers[action.record];
  const names = Object.keys(registers);
  if (!register) {
    report(
      'PROC_UNKNOWN_RECORD',
      joinPointer(site.pointer, 'record'),
      `register "${action.record}" written by ${site.where} is not declared under "records"${didYouMean(action.record, names)}`,
      { hint: 'declare it under "records" with its title and fields' },
    );
    return;
  }
  const declared = Object.keys(register.fields);
  for (const [field, source] of Object.entries(action.fields ?? {})) {
    const pointer = joinPointer(site.pointer, 'fields', field);
    const spec = register.fields[field];
    if (!spec) {
      report(
        'PROC_UNKNOWN_FIELD',
        pointer,
        `field "${field}" of register "${action.record}" (written by ${site.where}) is not declared${didYouMean(field, declared)}`,
        { at: 'key', hint: `the register's fields are: ${declared.join(', ')}` },
      );
      continue;
    }
    const type = expressionType(source, site.event, ir);
    if (type !== undefined && !REGISTER_JSON_TYPES[spec.type].includes(type))
      report(
        'PROC_RECORD_TYPE_MISMATCH',
        pointer,
        `field "${field}" of register "${action.record}" is declared ${spec.type}, but \`${source}\` is of type ${type} (${site.where})`,
        { hint: `give it a ${spec.type} value, or change the field's declared type` },
      );
  }
}

/** The effect (a type alias, so it is plain `Json`): the record's name and its evaluated fields. */
export type RecordEffect = {
  kind: 'record';
  record: string;
  fields: Record<string, Json>;
};

type RawRecord = string | { record: string; fields?: Record<string, string> };

export const record: ActionKind<RecordAction> = {
  inCommitTransaction: true,
  normalize(value) {
    const raw = value as RawRecord;
    if (typeof raw === 'string') return { kind: 'record', record: raw };
    return raw.fields
      ? { kind: 'record', record: raw.record, fields: raw.fields }
      : { kind: 'record', record: raw.record };
  },
  check: checkRecord,
  expressions: (action, pointer) =>
    Object.entries(action.fields ?? {}).map(([field, source]) => ({
      source,
      pointer: joinPointer(pointer, 'fields', field),
    })),
  compile: (action) => ({
    type: '$effect',
    params: ({ context, event }: { context: MachineContext; event: MachineEvent }): RecordEffect => ({
      kind: 'record',
      record: action.record,
      fields: evaluateAll(action.fields ?? {}, scopeOf(context, event)),
    }),
  }),
};
