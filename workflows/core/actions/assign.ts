/** `assign: { field: expr }`: set context fields from expressions (the machine's `assignFields`). */
import type { AssignAction } from '../ir.ts';
import { joinPointer } from '../positions.ts';
import { didYouMean } from '../suggest.ts';
import type { ActionKind } from './kind.ts';

/** The named machine action (`setup()` in `compile.ts`) that evaluates and assigns the fields. */
export const ASSIGN_FIELDS = 'assignFields';

export const assign: ActionKind<AssignAction> = {
  normalize: (value) => ({ kind: 'assign', fields: value as AssignAction['fields'] }),
  check(cx, action, site) {
    for (const field of Object.keys(action.fields)) {
      if (cx.ir.context[field]) continue;
      cx.report(
        'PROC_UNKNOWN_FIELD',
        joinPointer(site.pointer, field),
        `assign to undeclared context field "${field}" in ${site.where}${didYouMean(field, Object.keys(cx.ir.context))}`,
        { at: 'key', hint: 'declare the field under "context" with its type' },
      );
    }
  },
  expressions: (action, pointer) =>
    Object.entries(action.fields).map(([field, source]) => ({
      source,
      pointer: joinPointer(pointer, field),
    })),
  compile: (action) => ({ type: ASSIGN_FIELDS, params: { fields: action.fields } }),
};
