/**
 * The procedure IR: the plain-JSON form of a procedure definition after loading.
 *
 * A YAML definition (see `definitions/schema/procedure.schema.json`) is loaded into this
 * shape by `loadProcedure`; the loader normalises shorthands (a single transition becomes a
 * one-element list, a bare role string becomes a list, targets become absolute state paths)
 * so every later stage (check, compile, verify, run) reads one canonical form.
 *
 * The IR is data only: it crosses the Temporal sandbox boundary as workflow input, it is
 * hashed, and it is pinned for the life of an instance.
 */
import type { AttachmentRequirement } from './attachments.ts';

/** A language texts may be written in (`languages:` of a definition; default `[zh, en]`). */
export type Language = 'zh' | 'en';

/**
 * A text in the definition's languages (`languages.ts` checks it has exactly those). The shipped
 * procedures are bilingual: `zh` authoritative, `en` our translation.
 */
export type Text = { [L in Language]?: string };

/** A JSON Schema object (2020-12), kept as plain data. */
export type JsonSchema = Record<string, unknown>;

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** An ISO-8601 duration such as `P2D`, `PT4H`, `P1DT12H`. */
export type IsoDuration = string;

/** A CEL expression evaluated over `ctx`, `data`, `actor` and `now` (see `expressions.ts`). */
export type Expression = string;

export interface ContextField {
  /** JSON type of the field. */
  type: 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array';
  title?: Text;
  /** Optional extra JSON Schema keywords for the field (enum, format, minimum, items, …). */
  schema?: JsonSchema;
  /** Initial value; fields with no default start absent. */
  default?: Json;
  /** The start input must supply this field (implies `input`). */
  required?: boolean;
  /** A start input may set this field (default false: it starts at its default). */
  input?: boolean;
  /** Never written in clear to audit data, registers, notifications or logs (masked). */
  sensitive?: boolean;
}

export interface EventDef {
  title: Text;
  description?: Text;
  /** JSON Schema for the event's `data`; the form the UI renders. Absent: no data allowed. */
  data?: JsonSchema;
  /** Kinds of file the event requires (or offers), by kind (`attachments.ts`). */
  attachments?: Record<string, AttachmentRequirement>;
}

/** Assign context fields from expressions: `{ field: "data.x" }`. */
export interface AssignAction {
  kind: 'assign';
  fields: Record<string, Expression>;
}

/** Write a named record (beyond the per-transition audit record), e.g. a lending-log entry. */
export interface RecordAction {
  kind: 'record';
  record: string;
  /** Values of the record, each an expression. */
  fields?: Record<string, Expression>;
}

/** Notify a role or the client. */
export interface NotifyAction {
  kind: 'notify';
  /** A role id, or `client`. */
  to: string;
  message: Text;
}

/** Start another procedure as a separate instance linked to this one. */
export interface StartAction {
  kind: 'start';
  procedure: string;
  /** Initial context of the new instance, each value an expression. */
  input?: Record<string, Expression>;
}

/**
 * Deploy a definition text as a new version (the engine's own `definition_change` procedure):
 * `yaml` and `sha256` are expressions; the text must hash to `sha256`.
 */
export interface DeployDefinitionAction {
  kind: 'deploy_definition';
  yaml: Expression;
  sha256: Expression;
}

/**
 * Look a row up in a declared register (rows of the instance's client only) and send the outcome
 * back as an engine event: `found` with the row's `fields`, or `missing` with `{ reason }`
 * (`actions/lookup.ts`).
 */
export interface LookupAction {
  kind: 'lookup';
  register: string;
  /** Register field → expression: the row's (corrected) value must equal it. */
  match?: Record<string, Expression>;
  /** Date fields bounding a row's validity on the transition's date (inclusive). */
  valid?: { from?: string; until?: string };
  /** The register fields the `found` event carries. */
  fields: string[];
  found: string;
  missing: string;
}

export type ActionIR =
  AssignAction | RecordAction | NotifyAction | StartAction | DeployDefinitionAction | LookupAction;

export interface TransitionIR {
  /** Event type; for delayed transitions, absent. */
  event?: string;
  /** Absolute dotted state path (e.g. `review.pending`); absent for a targetless transition. */
  target?: string;
  /** Roles allowed to send the event (empty for delayed transitions). */
  roles: string[];
  /** CEL guard; the transition is taken only when it evaluates to `true`. */
  guard?: Expression;
  /** Extra JSON Schema the event data must satisfy for this transition (on top of the event's). */
  data?: JsonSchema;
  actions: ActionIR[];
  clauses: string[];
  /** Where this transition sits in the IR, as a JSON pointer (e.g. `/states/a/on/GO/0`). */
  pointer: string;
}

export interface DelayedTransitionIR extends Omit<TransitionIR, 'event' | 'roles'> {
  /** ISO-8601 duration after entering the state. */
  delay: IsoDuration;
}

/**
 * A transition taken without an event: `on_done` (when a compound state reaches a final child, or
 * every region of a parallel state reaches its final state — XState's `onDone`) or `always` (as
 * soon as its guard holds — XState's `always`). Its guard and actions read only `ctx`.
 */
export type EventlessTransitionIR = Omit<TransitionIR, 'event' | 'roles' | 'data'>;

export type StateType = 'atomic' | 'compound' | 'parallel' | 'final';

/**
 * One outcome of a called procedure (`call.ts`): the transition the engine takes when the called
 * instance ends so. Never a guard (the schema has none); `output` copies the called instance's context fields into this one's
 * (`ctx field → callee field`) before the actions run.
 */
export interface CallOutcomeIR extends EventlessTransitionIR {
  output?: Record<string, string>;
}

/**
 * `call:` of a state: entering the state starts `procedure` as a called instance (a Temporal child
 * workflow) with `input` (expressions over `ctx`); the state waits until it ends, then takes the
 * outcome's transition: `onDone` by the callee's final state, `onFailed`, `onCancelled`.
 */
export interface CallIR {
  procedure: string;
  input: Record<string, Expression>;
  onDone: Record<string, CallOutcomeIR>;
  onFailed: CallOutcomeIR;
  onCancelled: CallOutcomeIR;
  pointer: string;
}

export interface StateIR {
  /** Absolute dotted path, e.g. `review.pending`. Unique. */
  path: string;
  /** The key under its parent. */
  key: string;
  type: StateType;
  title: Text;
  /** The task a person must do here (shown in the inbox). */
  task?: Text;
  clauses: string[];
  /** Child state key entered first (compound states). */
  initial?: string;
  states: Record<string, StateIR>;
  /** Event transitions, by event type. Order matters: the first enabled one is taken. */
  on: Record<string, TransitionIR[]>;
  after: DelayedTransitionIR[];
  /** Taken when this compound or parallel state is done (absent: none). Tried in order. */
  onDone?: EventlessTransitionIR[];
  /** Eventless transitions, tried in order whenever the instance settles (absent: none). */
  always?: EventlessTransitionIR[];
  /** Another procedure this state calls and waits for (absent: none). */
  call?: CallIR;
  /** Due time of this state, from entry (shown to managers; `CustodiaDueAt`); `P2WD`: working days. */
  sla?: IsoDuration;
  /** Reminders and escalations of `sla: { remind, escalate }` (`sla.ts`); absent when none. */
  slaPlan?: SlaPlanIR;
  /**
   * Assignment of this state's task to a named person (`assignment.ts`). Absent: optional;
   * `none`: never assigned; `required`: its events wait for an assignee.
   */
  assignment?: AssignmentMode;
  pointer: string;
}

/** Reminders and an escalation chain, each delay counted from the state's entry (`P2WD` allowed). */
export interface SlaPlanIR {
  remind: SlaReminderIR[];
  escalate: SlaEscalationIR[];
}

/**
 * A reminder: a delay (the roles the state awaits get the generic text), or the object form with
 * its own recipient, text and clauses (kept a plain delay when it has none, so the IR hashes the same).
 */
export type SlaReminderIR =
  IsoDuration | { after: IsoDuration; to?: string; message?: Text; clauses?: string[] };

/** One step of an escalation chain; `message` and `clauses` replace the generic text and the state's. */
export interface SlaEscalationIR {
  after: IsoDuration;
  to: string;
  message?: Text;
  clauses?: string[];
}

/** A state's `assignment:` setting (absent = optional). */
export type AssignmentMode = 'none' | 'required';

/** Separation of duties: the actor of `event` must not be an actor of any of `distinctFrom`. */
export interface DutyRule {
  event: string;
  distinctFrom: string[];
  message?: Text;
}

/** Invariant kinds the verifier proves over every path (see `verify.ts`). */
export type InvariantIR =
  | { id: string; kind: 'must_pass'; to: string; via: string[]; description: Text; clauses: string[] }
  | { id: string; kind: 'unreachable'; state: string; description: Text; clauses: string[] }
  | {
      id: string;
      kind: 'never_when';
      state: string;
      when: Expression;
      description: Text;
      clauses: string[];
    }
  | { id: string; kind: 'distinct_actors'; events: string[]; description: Text; clauses: string[] }
  | { id: string; kind: 'roles_only'; event: string; roles: string[]; description: Text; clauses: string[] }
  | { id: string; kind: 'ends_in'; states: string[]; description: Text; clauses: string[] }
  | {
      id: string;
      /** The sender of `event` is (`equals`) or is not (`differsFrom`) the person a value names. */
      kind: 'actor_is';
      event: string;
      /** `ctx.<field>` or `data.<field>`: the sender's id equals it on every path. */
      equals?: string;
      /** `ctx.<field>` or `data.<field>`: the sender's id differs from it on every path. */
      differsFrom?: string;
      description: Text;
      clauses: string[];
    }
  | {
      id: string;
      /** While `state` is active, a timer of it (or of an ancestor) fires within `within` of entry. */
      kind: 'deadline';
      state: string;
      within: IsoDuration;
      description: Text;
      clauses: string[];
    };

/** Start instances on a schedule (a Temporal Schedule the worker keeps in step with the definition). */
export interface ScheduleIR {
  /** ISO-8601 interval, e.g. `P7D`. */
  every?: IsoDuration;
  /** Cron expression (5 fields), e.g. `0 9 1 * *`. */
  cron?: string;
  /** IANA time zone of `cron` (default UTC). */
  timezone?: string;
  /** Start input of each scheduled instance. */
  input: Record<string, Json>;
}

export interface ProcedureIR {
  id: string;
  version: string;
  /** The languages its texts are written in (absent: `[zh, en]`); the first is the fallback. */
  languages?: Language[];
  title: Text;
  description: Text;
  clauses: string[];
  /** Role ids used by this procedure, with their display names. */
  roles: Record<string, Text>;
  /** The context field that names the client (feeds `CustodiaClient`). */
  clientField?: string;
  /** Roles that may assign tasks to named people (absent: see `DEFAULT_ASSIGNERS` in `assignment.ts`). */
  assigners?: string[];
  /** Start instances on a schedule (e.g. the routine supervision check). */
  schedule?: ScheduleIR;
  /** Who may start an instance by hand (`start-fields.ts`); absent: any role. */
  start?: { roles: string[] };
  context: Record<string, ContextField>;
  events: Record<string, EventDef>;
  /** The root state node (type `compound` or `parallel`); its path is the empty string. */
  root: StateIR;
  duties: DutyRule[];
  invariants: InvariantIR[];
  /** The registers its `record` actions write, declared (absent: records are free-form). */
  records?: Record<string, RegisterIR>;
  /**
   * Where running instances of an older version go when migrated to this one (`migration.ts`):
   * old leaf state path → state path of this version. Leaves not named keep their path.
   */
  migrate?: Record<string, string>;
}

/** The type of a register field's values (`date`: YYYY-MM-DD, `datetime`: ISO-8601, `list`: an array). */
export type RegisterFieldType = 'string' | 'integer' | 'number' | 'boolean' | 'date' | 'datetime' | 'list';

/** One column of a register. */
export interface RegisterFieldIR {
  title: Text;
  type: RegisterFieldType;
}

/** A named record book (lending log, disclosure log, …) as a definition declares it. */
export interface RegisterIR {
  title: Text;
  description?: Text;
  /** Its columns, in order. */
  fields: Record<string, RegisterFieldIR>;
  /** Roles that may add a correction to a row (never edit it); empty: nobody. */
  correctors: string[];
}

/** The actor sending an event (contract: update `event`). */
export interface Actor {
  id: string;
  roles: string[];
}

/** Argument of the `event` update (contract). */
export interface EventInput {
  type: string;
  data?: Record<string, Json>;
  actor: Actor;
}
