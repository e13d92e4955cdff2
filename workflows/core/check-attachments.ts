/**
 * Checks of the attachments a definition's events ask for (`attachments.ts`): `data.attachments`
 * is the engine's, so an event's data schema may neither declare nor require a field of that name
 * (`PROC_ATTACHMENT_FIELD_RESERVED`) — the engine takes it out before the schema sees the data,
 * so such a declaration would never constrain anything.
 */
import { ATTACHMENTS_KEY } from './attachments.ts';
import type { CheckContext } from './check-report.ts';
import { joinPointer } from './positions.ts';

export function checkAttachments({ ir, report }: CheckContext): void {
  for (const [event, def] of Object.entries(ir.events)) {
    const data = def.data as { properties?: Record<string, unknown>; required?: unknown } | undefined;
    if (!data) continue;
    const hint =
      'attached files travel in the engine-owned data.attachments; declare them under the event’s `attachments:` (kind, title, types)';
    if (data.properties && Object.hasOwn(data.properties, ATTACHMENTS_KEY))
      report(
        'PROC_ATTACHMENT_FIELD_RESERVED',
        joinPointer('/events', event, 'data', 'properties', ATTACHMENTS_KEY),
        `${event}: the data field "${ATTACHMENTS_KEY}" is the engine's (attached files); the event's data schema may not declare it`,
        { at: 'key', hint },
      );
    const required = Array.isArray(data.required) ? (data.required as unknown[]) : [];
    const i = required.indexOf(ATTACHMENTS_KEY);
    if (i >= 0)
      report(
        'PROC_ATTACHMENT_FIELD_RESERVED',
        joinPointer('/events', event, 'data', 'required', i),
        `${event}: the data schema requires "${ATTACHMENTS_KEY}", which the engine removes before validating; require a kind under \`attachments:\` instead`,
        { hint },
      );
  }
}
