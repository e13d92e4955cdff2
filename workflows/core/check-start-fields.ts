/**
 * Checks of `start.roles`, `input` and `sensitive` (issue #11, item 3; rule in `start-fields.ts`):
 * start roles are declared roles; a schedule's start input sets only input fields; the client
 * field, which feeds the `CustodiaClient` search attribute and every list, is not sensitive.
 * (A `start` action of another definition that sets a non-input field is checked across
 * definitions, in `worker/drafts.ts` `checkStartTargets`.)
 */
import type { CheckContext } from './check-report.ts';
import { checkRole } from './check-report.ts';
import { inputFields, nonInputFields } from './start-fields.ts';

export function checkStartFields(cx: CheckContext): void {
  const { ir, report } = cx;
  (ir.start?.roles ?? []).forEach((role, i) => checkRole(cx, role, `/start/roles/${i}`, 'start roles'));
  for (const field of nonInputFields(ir, ir.schedule?.input ?? {}))
    report(
      'PROC_START_FIELD_NOT_INPUT',
      `/schedule/input/${field}`,
      `the schedule starts ${ir.id} with "${field}", which is not an input field`,
      { hint: notInputHint(inputFields(ir)) },
    );
  const client = ir.clientField;
  if (client && ir.context[client]?.sensitive)
    report(
      'PROC_SENSITIVE_IN_CLEAR',
      '/client_field',
      `client field "${client}" is sensitive, but the client is written in clear to the CustodiaClient search attribute and every instance list`,
      { hint: 'name the client by a field that is not sensitive, or drop `sensitive: true` from it' },
    );
}

/** The hint of a non-input field set at start. */
export function notInputHint(fields: readonly string[]): string {
  return `declare the field \`input: true\` if a start may set it; the start may set ${
    fields.length ? fields.map((f) => `"${f}"`).join(', ') : 'no field'
  }`;
}
