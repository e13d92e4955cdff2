/**
 * The executor of `lookup` effects (`workflows/core/actions/lookup.ts`): read the register's rows
 * of the instance's client (never another client's), choose the row valid on the transition's
 * date, and send the outcome back into the instance as the engine (`$custodia`, role `registry`)
 * — the `found` event with the row's fields, or the `missing` event with the reason.
 *
 * Idempotent by (workflowId, transition, action): the outcome update has a fixed update id, so a
 * retried commit delivers one outcome; the date is the transition's, not the retry's. An outcome
 * the instance no longer takes (it moved on, or finished) was delivered before.
 */
import type { LookupEffect } from '../../workflows/core/actions/index.ts';
import { ENGINE_ACTOR_ID, LOOKUP_ROLE } from '../../workflows/core/actions/lookup.ts';
import type { Actor, Json } from '../../workflows/core/ir.ts';
import { actorSigner } from '../actor-keys.ts';
import { log } from '../log.ts';
import { chooseLookupRow } from '../records/register-lookup.ts';
import type { EffectSite } from './effects.ts';
import { reportToInstance } from './report.ts';

/** The engine as the actor of a lookup's outcome. */
export const LOOKUP_ACTOR: Actor = { id: ENGINE_ACTOR_ID, roles: [LOOKUP_ROLE] };

/** The outcome event of a lookup for this instance's client on the transition's date. */
export async function lookupOutcome(
  effect: LookupEffect,
  { commit, deps }: Pick<EffectSite, 'commit' | 'deps'>,
): Promise<{ type: string; data: Record<string, Json> }> {
  const date = commit.record.at.slice(0, 10);
  // Client isolation: an instance without a client sees no register row.
  const rows = commit.client ? await deps.store.lookupRows(effect.register, commit.client) : [];
  const outcome = chooseLookupRow(rows, effect, date);
  return outcome.found
    ? { type: effect.found, data: outcome.fields }
    : { type: effect.missing, data: { reason: outcome.reason } };
}

/** `beforeCommit` of `lookup`: look up, then send the outcome into the instance. */
export async function executeLookup(effect: LookupEffect, site: EffectSite): Promise<undefined> {
  const { commit } = site;
  const outcome = await lookupOutcome(effect, site);
  log().info('register lookup', {
    workflowId: commit.workflowId,
    register: effect.register,
    outcome: outcome.type,
  });
  await reportToInstance(site, outcome, LOOKUP_ACTOR, actorSigner());
  return undefined;
}
