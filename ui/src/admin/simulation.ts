/**
 * The simulator as an XState actor: `fromTransition` over the engine's own pure interpreter
 * (`runtime.ts` on the machine `compile.ts` builds), so the simulation is exactly what a worker
 * would do — roles, guards, data schemas, separation of duties and timers — and React reads it
 * through `@xstate/react` (`useActor(simulationLogic)`). The current time comes in with each event,
 * which keeps the transition function pure. SLA reminders and escalations are played by hand
 * (`sla`), through the same `core/sla.ts` functions the workflow's timers call.
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
  describeInstance,
  explainRejection,
  fireTimer,
  startInstance,
  type InstanceState,
  type TransitionRecord,
} from '../../../workflows/core/runtime.ts';
import type { BusinessCalendar } from '../../../workflows/core/calendar.ts';
import {
  applySlaPoint,
  escalationLevel,
  sentSlaKeys,
  slaPoints,
  type SlaPoint,
} from '../../../workflows/core/sla.ts';

/** The instance id the simulator's SLA texts name (the engine names the workflow id). */
export const SIMULATED_INSTANCE = 'simulation';

/** A notification an SLA point sent in the simulation: to whom, which text, at which level. */
export interface SimulatedNotice {
  /** Seq of the `$sla` record that sent it. */
  seq: number;
  kind: SlaPoint['kind'];
  /** Escalations: the level reached. */
  level?: number;
  to: string;
  message: { zh: string; en: string };
}

/** One SLA point of the active states, as the simulator lists it. */
export interface SimulatedSlaPoint extends SlaPoint {
  sent: boolean;
}

export interface Simulation {
  state?: InstanceState;
  log: TransitionRecord[];
  /** Why the simulation could not start (bad start input, …). */
  error?: string;
  /** The engine's refusal of the last event (`CODE: message`), or a note on a timer. */
  refusal?: string;
  /** Notifications sent by the SLA points played so far (`sla`), oldest first. */
  notices?: SimulatedNotice[];
}

/**
 * The reminders and escalations of the states the simulation is in (`core/sla.ts`, the points the
 * workflow arms), earliest first, each marked sent or not, and the escalation level reached.
 */
export function simulatedSla(
  proc: CompiledProcedure,
  sim: Simulation,
  calendar?: BusinessCalendar,
): { points: SimulatedSlaPoint[]; level: number } {
  if (!sim.state) return { points: [], level: 0 };
  const points = slaPoints(proc, sim.state, calendar);
  const sent = sentSlaKeys(sim.log);
  return {
    points: points.map((p) => ({ ...p, sent: sent.has(p.key) })),
    level: escalationLevel(points, sent),
  };
}

export type SimulationEvent =
  | { type: 'start'; proc: CompiledProcedure; input: Record<string, Json>; actor: Actor; now: number }
  | { type: 'send'; proc: CompiledProcedure; input: EventInput; now: number; lang?: 'zh' | 'en' }
  | { type: 'fire'; proc: CompiledProcedure; timerId: string; now: number; ifNothing: string }
  /** The called instance of the calling state `path` ends so (`call:`; the simulator plays it). */
  | { type: 'outcome'; proc: CompiledProcedure; path: string; result: CallResult; now: number }
  /**
   * Advance to the SLA point `key` of the active states: it and every point before it not yet
   * sent fire in order, each as the workflow fires it (`applySlaPoint`): a `$sla` record and its
   * notifications. `ifGone`: the note when the point is no longer scheduled (the state was left).
   */
  | {
      type: 'sla';
      proc: CompiledProcedure;
      key: string;
      now: number;
      calendar?: BusinessCalendar;
      ifGone: string;
    }
  | { type: 'fail'; error: string }
  | { type: 'refuse'; refusal: string }
  | { type: 'clearRefusal' };

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** What a step keeps of the simulation besides its state and log (the notices sent). */
const kept = (sim: Simulation): Pick<Simulation, 'notices'> => (sim.notices ? { notices: sim.notices } : {});

function advanceSla(sim: Simulation, ev: Extract<SimulationEvent, { type: 'sla' }>): Simulation {
  if (!sim.state) return sim;
  const points = slaPoints(ev.proc, sim.state, ev.calendar);
  const sent = sentSlaKeys(sim.log);
  const upTo = points.findIndex((p) => p.key === ev.key);
  if (upTo < 0 || sent.has(ev.key)) return { ...sim, refusal: ev.ifGone };
  let state = sim.state;
  const log = [...sim.log];
  const notices = [...(sim.notices ?? [])];
  for (const point of points.slice(0, upTo + 1)) {
    if (sent.has(point.key)) continue;
    const view = describeInstance(ev.proc, state, ev.now);
    const out = applySlaPoint(ev.proc, state, point, view.leaves, view.available, SIMULATED_INSTANCE, ev.now);
    state = out.state;
    log.push(out.record);
    for (const e of out.effects)
      notices.push({
        seq: out.record.seq,
        kind: point.kind,
        ...(point.level ? { level: point.level } : {}),
        to: e.to,
        message: e.message,
      });
  }
  return { state, log, notices };
}

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
        return { ...kept(sim), state: step.state, log: [...sim.log, step.record] };
      } catch (err) {
        return { ...sim, refusal: message(err) };
      }
    }
    case 'fire': {
      if (!sim.state) return sim;
      const step = fireTimer(ev.proc, sim.state, ev.timerId, ev.now);
      return step
        ? { ...kept(sim), state: step.state, log: [...sim.log, step.record] }
        : { ...sim, refusal: ev.ifNothing };
    }
    case 'outcome': {
      const node = ev.proc.nodes.get(ev.path);
      if (!sim.state || !node?.call) return sim;
      const event = callOutcomeEvent(node, `${node.call.procedure} (simulated)`, ev.result, ev.now);
      const step = applySystemEvent(ev.proc, sim.state, event, SYSTEM_ACTOR, ev.now);
      return step ? { ...kept(sim), state: step.state, log: [...sim.log, step.record] } : sim;
    }
    case 'sla':
      return advanceSla(sim, ev);
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
