/**
 * `record: name` or `record: { record, fields }`: write a named record (e.g. a lending-log entry)
 * beyond the audit record every transition writes. Runs as a `record` effect.
 */
import type { Json, RecordAction } from '../ir.ts';
import { evaluateAll, scopeOf, type MachineContext, type MachineEvent } from '../machine-context.ts';
import { joinPointer } from '../positions.ts';
import type { ActionKind } from './kind.ts';

/** The effect (a type alias, so it is plain `Json`): the record's name and its evaluated fields. */
export type RecordEffect = {
  kind: 'record';
  record: string;
  fields: Record<string, Json>;
};

type RawRecord = string | { record: string; fields?: Record<string, string> };

export const record: ActionKind<RecordAction> = {
  normalize(value) {
    const raw = value as RawRecord;
    if (typeof raw === 'string') return { kind: 'record', record: raw };
    return raw.fields
      ? { kind: 'record', record: raw.record, fields: raw.fields }
      : { kind: 'record', record: raw.record };
  },
  check: () => {},
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
