/**
 * Normalisation: a schema-valid YAML document (snake_case, shorthands) → the canonical IR.
 *
 * - a single transition becomes a one-element list, a single role a one-element list;
 * - each action becomes its kind's IR form (`actions/`), e.g. `record: name` becomes
 *   `{ kind: 'record', record: name }`; a key that names no kind is reported, never guessed;
 * - `client_field` / `distinct_from` become `clientField` / `distinctFrom`;
 * - `states`, `on`, `after`, `clauses`, `actions` are always present;
 * - every state and transition carries its canonical JSON pointer into the document;
 * - targets become absolute dotted paths. A target is read first relative to the source state's
 *   parent (a sibling, or a path below a sibling), then from the top. A target that names no
 *   state is kept exactly as written: resolving is the loader's job, reporting it is the
 *   checker's (`PROC_UNKNOWN_TARGET`), so an IR with an unresolved target never leaves `validate`.
 *
 * Only ever called on data the procedure schema accepted, so shapes are trusted here.
 */
import type {
  ActionIR,
  AssignmentMode,
  ContextField,
  DelayedTransitionIR,
  DutyRule,
  EventDef,
  EventlessTransitionIR,
  InvariantIR,
  JsonSchema,
  Language,
  ProcedureIR,
  RegisterIR,
  ScheduleIR,
  StateIR,
  StateType,
  Text,
  TransitionIR,
} from './ir.ts';
import { normalizeAction } from './actions/index.ts';
import { normalizeCall, type RawCall } from './call.ts';
import { joinPointer } from './positions.ts';
import { normalizeSla, type RawSla } from './sla.ts';

type Dict<T> = Record<string, T>;

interface RawTransition {
  target?: string;
  roles?: string | string[];
  guard?: string;
  data?: JsonSchema;
  clauses?: string[];
  actions?: RawAction[];
}

interface RawDelayed extends Omit<RawTransition, 'roles' | 'data'> {
  delay: string;
}

type RawEventless = Omit<RawTransition, 'roles' | 'data'>;

/** `{ <kind>: value }`: exactly one key, the action kind (see `actions/`). */
type RawAction = Dict<unknown>;

/** An action whose key names no registered action kind (the loader reports it). */
export interface UnknownAction {
  /** Pointer of the action's key (`/states/a/on/GO/0/actions/1/email`). */
  pointer: string;
  key: string;
}

interface RawState {
  title: Text;
  task?: Text;
  clauses?: string[];
  sla?: RawSla;
  assignment?: AssignmentMode;
  type?: StateType;
  initial?: string;
  states?: Dict<RawState>;
  on?: Dict<RawTransition | RawTransition[]>;
  after?: RawDelayed[];
  on_done?: RawEventless | RawEventless[];
  always?: RawEventless | RawEventless[];
  call?: RawCall;
}

/** The YAML document's shape, as the procedure schema guarantees it. */
export interface RawProcedure {
  id: string;
  version: string;
  languages?: Language[];
  title: Text;
  description: Text;
  clauses?: string[];
  roles: Dict<Text>;
  assigners?: string[];
  client_field?: string;
  schedule?: Omit<ScheduleIR, 'input'> & { input?: ScheduleIR['input'] };
  start?: { roles: string[] };
  context?: Dict<ContextField>;
  events: Dict<EventDef>;
  type?: 'compound' | 'parallel';
  initial?: string;
  states: Dict<RawState>;
  on?: Dict<RawTransition | RawTransition[]>;
  after?: RawDelayed[];
  duties?: Array<{ event: string; distinct_from: string[]; message?: Text }>;
  invariants?: Array<Dict<unknown> & { id: string; kind: InvariantIR['kind'] }>;
  records?: Dict<Omit<RegisterIR, 'correctors'> & { correctors?: string[] }>;
  migrate?: Dict<string>;
}

/**
 * Build the IR from a schema-valid document. Actions of an unknown kind are left out of the IR and
 * listed in `unknownActions`; an IR built with any is not to be used.
 */
export function normalizeProcedure(raw: RawProcedure, unknownActions: UnknownAction[] = []): ProcedureIR {
  const paths = new Set<string>();
  collectPaths(raw.states, '', paths);
  const rootRaw: RawState = {
    title: raw.title,
    states: raw.states,
    ...(raw.clauses ? { clauses: raw.clauses } : {}),
    ...(raw.type ? { type: raw.type } : {}),
    ...(raw.initial !== undefined ? { initial: raw.initial } : {}),
    ...(raw.on ? { on: raw.on } : {}),
    ...(raw.after ? { after: raw.after } : {}),
  };
  const ir: ProcedureIR = {
    id: raw.id,
    version: raw.version,
    title: raw.title,
    description: raw.description,
    clauses: raw.clauses ?? [],
    roles: raw.roles,
    context: raw.context ?? {},
    events: raw.events,
    root: normalizeState(rootRaw, {
      key: '',
      path: '',
      pointer: '',
      parentPath: undefined,
      paths,
      unknownActions,
    }),
    duties: (raw.duties ?? []).map(normalizeDuty),
    invariants: (raw.invariants ?? []).map(normalizeInvariant),
  };
  // Present only when declared, so definitions without it keep their IR (and its hash).
  if (raw.languages !== undefined) ir.languages = raw.languages;
  if (raw.client_field !== undefined) ir.clientField = raw.client_field;
  if (raw.assigners !== undefined) ir.assigners = raw.assigners;
  if (raw.start !== undefined) ir.start = { roles: raw.start.roles };
  if (raw.schedule !== undefined) ir.schedule = { ...raw.schedule, input: raw.schedule.input ?? {} };
  if (raw.records !== undefined)
    ir.records = Object.fromEntries(
      Object.entries(raw.records).map(([name, r]) => [name, { ...r, correctors: r.correctors ?? [] }]),
    );
  if (raw.migrate !== undefined) ir.migrate = raw.migrate;
  return ir;
}

interface StatePlace {
  key: string;
  path: string;
  pointer: string;
  /** Path of the parent state ('' for top-level states); undefined for the root. */
  parentPath: string | undefined;
  paths: ReadonlySet<string>;
  unknownActions: UnknownAction[];
}

function collectPaths(states: Dict<RawState> | undefined, prefix: string, out: Set<string>): void {
  for (const [key, state] of Object.entries(states ?? {})) {
    const path = childPath(prefix, key);
    out.add(path);
    collectPaths(state.states, path, out);
  }
}

function childPath(parent: string, key: string): string {
  return parent ? `${parent}.${key}` : key;
}

function normalizeState(raw: RawState, place: StatePlace): StateIR {
  const type: StateType = raw.type ?? (raw.states ? 'compound' : 'atomic');
  const states: Dict<StateIR> = {};
  for (const [key, child] of Object.entries(raw.states ?? {})) {
    const path = childPath(place.path, key);
    const pointer = joinPointer(place.pointer, 'states', key);
    states[key] = normalizeState(child, { ...place, key, path, pointer, parentPath: place.path });
  }
  const resolve = (target: string): string => resolveTarget(target, place.parentPath, place.paths);
  const actions = (list: RawAction[] | undefined, pointer: string): ActionIR[] =>
    normalizeActions(list, pointer, place.unknownActions);
  const on: Dict<TransitionIR[]> = {};
  for (const [event, spec] of Object.entries(raw.on ?? {})) {
    const list = Array.isArray(spec) ? spec : [spec];
    on[event] = list.map((t, i) =>
      normalizeTransition(t, event, joinPointer(place.pointer, 'on', event, i), resolve, actions),
    );
  }
  const after = (raw.after ?? []).map((t, i) =>
    normalizeDelayed(t, joinPointer(place.pointer, 'after', i), resolve, actions),
  );
  const state: StateIR = {
    path: place.path,
    key: place.key,
    type,
    title: raw.title,
    clauses: raw.clauses ?? [],
    states,
    on,
    after,
    pointer: place.pointer,
  };
  const eventless = (spec: RawEventless | RawEventless[] | undefined, key: string) =>
    (spec === undefined ? [] : Array.isArray(spec) ? spec : [spec]).map((t, i) =>
      normalizeEventless(t, joinPointer(place.pointer, key, i), resolve, actions),
    );
  // Present only when declared, so definitions without them keep their IR (and its hash).
  if (raw.on_done !== undefined) state.onDone = eventless(raw.on_done, 'on_done');
  if (raw.always !== undefined) state.always = eventless(raw.always, 'always');
  if (raw.call !== undefined)
    state.call = normalizeCall(raw.call, joinPointer(place.pointer, 'call'), resolve, actions);
  if (raw.task) state.task = raw.task;
  if (raw.initial !== undefined && type === 'compound') state.initial = raw.initial;
  if (raw.sla !== undefined) Object.assign(state, normalizeSla(raw.sla));
  if (raw.assignment !== undefined) state.assignment = raw.assignment;
  return state;
}

/** Absolute path of `target` seen from a state whose parent is `parentPath`; unchanged if none. */
export function resolveTarget(
  target: string,
  parentPath: string | undefined,
  paths: ReadonlySet<string>,
): string {
  if (parentPath) {
    const relative = `${parentPath}.${target}`;
    if (paths.has(relative)) return relative;
  }
  return target;
}

function normalizeTransition(
  raw: RawTransition,
  event: string,
  pointer: string,
  resolve: (target: string) => string,
  actions: (list: RawAction[] | undefined, pointer: string) => ActionIR[],
): TransitionIR {
  const roles = raw.roles === undefined ? [] : typeof raw.roles === 'string' ? [raw.roles] : raw.roles;
  const t: TransitionIR = {
    event,
    roles,
    actions: actions(raw.actions, pointer),
    clauses: raw.clauses ?? [],
    pointer,
  };
  if (raw.target !== undefined) t.target = resolve(raw.target);
  if (raw.guard !== undefined) t.guard = raw.guard;
  if (raw.data !== undefined) t.data = raw.data;
  return t;
}

function normalizeDelayed(
  raw: RawDelayed,
  pointer: string,
  resolve: (target: string) => string,
  actions: (list: RawAction[] | undefined, pointer: string) => ActionIR[],
): DelayedTransitionIR {
  const t: DelayedTransitionIR = {
    delay: raw.delay,
    actions: actions(raw.actions, pointer),
    clauses: raw.clauses ?? [],
    pointer,
  };
  if (raw.target !== undefined) t.target = resolve(raw.target);
  if (raw.guard !== undefined) t.guard = raw.guard;
  return t;
}

function normalizeEventless(
  raw: RawEventless,
  pointer: string,
  resolve: (target: string) => string,
  actions: (list: RawAction[] | undefined, pointer: string) => ActionIR[],
): EventlessTransitionIR {
  const t: EventlessTransitionIR = {
    actions: actions(raw.actions, pointer),
    clauses: raw.clauses ?? [],
    pointer,
  };
  if (raw.target !== undefined) t.target = resolve(raw.target);
  if (raw.guard !== undefined) t.guard = raw.guard;
  return t;
}

/** The actions of one transition, each by its kind's module; unknown kinds are listed, not kept. */
function normalizeActions(
  list: RawAction[] | undefined,
  pointer: string,
  unknownActions: UnknownAction[],
): ActionIR[] {
  const out: ActionIR[] = [];
  (list ?? []).forEach((raw, i) => {
    const action = normalizeAction(raw);
    if ('unknown' in action)
      unknownActions.push({
        pointer: joinPointer(pointer, 'actions', i, action.unknown),
        key: action.unknown,
      });
    else out.push(action);
  });
  return out;
}

function normalizeDuty(raw: { event: string; distinct_from: string[]; message?: Text }): DutyRule {
  const rule: DutyRule = { event: raw.event, distinctFrom: raw.distinct_from };
  if (raw.message) rule.message = raw.message;
  return rule;
}

function normalizeInvariant(raw: Dict<unknown> & { id: string; kind: InvariantIR['kind'] }): InvariantIR {
  const { differs_from: differsFrom, ...rest } = raw;
  return {
    clauses: [],
    ...rest,
    ...(differsFrom !== undefined ? { differsFrom } : {}),
  } as unknown as InvariantIR;
}
