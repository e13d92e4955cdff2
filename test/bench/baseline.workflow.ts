/**
 * Benchmark baseline: the procedure of `bench-review.yaml` written by hand as a plain Temporal
 * workflow, doing the same work per step as the generic interpreter `procedure`:
 *
 * - the same update `event` ({ type, data, actor } → { state, leaves, seq, done, available });
 * - a synchronous validator with the same checks (finished, actor shape, known event, the state
 *   takes it, roles, separation of duties, data schema with ajv compiled once per instance, the
 *   guard as plain TypeScript), rejecting with the same `EventRejected` failures;
 * - the same state timer: a cancellable sleep of P2D started on entering `reviewing`, cancelled
 *   on leaving it (firing moves to `expired`);
 * - the same search-attribute upsert per transition (state, roles awaited, state since, SLA due);
 * - the same audit-record activity per transition (start included), drained in order by the
 *   main loop;
 * - the same continue-as-new check (never reached in the benchmark; kept so the loop is equal).
 *
 * Nothing here is generic: states, roles, schemas and guards are constants, which is what a
 * hand-written workflow would do.
 */
import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { Actor, EventInput, Json } from '../../workflows/core/ir.ts';
import type { TransitionRecord } from '../../workflows/core/runtime.ts';
import { eventUpdate, type EventResult, type TransitionCommit } from '../../workflows/api.ts';
import {
  CustodiaAwaiting,
  CustodiaDueAt,
  CustodiaState,
  CustodiaStateSince,
} from '../../workflows/search-attributes.ts';

export const BASELINE_WORKFLOW_TYPE = 'baselineReview';

export interface BaselineActivities {
  /** Write one transition's audit record (the records store's `commit`, no effects). */
  recordTransition(commit: TransitionCommit): Promise<void>;
}

export interface BaselineInput {
  /** Identifies the definition in the audit record, like the interpreter's (hash of the YAML). */
  procedure: string;
  version: string;
  hash: string;
  context: { client: string };
  starter: Actor;
}

export interface BaselineResult {
  state: string;
  seq: number;
  rounds: number;
}

const { recordTransition } = proxyActivities<BaselineActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

type StateName = 'drafting' | 'reviewing' | 'approved' | 'expired';
type EventName = 'SUBMIT' | 'RETURN' | 'APPROVE';

const CLAUSES = ['4.2.2'];
const DAY = 24 * 60 * 60 * 1000;
const REVIEW_SLA_MS = DAY; // sla: P1D
const REVIEW_EXPIRY_MS = 2 * DAY; // after: P2D
const EXPIRY_LABEL = 'after P2D';
const UPDATES_PER_RUN = 1000;

/** Which role may send what, per state. */
const ON: Record<StateName, Partial<Record<EventName, { target: StateName; roles: string[] }>>> = {
  drafting: { SUBMIT: { target: 'reviewing', roles: ['project_staff'] } },
  reviewing: {
    RETURN: { target: 'drafting', roles: ['quality_manager'] },
    APPROVE: { target: 'approved', roles: ['quality_manager'] },
  },
  approved: {},
  expired: {},
};
const AWAITING: Record<StateName, string[]> = {
  drafting: ['project_staff'],
  reviewing: ['quality_manager'],
  approved: [],
  expired: [],
};
const FINAL: Record<StateName, boolean> = {
  drafting: false,
  reviewing: false,
  approved: true,
  expired: true,
};
/** Separation of duties: the sender of the key may not have sent any of the listed events. */
const DUTIES: Partial<Record<EventName, EventName[]>> = { APPROVE: ['SUBMIT'], RETURN: ['SUBMIT'] };
const EVENTS: EventName[] = ['SUBMIT', 'RETURN', 'APPROVE'];

const SCHEMAS: Record<EventName, Record<string, unknown>> = {
  SUBMIT: {
    type: 'object',
    required: ['summary'],
    properties: { summary: { type: 'string', minLength: 3 } },
    additionalProperties: false,
  },
  RETURN: {
    type: 'object',
    required: ['comment'],
    properties: { comment: { type: 'string' } },
    additionalProperties: false,
  },
  APPROVE: { type: 'object', maxProperties: 0 },
};

function reject(code: string, message: string): never {
  throw ApplicationFailure.nonRetryable(message, 'EventRejected', code);
}

export async function baselineReview(input: BaselineInput): Promise<BaselineResult> {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false, validateSchema: false });
  const validators = {} as Record<EventName, ValidateFunction>;
  for (const e of EVENTS) validators[e] = ajv.compile(SCHEMAS[e]);

  const { workflowId } = workflowInfo();
  let state: StateName = 'drafting';
  let seq = 0;
  let since = Date.now();
  const context: { client: string; summary?: string; comment?: string; rounds: number } = {
    client: input.context.client,
    rounds: 0,
  };
  const actors: Record<string, string[]> = {};
  const pending: TransitionCommit[] = [];
  let updatesThisRun = 0;

  const commitOf = (record: TransitionRecord): TransitionCommit => ({
    workflowId,
    procedure: input.procedure,
    version: input.version,
    hash: input.hash,
    client: context.client,
    record,
    effects: [],
  });

  const syncSearchAttributes = (): void => {
    upsertSearchAttributes([
      { key: CustodiaState, value: [state] },
      { key: CustodiaAwaiting, value: AWAITING[state] },
      { key: CustodiaStateSince, value: new Date(since) },
      { key: CustodiaDueAt, value: state === 'reviewing' ? new Date(since + REVIEW_SLA_MS) : null },
    ]);
  };

  // The state timer of `reviewing`: started on entry, cancelled on exit.
  let expiry: CancellationScope | undefined;
  const enter = (next: StateName, now: number): void => {
    if (expiry) {
      expiry.cancel();
      expiry = undefined;
    }
    state = next;
    since = now;
    if (next === 'reviewing') {
      const scope = new CancellationScope();
      expiry = scope;
      scope
        .run(() => sleep(REVIEW_EXPIRY_MS))
        .then(
          () => {
            if (expiry !== scope || state !== 'reviewing') return;
            expiry = undefined;
            const at = Date.now();
            enter('expired', at);
            accept({
              seq: ++seq,
              at: new Date(at).toISOString(),
              event: EXPIRY_LABEL,
              actor: { id: 'timer', roles: [] },
              from: ['reviewing'],
              to: ['expired'],
              clauses: CLAUSES,
            });
          },
          (err: unknown) => {
            if (!isCancellation(err)) throw err;
          },
        );
    }
  };

  const accept = (record: TransitionRecord): void => {
    pending.push(commitOf(record));
    syncSearchAttributes();
  };

  const availableTo = (actor: Actor): string[] => {
    const out: string[] = [];
    for (const [type, t] of Object.entries(ON[state]) as [EventName, { roles: string[] }][]) {
      if (!t.roles.some((r) => actor.roles.includes(r))) continue;
      if ((DUTIES[type] ?? []).some((e) => actors[e]?.includes(actor.id))) continue;
      out.push(type); // the only guard (RETURN's) reads data: counts as possible
    }
    return out.sort();
  };

  const validate = (event: EventInput): void => {
    if (!event || typeof event !== 'object' || typeof event.type !== 'string')
      reject('BAD_EVENT', 'an event needs { type, actor, data? }');
    if (FINAL[state]) reject('INSTANCE_FINISHED', 'this instance has finished; it takes no events');
    const actor = event.actor as Partial<Actor> | undefined;
    if (!actor || typeof actor.id !== 'string' || !actor.id || !Array.isArray(actor.roles))
      reject('BAD_ACTOR', 'an event needs an actor { id, roles[] }');
    const type = event.type as EventName;
    if (!EVENTS.includes(type)) reject('UNKNOWN_EVENT', `bench_review has no event ${event.type}`);
    const t = ON[state][type];
    if (!t) reject('CANNOT_TAKE', `${type} cannot be sent in state ${state}`);
    if (!t.roles.some((r) => actor.roles!.includes(r)))
      reject(
        'ROLE_NOT_ALLOWED',
        `${actor.id} may not send ${type} in state ${state}; allowed roles: ${t.roles.join(', ')}`,
      );
    const other = (DUTIES[type] ?? []).find((e) => actors[e]?.includes(actor.id!));
    if (other)
      reject(
        'DUTY_CONFLICT',
        `separation of duties: ${actor.id} sent ${other}, so ${actor.id} may not send ${type}`,
      );
    const check = validators[type];
    if (!check(event.data ?? {}))
      reject(
        'INVALID_DATA',
        `${type} data rejected: ${(check.errors ?? []).map((e) => `${e.instancePath} ${e.message}`).join('; ')}`,
      );
    if (type === 'RETURN' && !(String(event.data?.comment ?? '').length > 0))
      reject('GUARD_FALSE', 'RETURN refused: condition not met: size(data.comment) > 0');
  };

  // Start (before the handler: an update buffered with the start runs inside setHandler): the audit record of the start, and the search attributes of the first state.
  enter('drafting', since);
  accept({
    seq: 0,
    at: new Date(since).toISOString(),
    event: '$start',
    actor: input.starter,
    from: [],
    to: [state],
    clauses: CLAUSES,
    data: input.context,
  });

  setHandler(
    eventUpdate,
    (event: EventInput): EventResult => {
      validate(event); // as the interpreter does, re-check at apply time
      updatesThisRun++;
      const type = event.type as EventName;
      const data = (event.data ?? {}) as Record<string, Json>;
      const from = state;
      const seen = actors[type] ?? [];
      if (!seen.includes(event.actor.id)) actors[type] = [...seen, event.actor.id];
      if (type === 'SUBMIT') {
        context.summary = data.summary as string;
        context.rounds += 1;
      } else if (type === 'RETURN') context.comment = data.comment as string;
      const now = Date.now();
      enter(ON[from][type]!.target, now);
      const record: TransitionRecord = {
        seq: ++seq,
        at: new Date(now).toISOString(),
        event: type,
        actor: event.actor,
        from: [from],
        to: [state],
        clauses: CLAUSES,
      };
      if (Object.keys(data).length) record.data = data;
      accept(record);
      return {
        state,
        leaves: [state],
        seq,
        done: FINAL[state],
        available: FINAL[state] ? [] : availableTo(event.actor),
      };
    },
    { validator: validate },
  );

  for (;;) {
    await condition(
      () =>
        pending.length > 0 ||
        (FINAL[state] && allHandlersFinished()) ||
        updatesThisRun >= UPDATES_PER_RUN ||
        workflowInfo().continueAsNewSuggested,
    );
    while (pending.length > 0) {
      await recordTransition(pending[0]!);
      pending.shift();
    }
    if (FINAL[state] && allHandlersFinished() && pending.length === 0) break;
    if (!FINAL[state] && (updatesThisRun >= UPDATES_PER_RUN || workflowInfo().continueAsNewSuggested))
      throw ApplicationFailure.nonRetryable('the benchmark baseline does not continue-as-new', 'BenchLimit');
  }
  return { state, seq, rounds: context.rounds };
}
