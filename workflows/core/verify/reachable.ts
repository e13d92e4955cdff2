/**
 * Is a configuration within what the proof covers? The check a migration asks of the new
 * version (`../migration.ts`): an instance may be moved only into a configuration the new
 * version's proof reached from its start, because every path onwards from a reached
 * configuration was explored and every invariant held on it. (Exploring afresh from the migrated
 * configuration would not do: invariants such as `must_pass` and `distinct_actors` read the path
 * that led there, which the new version never saw.)
 *
 * A concrete configuration is covered when some explored configuration has exactly its active
 * state nodes and an abstract context containing its context: each field unknown, or among the
 * field's possible values (absent included), fields the search widened counting as unknown. The
 * people who acted and the timers spent are not compared: the engine enforces separation of
 * duties at run time from the instance's own record of who acted.
 */
import type { Json, ProcedureIR } from '../ir.ts';
import { valuePaths } from '../ir-walk.ts';
import type { StateValue } from 'xstate';
import { buildModel } from './model.ts';
import { explore } from './search.ts';
import type { Config } from './semantics.ts';
import { ABSENT, canon } from './values.ts';
import type { VerifyOptions } from './types.ts';

/** The reachable set of one version's proof, asked about concrete configurations. */
export interface ReachableSet {
  /** Every reachable configuration was explored (no cap was hit). */
  exhaustive: boolean;
  /** Configurations explored. */
  explored: number;
  /** Does the proof reach `value` with `context` (public fields)? */
  covers(value: StateValue, context: Record<string, Json>): boolean;
}

/** Explore `ir` as `verifyProcedure` does and index its configurations by active state nodes. */
export function reachableSet(ir: ProcedureIR, opts: VerifyOptions = {}): ReachableSet {
  const m = buildModel(ir);
  const g = explore(m, opts);
  const byActive = new Map<string, Config[]>();
  for (const c of g.configs) {
    if (c.done) continue;
    const key = [...c.active].sort().join('|');
    const list = byActive.get(key);
    if (list) list.push(c);
    else byActive.set(key, [c]);
  }
  const fields = Object.keys(ir.context);
  return {
    exhaustive: g.exhaustive,
    explored: g.configs.length,
    covers(value, context) {
      const key = [...new Set(valuePaths(value))].sort().join('|');
      const candidates = byActive.get(key) ?? [];
      return candidates.some((c) =>
        fields.every((f) => {
          if (m.widened.has(f)) return true;
          const values = f in c.ctx ? c.ctx[f] : [ABSENT];
          if (values === null || values === undefined) return true;
          const v = context[f];
          return values.includes(v === undefined ? ABSENT : canon(v));
        }),
      );
    },
  };
}
