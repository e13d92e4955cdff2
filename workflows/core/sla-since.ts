/**
 * Entry times a visibility row cannot tell. A row knows its active leaves (`CustodiaState`) and
 * when the latest of them was entered (`CustodiaStateSince`); the stalled view computes the next
 * reminder or escalation from that alone (no history read). A compound parent entered before its
 * current leaf, or a parallel region's leaf entered before another's, has points counted from its
 * own, earlier entry: the workflow keeps those entries — only of states with `sla:` reminders or
 * escalations, only when earlier than the row's entry — in the memo {@link SLA_SINCE_MEMO}, which
 * the visibility list returns with the row. Every other active state was entered with the row's
 * entry, as far as the row is concerned (also for an instance from before the memo: its parents
 * then count from the leaf's entry, the best a row without it can say).
 */
import type { CompiledProcedure } from './compile.ts';
import { leafPaths, type InstanceState } from './runtime.ts';

/** Memo key: path → entry time (ms) of active states with plans entered before the row's entry. */
export const SLA_SINCE_MEMO = 'CustodiaSlaSince';

/** What the workflow keeps in {@link SLA_SINCE_MEMO} for `state` (paths sorted; empty: nothing). */
export function slaSinceOf(proc: CompiledProcedure, state: InstanceState): Record<string, number> {
  if (state.done) return {};
  const since = Math.max(...leafPaths(proc, state.value).map((l) => state.enteredAt[l] ?? 0), 0);
  const out: Record<string, number> = {};
  for (const path of Object.keys(state.enteredAt).sort()) {
    const at = state.enteredAt[path];
    if (at !== undefined && at !== since && proc.nodes.get(path)?.slaPlan) out[path] = at;
  }
  return out;
}

/**
 * The entry times of a row's active states: its leaves and their ancestors at `since` (the row's
 * entry), those of them `earlier` names (the memo) at theirs.
 */
export function rowEnteredAt(
  leaves: readonly string[],
  since: number,
  earlier: Readonly<Record<string, number>> = {},
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const leaf of leaves) {
    const parts = leaf.split('.');
    for (let i = 1; i <= parts.length; i++) out[parts.slice(0, i).join('.')] = since;
  }
  for (const [path, at] of Object.entries(earlier)) if (path in out) out[path] = at;
  return out;
}

/** The largest time a Date holds (ms). */
const MAX_TIME = 8.64e15;

/** The memo's value as a row reads it (anything else: nothing), as ISO times. */
export function slaSinceOfMemo(value: unknown): Record<string, string> | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [path, at] of Object.entries(value as Record<string, unknown>))
    if (typeof at === 'number' && Math.abs(at) <= MAX_TIME) out[path] = new Date(at).toISOString();
  return Object.keys(out).length ? out : undefined;
}
