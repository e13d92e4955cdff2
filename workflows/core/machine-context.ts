/**
 * What the compiled machine carries: its event shape, its context, and the expression scope built
 * from both. Shared by the compiler, the action kinds (`actions/`) and the acceptance rule
 * (`acceptance.ts`), so none of them imports another's internals.
 */
import { evaluateExpression, type ExpressionScope } from './expressions.ts';
import type { Actor, Json } from './ir.ts';

/** The event object inside the machine (`at` = workflow time in ms). */
export interface MachineEvent {
  type: string;
  data?: Record<string, Json>;
  actor?: Actor;
  at?: number;
}

/** Instance context inside the machine: user fields plus the engine's reserved `_actors`. */
export type MachineContext = Record<string, Json> & { _actors: Record<string, string[]> };

/** The actor of what no person sent (timers, the engine itself). */
export const SYSTEM_ACTOR: Actor = { id: 'system', roles: [] };

/** Scope for expressions, from a context and a machine event. */
export function scopeOf(context: Record<string, unknown>, event: MachineEvent): ExpressionScope {
  const ctx: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(context)) if (!k.startsWith('_')) ctx[k] = v;
  return { ctx, data: event.data ?? {}, actor: event.actor ?? SYSTEM_ACTOR, now: event.at ?? 0 };
}

/** Every expression of a field map evaluated in one scope. */
export function evaluateAll(fields: Record<string, string>, scope: ExpressionScope): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [k, expr] of Object.entries(fields)) out[k] = evaluateExpression(expr, scope);
  return out;
}
