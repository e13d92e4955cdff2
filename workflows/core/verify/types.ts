/**
 * The verifier's shared types: what `verifyProcedure` answers (results, counterexample steps,
 * warnings) and its options. Kept apart from `verify.ts` so the parts in `./` can use them without
 * importing the public API module (no import cycle).
 */
import type { InvariantIR, Json } from '../ir.ts';

/** One step of a counterexample path. */
export interface PathStep {
  /** Event type; `after P5D` for a timer; `$start` for the first step. */
  event: string;
  /** Roles of the person sending the event (a set that makes this step possible). */
  roles?: string[];
  /** Symbolic person (`A1`, `A2`, …), for events separation of duties or `distinct_actors` care about. */
  actor?: string;
  /** Guard(s) assumed true for this step (undecidable from what the verifier knows). */
  guard?: string;
  /** Event data the step depends on (values of enumerated data fields), when any. */
  data?: Record<string, Json>;
  /** Active leaf state paths after the step. */
  to: string[];
}

export interface InvariantResult {
  id: string;
  kind: InvariantIR['kind'];
  /** Proved on every path. `false` when violated, or when the search was cut short (see `note`). */
  holds: boolean;
  /** A shortest path that breaks the invariant (starts with `$start`). */
  counterexample?: PathStep[];
  /**
   * Context values (allowed by the context schema and by what the path established) under which
   * the counterexample's last configuration is stuck: no event or timer is enabled.
   */
  values?: Record<string, Json>;
  /** Configurations explored. */
  explored: number;
  note?: string;
}

/** Something that does not break an invariant but makes it prove less than it says. */
export interface Warning {
  /** `vacuous` (the invariant cannot fail: its premise is never met, or it restates one guard). */
  code: 'vacuous' | 'never_assigned';
  /** The invariant concerned. */
  invariant: string;
  message: string;
}

/** Eventless transitions (`always`, `on_done`) that can follow one another without end. */
export interface EventlessLoopResult {
  /** Pointers of the transitions of the cycle, in the order taken (the first is where to look). */
  pointers: string[];
  /** Active leaves where the cycle was seen. */
  states: string[];
}

export interface VerifyResult {
  invariants: InvariantResult[];
  /** Eventless loops (an instance that would never settle); empty when none. A loop fails the proof. */
  loops: EventlessLoopResult[];
  /** Invariants that hold but prove little (vacuity); empty when none. */
  warnings: Warning[];
  /** Every reachable configuration was explored (no cap was hit). */
  exhaustive: boolean;
  /** Configurations explored. */
  explored: number;
}

export interface VerifyOptions {
  /** Longest path explored, in events (default: unlimited). */
  maxDepth?: number;
  /** Most configurations explored (default 50,000). */
  maxConfigurations?: number;
  /**
   * Share the work of configurations that differ only in their people, and merge those whose
   * people can no longer matter (`verify/search.ts`, `verify/reduce.ts`; default true). The
   * answers are the same either way, only `explored` differs: `false` is for tests that show it.
   */
  reduce?: boolean;
}
