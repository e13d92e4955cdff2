/**
 * The executor of `deploy_definition` effects: the approval step of a four-eyes deployment (the
 * `definition_change` procedure). It deploys the pinned text through the one deploy path
 * (`prepareDeployment` + `commitDeployment`: validated and proved again against the definitions
 * current now, version new and higher) and sends the outcome back into the instance, as the engine
 * (`$custodia`, role `deployer`), as `DEPLOYED` or `DEPLOY_FAILED` — all or nothing: a refused
 * deployment writes no version.
 *
 * Idempotent by (workflowId, transition): a retry finds the version already deployed with this very
 * content (`ALREADY_DEPLOYED` → `DEPLOYED`), and the outcome update has a fixed update id, so the
 * instance takes it once; an outcome it no longer accepts (finished) was delivered before.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type { DeployDefinitionEffect } from '../../workflows/core/actions/index.ts';
import { DEPLOY_REPORTER_ROLE, DEPLOYING_PROCEDURE } from '../../workflows/core/actions/deploy-definition.ts';
import type { Actor } from '../../workflows/core/ir.ts';
import { actorSigner, type ActorSigner } from '../actor-keys.ts';
import type { LoadedDefinition } from '../definitions.ts';
import { createDraftPool, DraftPoolBusy, DraftTooCostly, type AssessDraftAsync } from '../draft-pool.ts';
import { commitDeployment, DeployRefused, prepareDeployment } from '../deploy.ts';
import { log } from '../log.ts';
import type { EffectSite } from './effects.ts';
import { reportToInstance } from './report.ts';

/** The engine as the actor of a deployment's outcome (no directory user can have this id). */
export const ENGINE_ACTOR: Actor = { id: '$custodia', roles: [DEPLOY_REPORTER_ROLE] };

/** What a worker needs to deploy approved definitions. */
export interface DeploymentDeps {
  /** The process's current definitions (the deployed version becomes current in it). */
  definitions: Map<string, LoadedDefinition>;
  /** Told after a version was deployed (e.g. to sync its schedule); failures are logged. */
  onDeployed?: (def: LoadedDefinition) => Promise<void>;
  /** How drafts are assessed (default: a draft thread of this process, off the worker's thread). */
  assess?: AssessDraftAsync;
  /** Who signs the engine's outcome event (default: this process's actor key). */
  signer?: () => ActorSigner;
}

/** The outcome sent back into the proposal. */
export type DeploymentOutcome =
  | { type: 'DEPLOYED'; data: { hash: string } }
  | { type: 'DEPLOY_FAILED'; data: { code: string; reason: string } };

let pool: ReturnType<typeof createDraftPool> | undefined;
const defaultAssess: AssessDraftAsync = (yaml, file, known) =>
  (pool ??= createDraftPool()).assess(yaml, file, known);

/** Hex SHA-256 of a text (UTF-8), as a proposal pins it. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

const failed = (code: string, reason: string): DeploymentOutcome => ({
  type: 'DEPLOY_FAILED',
  data: { code, reason: reason.slice(0, 4000) },
});

/** Deploy the approved text as `by` (writes the version or nothing); the outcome to send back. */
export async function deployApproved(
  effect: DeployDefinitionEffect,
  by: string,
  file: string,
  store: EffectSite['deps']['store'],
  d: DeploymentDeps,
): Promise<DeploymentOutcome> {
  if (sha256Hex(effect.yaml) !== effect.sha256)
    return failed('HASH_MISMATCH', `the text does not hash to the approved SHA-256 ${effect.sha256}`);
  let prepared;
  try {
    prepared = await prepareDeployment(store, d.definitions, effect.yaml, file, d.assess ?? defaultAssess);
  } catch (err) {
    if (err instanceof DeployRefused) {
      // This very content is deployed: an earlier attempt of this effect (or an identical change).
      if (err.code === 'ALREADY_DEPLOYED' && err.definition)
        return { type: 'DEPLOYED', data: { hash: err.definition.hash } };
      const first = err.diagnostics.find((x) => x.severity === 'error');
      return failed(err.code, first ? `${err.message}: ${first.code} ${first.message}` : err.message);
    }
    if (err instanceof DraftTooCostly) return failed('DEFINITION_TOO_COSTLY', err.message);
    if (err instanceof DraftPoolBusy) throw err; // retried
    throw err;
  }
  try {
    const result = await commitDeployment(store, d.definitions, prepared, effect.yaml, by);
    try {
      await d.onDeployed?.(result.definition);
    } catch (err) {
      log().error('after a deployment', { error: String(err) });
    }
    return { type: 'DEPLOYED', data: { hash: result.definition.hash } };
  } catch (err) {
    if (err instanceof DeployRefused) return failed(err.code, err.message);
    throw err;
  }
}

/** `beforeCommit` of `deploy_definition`: deploy, then send the outcome into the instance. */
export async function executeDeployDefinition(
  effect: DeployDefinitionEffect,
  site: EffectSite,
): Promise<undefined> {
  const { commit, deps } = site;
  // Only the engine's own procedure deploys (loading refuses the action elsewhere); an IR from
  // elsewhere that carries it deploys nothing.
  if (commit.procedure !== DEPLOYING_PROCEDURE) {
    log().error('deploy_definition ignored outside definition_change', {
      workflowId: commit.workflowId,
      procedure: commit.procedure,
    });
    return undefined;
  }
  const d = deps.deployments;
  // Retryable: a worker wired to deploy picks it up (a worker without definitions cannot).
  if (!d)
    throw ApplicationFailure.retryable(
      `this worker does not deploy definitions (approved change ${commit.workflowId})`,
      'DeploymentUnavailable',
    );
  const by = commit.record.actor.id;
  const outcome = await deployApproved(effect, by, `${commit.workflowId}.yaml`, deps.store, d);
  if (outcome.type === 'DEPLOY_FAILED')
    log().error('approved definition change not deployed', {
      workflowId: commit.workflowId,
      ...outcome.data,
    });
  await reportToInstance(site, outcome, ENGINE_ACTOR, (d.signer ?? actorSigner)());
  return undefined;
}
