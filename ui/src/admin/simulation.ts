/**
 * The simulator as an XState actor: `fromTransition` over the engine's own pure interpreter
 * (`runtime.ts` on the machine `compile.ts` builds), so the simulation is exactly what a worker
 * would do — roles, guards, data schemas, separation of duties and timers — and React reads it
 * through `@xstate/react` (`useActor(simulationLogic)`). The current time comes in with each event,
 * which keeps the transition function pure.
 */
import { fromTransition } from 'xstate';
import type { CompiledProcedure } from '../../../workflows/core/compile.ts';
import type { Actor, EventInput, Json } from '../../../workflows/core/ir.ts';
import { rejectionMessage } from '../../../workflows/core/rejections.ts';
import { callOutcomeEvent, type CallResult } from '../../../workflows/core/call.ts';
import { SYSTEM_ACTOR } from '../../../workflows/core/machine-context.ts';
import {
  applyEvent,
  applySystemEvent,
  explainRejection,
  fireTimer,
  startInstance,
  type InstanceState,
  type TransitionRecord,
} from '../../../workflows/core/runtime.ts';

export interface Simulation {
  state?: InstanceState;
  log: TransitionRecord[];
  /** Why the simulation could not start (bad start input, …). */
  error?: string;
  /** The engine's refusal of the last event (`CODE: message`), or a note on a timer. */
  refusal?: string;
}

export type SimulationEvent =
  | { type: 'start'; proc: CompiledProcedure; input: Record<string, Json>; actor: Actor; now: number }
  | { type: 'send'; proc: CompiledProcedure; input: EventInput; now: number; lang?: 'zh' | 'en' }
  | { type: 'fire'; proc: CompiledProcedure; timerId: string; now: number; ifNothing: string }
  /** The called instance of the calling state `path` ends so (`call:`; the simulator plays it). */
  | { type: 'outcome'; proc: CompiledProcedure; path: string; result: CallResult; now: number }
  | { type: 'fail'; error: string }
  | { type: 'refuse'; refusal: string }
  | { type: 'clearRefusal' };

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export function simulate(sim: Simulation, ev: SimulationEvent): Simulation {
  switch (ev.type) {
    case 'start':
      try {
        const step = startInstance(ev.proc, ev.input, ev.actor, ev.now);
        return { state: step.state, log: [step.record] };
      } catch (err) {
        return { log: [], error: message(err) };
      }
    case 'send': {
      if (!sim.state) return sim;
      const why = explainRejection(ev.proc, sim.state, ev.input, ev.now);
      if (why) return { ...sim, refusal: `${why.code}: ${rejectionMessage(why, ev.lang ?? 'en')}` };
      try {
        const step = applyEvent(ev.proc, sim.state, ev.input, ev.now);
        return { state: step.state, log: [...sim.log, step.record] };
      } catch (err) {
        return { ...sim, refusal: message(err) };
      }
    }
    case 'fire': {
      if (!sim.state) return sim;
      const step = fireTimer(ev.proc, sim.state, ev.timerId, ev.now);
      return step ? { state: step.state, log: [...sim.log, step.record] } : { ...sim, refusal: ev.ifNothing };
    }
    case 'outcome': {
      const node = ev.proc.nodes.get(ev.path);
      if (!sim.state || !node?.call) return sim;
      const event = callOutcomeEvent(node, `${node.call.procedure} (simulated)`, ev.result, ev.now);
      const step = applySystemEvent(ev.proc, sim.state, event, SYSTEM_ACTOR, ev.now);
      return step ? { state: step.state, log: [...sim.log, step.record] } : sim;
    }
    case 'fail':
      return { log: [], error: ev.error };
    case 'refuse':
      return { ...sim, refusal: ev.refusal };
    case 'clearRefusal': {
      const { refusal: _gone, ...rest } = sim;
      return rest;
    }
  }
}

export const simulationLogic = fromTransition(simulate, { log: [] } as Simulation);
