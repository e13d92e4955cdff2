/**
 * The executors of transition effects, one per effect kind (`Effect['kind']`, from the action
 * kinds in `workflows/core/actions/`): the map is typed over the kinds, so a new kind does not
 * compile until it has an executor here.
 *
 * `commitTransition` runs each effect's `beforeCommit` in order, then one records-store
 * transaction writes the audit record and the effect rows (named records, notifications, links).
 * Everything is idempotent by `(workflowId, seq, index)`: a retry never duplicates anything.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { Effect } from '../../workflows/core/actions/index.ts';
import type { ChildLink, ProcedureInput, TransitionCommit } from '../../workflows/api.ts';
import { FAILURE_TYPES, WORKFLOW_TYPE } from '../../workflows/api.ts';
import type { LoadedDefinition } from '../definitions.ts';
import type { RecordsStore } from '../records/store.ts';
import { startSearchAttributes } from '../instances.ts';
import { log } from '../log.ts';
import { compileSchemas, formatProblems, type SchemaSet } from '../../workflows/core/schemas.ts';
import { unstorableText } from '../../workflows/core/storable.ts';
import { startRefusal } from '../../workflows/core/start-fields.ts';
import type { ProcedureIR } from '../../workflows/core/ir.ts';
import { executeDeployDefinition, type DeploymentDeps } from './deploy-definition.ts';
import { calendarInput } from '../calendars.ts';
import { executeLookup } from './lookup.ts';

export interface ActivityDeps {
  store: RecordsStore;
  client: Client;
  taskQueue: string;
  /** The deployed definitions, by procedure id (for `start` effects). */
  definition(id: string): LoadedDefinition | undefined;
  /** Deploying approved definition changes (`deploy_definition`); absent: this worker cannot. */
  deployments?: DeploymentDeps;
}

/** Where one effect sits: its transition and its 1-based index among that transition's effects. */
export interface EffectSite {
  commit: TransitionCommit;
  index: number;
  deps: ActivityDeps;
}

/** How one kind of effect is carried out. */
export interface EffectExecutor<E extends Effect> {
  /**
   * The part outside the records store, before the commit transaction (e.g. starting an
   * instance); returns the instance it started, if any. Must be idempotent.
   */
  beforeCommit(effect: E, site: EffectSite): Promise<ChildLink | undefined>;
}

/** Written by the records store in the commit's transaction (`RecordsStore.commit`); nothing before. */
const inCommitTransaction = (): Promise<undefined> => Promise.resolve(undefined);

/** Compiled start schemas, by definition (a deployed IR object is not changed). */
const startSchemas = new WeakMap<ProcedureIR, SchemaSet>();

/**
 * Why the started procedure would refuse this input (the checks `startInstance` makes), or
 * undefined. Deploy proves most inputs fit (`start-input.ts`); this catches the rest before a
 * child is started that would fail at once with nobody told.
 */
export function startInputRefusal(ir: ProcedureIR, input: Record<string, unknown>): string | undefined {
  const unstorable = unstorableText(input);
  if (unstorable) return `start input rejected: ${unstorable}`;
  const refusal = startRefusal(ir, input, { id: '', roles: [] }, { linked: true });
  if (refusal) return refusal.message;
  let schemas = startSchemas.get(ir);
  if (!schemas) startSchemas.set(ir, (schemas = compileSchemas(ir)));
  const problems = schemas.startInputProblems(input);
  return problems.length ? `start input rejected: ${formatProblems(problems)}` : undefined;
}

/**
 * Start the procedure as a linked instance, with a workflow id a retry finds again. An input the
 * procedure refuses starts nothing: the link comes back `failed` with the reason, so the parent's
 * snapshot (`children`) and its transition's audit record carry it (never a child that fails unseen).
 */
async function startLinkedInstance(
  effect: Extract<Effect, { kind: 'start' }>,
  { commit, index, deps }: EffectSite,
): Promise<ChildLink> {
  const def = deps.definition(effect.procedure);
  // Retryable on purpose: the instance must not fail; the start happens once it is deployed.
  // (Loading refuses definitions that start unknown procedures, so this is a deployment race.)
  if (!def)
    throw ApplicationFailure.retryable(
      `procedure "${effect.procedure}" (started by ${commit.procedure}) is not deployed on this worker`,
      FAILURE_TYPES.procedureNotDeployed,
    );
  const workflowId = `${effect.procedure}-from-${commit.workflowId}-${commit.record.seq}-${index}`;
  const input: ProcedureInput = {
    ir: def.ir,
    hash: def.hash,
    context: effect.input,
    starter: commit.record.actor,
    parent: { workflowId: commit.workflowId, seq: commit.record.seq },
    ...calendarInput(def.ir),
  };
  const refusal = startInputRefusal(def.ir, effect.input);
  if (refusal) {
    log().error('linked start refused', {
      procedure: effect.procedure,
      workflowId: commit.workflowId,
      seq: commit.record.seq,
      reason: refusal,
    });
    return { workflowId, procedure: effect.procedure, seq: commit.record.seq, failed: refusal };
  }
  try {
    await deps.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: deps.taskQueue,
      workflowId,
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: startSearchAttributes(def.ir, effect.input),
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return { workflowId, procedure: effect.procedure, seq: commit.record.seq };
}

/** Every effect kind's executor. */
export const EFFECT_EXECUTORS = {
  record: { beforeCommit: inCommitTransaction },
  notify: { beforeCommit: inCommitTransaction },
  start: { beforeCommit: startLinkedInstance },
  deploy_definition: { beforeCommit: executeDeployDefinition },
  lookup: { beforeCommit: executeLookup },
} satisfies { [K in Effect['kind']]: EffectExecutor<Extract<Effect, { kind: K }>> };

/** Run `effect`'s executor (one place that pairs an effect with its kind's executor). */
export function beforeCommit(effect: Effect, site: EffectSite): Promise<ChildLink | undefined> {
  const executor = EFFECT_EXECUTORS[effect.kind] as EffectExecutor<Effect>;
  return executor.beforeCommit(effect, site);
}
