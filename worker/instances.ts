/**
 * Client-side operations on procedure instances, shared by the CLI, the activities, the
 * benchmark and the HTTP API: start one, send it an event, read its snapshot.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, type SearchAttributePair } from '@temporalio/common';
import {
  WORKFLOW_TYPE,
  eventUpdate,
  snapshotQuery,
  type EventResult,
  type ProcedureInput,
  type ProcedureSnapshot,
  type SignedEventInput,
} from '../workflows/api.ts';
import type { Actor, EventInput, Json, ProcedureIR } from '../workflows/core/ir.ts';
import { startRefusal, type StartRefusal } from '../workflows/core/start-fields.ts';
import { CustodiaClient, CustodiaProcedure, CustodiaVersion } from '../workflows/search-attributes.ts';
import { EVENT_ASSERTION_TTL_MS, type ActorSigner } from './actor-keys.ts';
import type { LoadedDefinition } from './definitions.ts';
import { calendarInput } from './calendars.ts';

/** The search attributes known when an instance starts (the workflow keeps the rest current). */
export function startSearchAttributes(ir: ProcedureIR, context: Record<string, Json>): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [
    { key: CustodiaProcedure, value: ir.id },
    { key: CustodiaVersion, value: ir.version },
  ];
  const client = ir.clientField ? context[ir.clientField] : undefined;
  if (typeof client === 'string' && client) pairs.push({ key: CustodiaClient, value: client });
  return pairs;
}

export interface StartOptions {
  context: Record<string, Json>;
  starter: Actor;
  taskQueue: string;
  workflowId?: string;
}

/** Start an instance of a validated definition; returns its workflow id. */
export async function startProcedure(
  client: Client,
  def: LoadedDefinition,
  opts: StartOptions,
): Promise<string> {
  // The workflow refuses it too (core/start-fields.ts); refused here, nothing is started.
  const refusal = startRefusal(def.ir, opts.context, opts.starter);
  if (refusal) throw new StartRefused(refusal);
  const workflowId = opts.workflowId ?? `${def.ir.id}-${randomUUID().slice(0, 8)}`;
  const input: ProcedureInput = {
    ir: def.ir,
    hash: def.hash,
    context: opts.context,
    starter: opts.starter,
    ...calendarInput(def.ir),
  };
  await client.workflow.start(WORKFLOW_TYPE, {
    taskQueue: opts.taskQueue,
    workflowId,
    args: [input],
    typedSearchAttributes: startSearchAttributes(def.ir, opts.context),
  });
  return workflowId;
}

/** A start refused before anything was started: a non-input field set, or no start role. */
export class StartRefused extends Error {
  override name = 'StartRefused';
  constructor(readonly refusal: StartRefusal) {
    super(refusal.message);
  }
}

/** An event the instance refused; `code` is the engine's rejection code. */
export class EventRejected extends Error {
  override name = 'EventRejected';
  constructor(
    message: string,
    readonly code: string,
    /** The same message in Chinese, when the engine gave one. */
    readonly zh?: string,
  ) {
    super(message);
  }
}

/**
 * `event` with an assertion, signed by `signer`, that its actor acts on `workflowId` (for a
 * couple of minutes). Only for an actor the caller has authenticated: the API's signed-in user,
 * a directory user checked by the CLI.
 */
export function signedEvent(signer: ActorSigner, workflowId: string, event: EventInput): SignedEventInput {
  const assertion = signer.sign(event.actor, { workflowId, ttlMs: EVENT_ASSERTION_TTL_MS });
  return { ...event, assertion };
}

/**
 * Send an event (the `event` update); the engine refuses it (`BAD_ACTOR`) unless it carries an
 * assertion for its actor (`signedEvent`). A refusal throws `EventRejected` with the engine's reason.
 */
export async function sendEvent(
  client: Client,
  workflowId: string,
  event: SignedEventInput,
  /** A fixed update id, so Temporal takes a repeated send once (an activity's retry). */
  updateId?: string,
): Promise<EventResult> {
  try {
    return await client.workflow
      .getHandle(workflowId)
      .executeUpdate(eventUpdate, { args: [event], ...(updateId ? { updateId } : {}) });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
      const rejected = err.cause.type === 'EventRejected';
      const code = rejected ? String(err.cause.details?.[0] ?? 'REJECTED') : err.cause.type;
      const zh = rejected ? err.cause.details?.[1] : undefined;
      throw new EventRejected(err.cause.message, code ?? 'REJECTED', typeof zh === 'string' ? zh : undefined);
    }
    throw err;
  }
}

export async function getSnapshot(client: Client, workflowId: string): Promise<ProcedureSnapshot> {
  return client.workflow.getHandle(workflowId).query(snapshotQuery);
}

/** Parse `USER:ROLE[,ROLE]` (the CLI's `--as`). */
export function parseActor(text: string): Actor {
  const i = text.indexOf(':');
  const id = (i < 0 ? text : text.slice(0, i)).trim();
  const roles =
    i < 0
      ? []
      : text
          .slice(i + 1)
          .split(',')
          .map((r) => r.trim())
          .filter(Boolean);
  if (!id) throw new Error(`--as needs USER:ROLE[,ROLE], got "${text}"`);
  return { id, roles };
}

/** Wait for an instance to finish; its final snapshot. */
export async function instanceResult(client: Client, workflowId: string): Promise<ProcedureSnapshot> {
  return (await client.workflow.getHandle(workflowId).result()) as ProcedureSnapshot;
}
