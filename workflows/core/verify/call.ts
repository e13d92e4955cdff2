/**
 * The verifier's view of called procedures (`call:`): in a configuration where a calling state is
 * active, each outcome of the callee — each of its final states named under `on_done`, failed,
 * cancelled — can happen at any time (the callee is not explored: its outcomes are the set of its
 * final states plus failed and cancelled, each possible). An outcome is a system step, like a
 * timer: its transition, then the settling of the macrostep. Fields set by `output` take any value
 * of their own schema's domain (or stay as they were, when the callee leaves the field absent);
 * an open domain makes the field unknown.
 */
import { callOutcomes } from '../call.ts';
import type { Model, Node, Tx } from './model.ts';
import type { Config, Move } from './semantics.ts';
import { ABSENT, type AbsCtx, type Env, type Knowledge, NO_DATA, schemaDomain, sorted } from './values.ts';

const CALL_ENV: Env = { roles: undefined, data: NO_DATA, system: true };

/** The step rules `callMoves` needs from `semantics.ts` (passed in: no import cycle). */
export interface StepRules {
  microstep(
    m: Model,
    c: Config,
    k: Knowledge,
    selected: Tx[],
    env: Env,
  ): { next: Config; taken: Tx[]; done: Node[] };
  settle(m: Model, start: Config, queue: Node[]): { next: Config; taken: Tx[]; assumed: string[] }[];
}

/** Every outcome of every call of an active state, as moves. */
export function callMoves(m: Model, c: Config, rules: StepRules): Move[] {
  const out: Move[] = [];
  for (const p of c.active) {
    const node = m.nodes.get(p);
    if (!node?.ir.call) continue;
    for (const { event, transition } of callOutcomes(node.ir)) {
      const tx = m.on.get(node)?.get(event)?.[0];
      if (!tx) continue;
      const k = withOutput(m, { ctx: c.ctx, facts: c.facts }, Object.keys(transition.output ?? {}));
      const step = rules.microstep(m, c, k, [tx], CALL_ENV);
      for (const settled of rules.settle(m, step.next, step.done)) {
        const pointers = [...step.taken, ...settled.taken].map((t) => t.ir.pointer);
        const move: Move = { event, pointers, next: settled.next };
        if (settled.assumed.length) move.guard = settled.assumed.join(' && ');
        out.push(move);
      }
    }
  }
  return out;
}

/** The knowledge after `output` set `fields`: their own domain (and what they were), facts on them forgotten. */
function withOutput(m: Model, k: Knowledge, fields: string[]): Knowledge {
  if (!fields.length) return k;
  const ctx: Record<string, readonly string[] | null> = { ...k.ctx };
  for (const f of fields) {
    const spec = m.ir.context[f];
    const domain = spec ? schemaDomain({ type: spec.type, ...(spec.schema ?? {}) }) : null;
    const before = f in k.ctx ? (k.ctx[f] ?? null) : [ABSENT];
    ctx[f] = domain === null || before === null || m.widened.has(f) ? null : sorted([...domain, ...before]);
  }
  const canonical: AbsCtx = Object.fromEntries(
    Object.entries(ctx)
      .filter(([, v]) => !(v?.length === 1 && v[0] === ABSENT))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  const facts = k.facts.filter((fact) => !m.factFields.get(fact)?.some((f) => fields.includes(f)));
  return { ctx: canonical, facts };
}
