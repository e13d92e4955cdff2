/**
 * The stalled view's SLA columns without reading any history: the escalation level comes from
 * `CustodiaEscalation`; the next reminder or escalation is computed from the row's leaf states,
 * `CustodiaStateSince`, the entries of states with plans entered before it (memo
 * `CustodiaSlaSince`, `core/sla-since.ts`: a compound parent entered before its leaf counts from
 * its own entry) and the definition version the row names (`core/sla.ts`, the same rule the
 * workflow arms its timers with) — the first point of any active state still ahead of `now`.
 */
import { compileProcedure, type CompiledProcedure } from '../workflows/core/compile.ts';
import type { SlaView } from '../workflows/contract.ts';
import type { InstanceState } from '../workflows/core/runtime.ts';
import { hasSlaPlans, slaPoints } from '../workflows/core/sla.ts';
import { rowEnteredAt } from '../workflows/core/sla-since.ts';
import type { InstanceRow } from '../workflows/contract.ts';
import { shippedCalendar } from './calendars.ts';
import type { LoadedDefinition } from './definitions.ts';
import { BoundedMap } from './bounded-map.ts';

/** Compiled versions (by hash), the most recently used kept. */
const compiled = new BoundedMap<string, CompiledProcedure>(32);

/** `sla` of a stalled row, or undefined when its definition has no reminders or escalations. */
export function slaOfRow(
  row: InstanceRow,
  def: LoadedDefinition | undefined,
  now: number,
): SlaView | undefined {
  if (!def || def.ir.version !== row.version || !hasSlaPlans(def.ir.root) || !row.stateSince)
    return undefined;
  let proc = compiled.get(def.hash);
  if (!proc) {
    proc = compileProcedure(def.ir);
    compiled.set(def.hash, proc);
  }
  const since = Date.parse(row.stateSince);
  const earlier = Object.fromEntries(
    Object.entries(row.slaSince ?? {}).map(([path, at]) => [path, Date.parse(at)]),
  );
  const state = {
    done: false,
    enteredAt: rowEnteredAt(row.state, since, earlier),
  } as unknown as InstanceState;
  const next = slaPoints(proc, state, shippedCalendar()).find((p) => p.at > now);
  const view: SlaView = { level: row.escalation ?? 0 };
  if (next)
    view.next = {
      kind: next.kind,
      state: next.state,
      at: new Date(next.at).toISOString(),
      ...(next.to ? { to: next.to } : {}),
    };
  return view;
}
